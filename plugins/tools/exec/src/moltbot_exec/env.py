"""The environment a command gets: an allowlist of harmless variables, nothing else.

No gateway token, no API keys, nothing that changes how a shell or loader starts (``LD_PRELOAD``,
``BASH_ENV``, ``ZDOTDIR``...). A workspace ``.env`` is never read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

ALLOWED = frozenset(
    {"PATH", "HOME", "LANG", "LANGUAGE", "TERM", "TZ", "USER", "LOGNAME", "SHELL", "TMPDIR", "COLORTERM"}
    | {"NO_COLOR", "COLUMNS", "LINES"}
)
ALLOWED_PREFIXES = ("LC_",)
SECRET = re.compile(r"(TOKEN|SECRET|PASSWORD|PASSWD|API_?KEY|CREDENTIAL|PRIVATE_KEY)", re.IGNORECASE)
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"


def scrub_env(source: Mapping[str, str], pass_env: Iterable[str] = ()) -> dict[str, str]:
    """The allowlisted variables of ``source`` plus the ``pass_env`` names the user configured."""
    extra = set(pass_env)
    env = {
        name: value
        for name, value in source.items()
        if name in extra
        or ((name in ALLOWED or name.startswith(ALLOWED_PREFIXES)) and not SECRET.search(name))
    }
    env.setdefault("PATH", DEFAULT_PATH)
    return env
