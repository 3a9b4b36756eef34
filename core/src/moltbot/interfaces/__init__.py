"""One interface per extension kind. Plugins implement these; core drives them."""

from moltbot.interfaces.alert_sink import Alert, AlertSink
from moltbot.interfaces.cache import CacheBackend
from moltbot.interfaces.channel import (
    ChannelCapabilities,
    ChannelFatalError,
    ChatChannel,
    InboundMessage,
    Media,
    Origin,
    OutboundMessage,
)
from moltbot.interfaces.log_sink import LogRecord, LogSink
from moltbot.interfaces.provider import (
    AuthProfile,
    ChatMessage,
    Done,
    ModelProvider,
    ModelRequest,
    ProviderError,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallEvent,
    ToolSchema,
    Usage,
)
from moltbot.interfaces.rpc import Accepted, RpcContext, RpcError
from moltbot.interfaces.service import Service
from moltbot.interfaces.tool import Tool, ToolContext, ToolError, ToolResult
from moltbot.interfaces.transport import GatewayEndpoint, Transport

__all__ = [
    "Accepted",
    "Alert",
    "AlertSink",
    "AuthProfile",
    "CacheBackend",
    "ChannelCapabilities",
    "ChannelFatalError",
    "ChatChannel",
    "ChatMessage",
    "Done",
    "GatewayEndpoint",
    "InboundMessage",
    "LogRecord",
    "LogSink",
    "Media",
    "ModelProvider",
    "ModelRequest",
    "Origin",
    "OutboundMessage",
    "ProviderError",
    "RpcContext",
    "RpcError",
    "Service",
    "StreamEvent",
    "TextDelta",
    "Tool",
    "ToolCall",
    "ToolCallEvent",
    "ToolContext",
    "ToolError",
    "ToolResult",
    "ToolSchema",
    "Transport",
    "Usage",
]
