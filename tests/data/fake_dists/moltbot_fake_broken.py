"""A fake plugin whose import fails, as one with a missing dependency would."""

import moltbot_dependency_that_is_not_installed  # noqa: F401
