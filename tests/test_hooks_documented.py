"""Every hook has a section in docs/plugins/hooks.md whose heading is its exact signature."""

import inspect
import re
from pathlib import Path

import pytest

from moltbot import hookspecs

DOC = Path(__file__).resolve().parents[1] / "docs" / "plugins" / "hooks.md"
HOOKS = sorted(n for n in dir(hookspecs) if n.startswith("moltbot_"))


def signature(name):
    params = inspect.signature(getattr(hookspecs, name)).parameters
    return f"{name}({', '.join(params)})"


@pytest.mark.parametrize("hook", HOOKS)
def test_hook_is_documented(hook):
    headings = re.findall(r"^### `?([^`\n]+)`?$", DOC.read_text(), flags=re.M)
    assert signature(hook) in headings, f"add a '### {signature(hook)}' section to {DOC.name}"


def test_every_hookspec_has_a_docstring_with_an_example():
    for hook in HOOKS:
        doc = getattr(hookspecs, hook).__doc__ or ""
        assert "Example:" in doc, hook
