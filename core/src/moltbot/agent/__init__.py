"""The agent: workspace prompt, the model/tool loop, per-session lanes, events and traces.

``app.services["agent"]`` is an :class:`AgentRuntime`; see docs/agent.md.
"""

from moltbot.agent.lanes import QUEUE_MODES, Run
from moltbot.agent.runtime import AgentRuntime

__all__ = ["QUEUE_MODES", "AgentRuntime", "Run"]
