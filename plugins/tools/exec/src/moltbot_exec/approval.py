"""Whether a command may run: ``tools.exec.security`` and ``ask``, the allowlist, and operators.

``security: deny`` refuses everything; ``full`` runs anything; ``allowlist`` runs commands that
match ``tools.exec.allowlist``. A miss asks an operator when ``ask`` is ``on-miss``; ``always``
asks for every command. When nobody can approve, or the answer is deny or late, the command is
refused. Commands with shell operators or expansions never match the allowlist.
"""

from __future__ import annotations

import fnmatch
import shlex

from moltbot.config.model import ExecToolConfig
from moltbot.interfaces.tool import ApprovalRequest, ToolContext, ToolError

SHELL_META = frozenset(";&|<>$`(){}[]*?!~#\\\n\r")


def normalize(command: str) -> str | None:
    """The command as one canonical line, or ``None`` if it is more than a simple command."""
    if any(c in SHELL_META for c in command):
        return None
    try:
        return shlex.join(shlex.split(command))
    except ValueError:
        return None


def allowlisted(command: str, patterns: list[str]) -> str | None:
    """The allowlist entry ``command`` matches, if any."""
    simple = normalize(command)
    if simple is None:
        return None
    for pattern in patterns:
        if simple == pattern.strip() or fnmatch.fnmatchcase(simple, pattern.strip()):
            return pattern
    return None


async def authorize(ctx: ToolContext, config: ExecToolConfig, command: str, cwd: str) -> None:
    """Return if ``command`` may run; raise :class:`ToolError` explaining why not."""
    if config.security == "deny":
        raise ToolError("running commands is disabled (tools.exec.security is deny)")
    hit = config.security == "full" or allowlisted(command, config.allowlist) is not None
    if hit and config.ask != "always":
        return
    if not hit and config.ask == "off":
        raise ToolError(f"`{command}` is not in tools.exec.allowlist and tools.exec.ask is off; not run")
    why = "every command needs approval (tools.exec.ask is always)" if hit else "it is not allowlisted"
    if ctx.request_approval is None:
        raise ToolError(
            f"`{command}` needs an operator's approval ({why}) and nobody can approve here; not run"
        )
    decision = await ctx.request_approval(
        ApprovalRequest(
            tool="exec",
            description=f"run `{command}` in {cwd}",
            command=command,
            cwd=cwd,
            force=config.ask == "always",
        )
    )
    if decision == "deny":
        raise ToolError(f"`{command}` was not approved (denied, or no answer in time); not run")
