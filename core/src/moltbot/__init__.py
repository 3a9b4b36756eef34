"""moltbot: a self-hosted personal AI assistant.

This module is the plugin author's API: the ``hookimpl`` marker, the spec records that
registration hooks return, the interface per extension kind, and the errors.
"""

import pluggy

hookimpl = pluggy.HookimplMarker("moltbot")
"""Marks a function as an implementation of a moltbot hook (see :mod:`moltbot.hookspecs`)."""

from moltbot.config.base import NoConfig, StrictModel  # noqa: E402
from moltbot.config.model import ChannelConfig  # noqa: E402
from moltbot.errors import (  # noqa: E402
    BusyError,
    ConfigError,
    MoltbotError,
    PluginConflictError,
    PluginError,
    PluginLoadError,
)
from moltbot.interfaces import (  # noqa: E402
    Alert,
    AlertSink,
    CacheBackend,
    ChannelCapabilities,
    ChannelFatalError,
    ChatChannel,
    GatewayEndpoint,
    InboundMessage,
    LogRecord,
    LogSink,
    Media,
    ModelProvider,
    OutboundMessage,
    ProviderError,
    RpcContext,
    RpcError,
    Service,
    Tool,
    ToolContext,
    ToolError,
    ToolResult,
    Transport,
)
from moltbot.specs import (  # noqa: E402
    AlertSinkSpec,
    BuildContext,
    CacheBackendSpec,
    ChannelSpec,
    CommandSpec,
    LogSinkSpec,
    MethodSpec,
    ModelProviderSpec,
    RouteSpec,
    ServiceSpec,
    ToolSpec,
    TransportSpec,
)

__version__ = "0.1.0"

__all__ = [
    "Alert",
    "AlertSink",
    "AlertSinkSpec",
    "BuildContext",
    "BusyError",
    "CacheBackend",
    "CacheBackendSpec",
    "ChannelCapabilities",
    "ChannelConfig",
    "ChannelFatalError",
    "ChannelSpec",
    "ChatChannel",
    "CommandSpec",
    "ConfigError",
    "GatewayEndpoint",
    "InboundMessage",
    "LogRecord",
    "LogSink",
    "LogSinkSpec",
    "Media",
    "MethodSpec",
    "ModelProvider",
    "ModelProviderSpec",
    "MoltbotError",
    "NoConfig",
    "OutboundMessage",
    "PluginConflictError",
    "PluginError",
    "PluginLoadError",
    "ProviderError",
    "RouteSpec",
    "RpcContext",
    "RpcError",
    "Service",
    "ServiceSpec",
    "StrictModel",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolResult",
    "ToolSpec",
    "Transport",
    "TransportSpec",
    "__version__",
    "hookimpl",
]
