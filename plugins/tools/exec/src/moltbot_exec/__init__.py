"""moltbot-exec: registers the ``exec`` and ``process`` tools. Heavy imports stay in the factories."""

from collections.abc import Iterator
from typing import Any

import moltbot


def _exec(config: Any, ctx: moltbot.BuildContext) -> moltbot.Tool:
    from moltbot_exec.tools import ExecTool

    return ExecTool(config, ctx)


def _process(config: Any, ctx: moltbot.BuildContext) -> moltbot.Tool:
    from moltbot_exec.tools import ProcessTool

    return ProcessTool(config, ctx)


@moltbot.hookimpl
def moltbot_register_tools() -> Iterator[moltbot.ToolSpec]:
    yield moltbot.ToolSpec(name="exec", factory=_exec, summary="Run a shell command in the workspace")
    yield moltbot.ToolSpec(name="process", factory=_process, summary="Manage background exec processes")
