"""The configuration schema, following the seed's JSON shapes (camelCase keys on disk).

Durations are milliseconds, as in the seed (``requestTimeout: 30000``); memory limits are MB.
Plugin-owned sections (``channels.<name>``, ``logging.transports[].config``, ``cache.config``,
``monitoring.alertSinks[].config``) are checked against the owning plugin's model by
:mod:`moltbot.config.load`.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from moltbot.config.base import StrictModel
from moltbot.models.config import AgentModelConfig, ModelsConfig

DEFAULT_SANDBOX_ALLOWLIST = (
    "read",
    "write",
    "edit",
    "sessions_list",
    "sessions_history",
    "sessions_send",
)
DEFAULT_SANDBOX_DENYLIST = ("browser", "canvas", "nodes", "cron", "gateway")
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}


def parse_size(text: str) -> int:
    """``"100MB"`` -> bytes (binary units, as log rotation tools use)."""
    match = _SIZE_RE.match(text)
    if not match:
        raise ValueError(f"{text!r} is not a size; write it like '100MB', '512KB' or '1GB'")
    return int(float(match[1]) * _SIZE_UNITS[(match[2] or "B").upper()])


class AgentConfig(StrictModel):
    model: str | AgentModelConfig | None = None
    """``provider/model`` (e.g. ``anthropic/claude-3-5-sonnet-20241022``) or an alias, or
    ``{primary, fallbacks}``; see :mod:`moltbot.models.config`."""
    workspace: str = "~/clawd"
    max_steps: int = Field(24, ge=1, le=500)
    """Model calls one run may make (each tool round is one) before it stops with a notice."""
    timeout: int = Field(600000, ge=1000)
    """Milliseconds a run may take in total; then it ends with an error."""
    bootstrap_max_chars: int = Field(4000, ge=200)
    """Each workspace bootstrap file (AGENTS.md, SOUL.md, ...) is cut to this many characters."""
    context_tokens: int = Field(128000, ge=1000)
    """The context window assumed when ``models.providers.*.models.*.contextWindow`` is unset."""
    compaction_threshold: float = Field(0.8, gt=0.1, le=1.0)
    """Compact the session when its context reaches this share of the window."""
    keep_recent_tokens: int = Field(8000, ge=0)
    """Tokens of recent conversation kept verbatim when compacting."""


class QueueConfig(StrictModel):
    """``messages.queue``: what a message does when its session is already running a turn."""

    mode: Literal["steer", "followup", "collect", "interrupt"] = "steer"
    """``steer`` joins the running turn at its next step, ``followup`` runs after it,
    ``collect`` runs all waiting messages after it as one turn, ``interrupt`` aborts it."""
    cap: int = Field(20, ge=1)
    """Messages waiting per session; the oldest is dropped (and answered as aborted) beyond it."""


class MessagesConfig(StrictModel):
    queue: QueueConfig = QueueConfig()


class HttpEndpointConfig(StrictModel):
    enabled: bool = False


class HttpEndpointsConfig(StrictModel):
    chat_completions: HttpEndpointConfig = HttpEndpointConfig()
    """``POST /v1/chat/completions`` and ``GET /v1/models`` (an OpenAI-compatible agent API)."""


class GatewayHttpConfig(StrictModel):
    endpoints: HttpEndpointsConfig = HttpEndpointsConfig()


class AuthConfig(StrictModel):
    mode: Literal["token", "password", "none"] = "token"
    token: str | None = None
    password: str | None = None


class ControlUiConfig(StrictModel):
    enabled: bool = True
    allowed_origins: list[str] = Field(default_factory=list)
    """Browser origins allowed to open the WebSocket besides the gateway's own."""


class TailscaleConfig(StrictModel):
    mode: Literal["off", "serve", "funnel"] = "off"
    reset_on_exit: bool = True


class SslConfig(StrictModel):
    enabled: bool = False
    cert_path: str | None = None
    key_path: str | None = None


class GatewayConfig(StrictModel):
    port: int = Field(18789, ge=1, le=65535)
    bind: Literal["loopback", "lan", "custom"] = "loopback"
    custom_bind_host: str | None = None
    auth: AuthConfig = AuthConfig()
    control_ui: ControlUiConfig = ControlUiConfig()
    tailscale: TailscaleConfig = TailscaleConfig()
    ssl: SslConfig = SslConfig()
    trusted_proxies: list[str] = Field(default_factory=list)
    """Proxy addresses whose ``X-Forwarded-For`` is believed; nobody else's is."""
    http: GatewayHttpConfig = GatewayHttpConfig()
    """Optional HTTP APIs on the gateway port (off by default)."""


class ChannelGroupConfig(StrictModel):
    """One allowed group (or ``"*"`` for every group) of a channel."""

    require_mention: bool = True
    """Only messages that mention the bot (or reply to it) reach the agent."""


class ChannelConfig(StrictModel):
    """Settings every channel has. Channel plugins subclass this for their own keys."""

    enabled: bool = True
    dm_policy: Literal["pairing", "allowlist", "open", "disabled"] = "pairing"
    allow_from: list[str] = Field(default_factory=list)
    group_policy: Literal["allowlist", "open", "disabled"] = "allowlist"
    """``allowlist``: only groups listed in ``groups`` (``"*"`` = any); ``open``: any group."""
    groups: dict[str, ChannelGroupConfig] = Field(default_factory=dict)
    group_allow_from: list[str] = Field(default_factory=list)
    """Senders allowed in groups (empty: anyone in an allowed group); DM approvals never count."""
    accounts: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Several accounts of this service (``{work: {botToken: ...}}``): each one is the section's
    other keys overridden by its own (see :mod:`moltbot.config.accounts`)."""


class SandboxConfig(StrictModel):
    mode: Literal["off", "non-main", "all"] = "non-main"
    allowlist: list[str] = Field(default_factory=lambda: list(DEFAULT_SANDBOX_ALLOWLIST))
    denylist: list[str] = Field(default_factory=lambda: list(DEFAULT_SANDBOX_DENYLIST))


class AgentDefaults(StrictModel):
    workspace: str | None = None
    sandbox: SandboxConfig = SandboxConfig()


class AgentsConfig(StrictModel):
    defaults: AgentDefaults = AgentDefaults()


class PluginSection(StrictModel):
    """A ``{type, config}`` pair naming a plugin component and its settings."""

    type: str
    config: dict[str, Any] = Field(default_factory=dict)


class RetentionConfig(StrictModel):
    days: int = Field(14, ge=1)
    max_size: str = "100MB"

    @field_validator("max_size")
    @classmethod
    def _size(cls, value: str) -> str:
        parse_size(value)
        return value


class LoggingConfig(StrictModel):
    level: Literal["debug", "info", "warn", "error"] = "info"
    format: Literal["json", "text"] = "text"
    transports: list[PluginSection] = Field(default_factory=list)
    retention: RetentionConfig = RetentionConfig()
    redact_sensitive: bool = True
    redact_patterns: list[str] = Field(default_factory=list)


class RateLimitingConfig(StrictModel):
    enabled: bool = True
    requests_per_minute: int = Field(1200, ge=1)
    burst_size: int = Field(100, ge=1)


class GatewayPerformance(StrictModel):
    max_connections: int = Field(100, ge=1)
    connection_timeout: int = Field(15000, ge=100)
    request_timeout: int = Field(30000, ge=100)
    rate_limiting: RateLimitingConfig = RateLimitingConfig()
    max_payload: int = Field(25 * 1024 * 1024, ge=65536)
    """Largest WebSocket frame accepted after the handshake (bytes, OpenClaw's policy name)."""
    max_buffered_bytes: int = Field(8 * 1024 * 1024, ge=65536)
    """Bytes queued for one client before it is closed as a slow consumer."""
    tick_interval: int = Field(30000, ge=100)
    """How often connected clients get a ``tick`` event (ms)."""
    shutdown_timeout: int = Field(10000, ge=0)
    """How long a graceful shutdown waits for in-flight requests (ms)."""


class AgentsPerformance(StrictModel):
    max_concurrent_runs: int = Field(4, ge=1)
    session_cache_size: int = Field(100, ge=1)
    memory_limit: int = Field(1024, ge=16)
    """MB of process RSS above which new agent runs are refused (after a GC and cache shed)."""
    gc_threshold: int = Field(768, ge=16)
    """MB of process RSS above which the resource check collects garbage and sheds caches."""
    memory_requirement: int = Field(64, ge=0)
    """MB of available system memory an agent run needs to be admitted."""


class ExecPerformance(StrictModel):
    max_processes: int = Field(4, ge=1)
    timeout: int = Field(120000, ge=100)
    sandbox: bool = True
    memory_requirement: int = Field(32, ge=0)
    """MB of available system memory an exec process needs to be started."""


class BrowserPerformance(StrictModel):
    max_instances: int = Field(1, ge=0)
    memory_limit: int = Field(512, ge=16)
    timeout: int = Field(30000, ge=100)


class ToolsPerformance(StrictModel):
    exec: ExecPerformance = ExecPerformance()
    browser: BrowserPerformance = BrowserPerformance()


class ResourcesPerformance(StrictModel):
    """Admission checks on system state shared by every resource kind."""

    check_interval: int = Field(5000, ge=100)
    """Milliseconds between memory-pressure checks (GC, cache shedding)."""
    cpu_limit: float = Field(0.95, gt=0, le=1)
    """System CPU usage (0-1, over >= 5 s) above which new exec processes and browsers are
    refused; 1 disables the check. Agent runs are not held back by CPU."""
    disk_limit: float = Field(0.95, gt=0, le=1)
    """Usage (0-1) of the state dir's volume above which new resources are refused."""


class PerformanceConfig(StrictModel):
    gateway: GatewayPerformance = GatewayPerformance()
    agents: AgentsPerformance = AgentsPerformance()
    tools: ToolsPerformance = ToolsPerformance()
    resources: ResourcesPerformance = ResourcesPerformance()


class ThresholdsConfig(StrictModel):
    cpu_warning: float = Field(0.8, ge=0, le=1)
    cpu_critical: float = Field(0.95, ge=0, le=1)
    memory_critical: float = Field(0.9, ge=0, le=1)
    error_rate_critical: float = Field(0.1, ge=0, le=1)
    check_interval: int = Field(60000, ge=100)
    hysteresis: float = Field(0.05, ge=0, le=0.5)
    """An alert resolves only once the value is this far below its threshold (no flapping)."""


class MonitoringConfig(StrictModel):
    enabled: bool = True
    thresholds: ThresholdsConfig = ThresholdsConfig()
    alert_sinks: list[PluginSection] = Field(default_factory=list)
    """Where alerts go; the built-in ``log`` sink when empty."""
    repeat_minutes: int = Field(30, ge=1)
    """A still-firing alert is sent again at most this often."""
    sample_interval: int = Field(5000, ge=100)
    """How often the metrics service samples the host and the registry (ms)."""
    rate_window: int = Field(60000, ge=1000)
    """The sliding window for requests per second, error rate and network rates (ms)."""
    history_size: int = Field(200, ge=1)
    """Recent alerts kept under the state dir for ``moltbot alerts list``."""


class CacheConfig(StrictModel):
    enabled: bool = True
    backend: str = "disk"
    config: dict[str, Any] = Field(default_factory=dict)
    ttl: int = Field(300000, ge=1)
    memory_max_entries: int = Field(1000, ge=1)
    memory_max_bytes: int = Field(32 * 1024 * 1024, ge=1024)
    eviction_interval: int = Field(60000, ge=100)
    """Milliseconds between sweeps of expired entries from the memory level."""


class BackupConfig(StrictModel):
    dir: str | None = None
    """Where archives go; default ``<state dir>/backups`` (excluded from the archives)."""
    retention_days: int = Field(30, ge=1)
    """``moltbot backup prune`` and scheduled backups delete archives older than this."""
    schedule: str | None = None
    """Cron expression (local time) for backups inside the gateway, e.g. ``"0 3 * * *"``."""

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        from croniter import croniter

        if value is not None and not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression; write it like '0 3 * * *' (03:00 daily)")
        return value


class PluginsConfig(StrictModel):
    allow: list[str] | None = None
    """When set, only these third-party plugins load (built-ins always do)."""
    deny: list[str] = Field(default_factory=list)


class ResetConfig(StrictModel):
    """When a conversation starts afresh: never, daily at ``atHour`` (local time), or after
    ``idleMinutes`` without a message. With ``daily`` and ``idleMinutes`` both set, whichever
    expires first wins."""

    mode: Literal["none", "daily", "idle"] = "none"
    at_hour: int = Field(4, ge=0, le=23)
    idle_minutes: int | None = Field(None, ge=1, validate_default=True)

    @field_validator("idle_minutes")
    @classmethod
    def _idle_needs_minutes(cls, value: int | None, info: ValidationInfo) -> int | None:
        if value is None and info.data.get("mode") == "idle":
            raise ValueError("reset mode 'idle' needs idleMinutes (e.g. 120)")
        return value


class ResetByType(StrictModel):
    """Reset policies overriding ``session.reset`` for one kind of conversation."""

    dm: ResetConfig | None = None
    group: ResetConfig | None = None
    thread: ResetConfig | None = None


class SessionConfig(StrictModel):
    """How conversations map to sessions and when they reset (see docs/sessions.md)."""

    dm_scope: Literal["main", "per-peer", "per-channel-peer", "per-account-channel-peer"] = "per-channel-peer"
    """``per-channel-peer`` (default) gives every sender on every channel a private session;
    ``main`` shares the owner's main session across all DMs (OpenClaw's default)."""
    main_key: str = Field("main", pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    reset: ResetConfig = ResetConfig()
    reset_by_type: ResetByType = ResetByType()


_EXEC_ENV_FORBIDDEN = re.compile(
    r"^(LD_.*|DYLD_.*|ZDOTDIR|BASH_ENV|ENV|PYTHONSTARTUP|PYTHONPATH|PYTHONHOME|PERL5OPT|PERL5LIB|"
    r"RUBYOPT|NODE_OPTIONS|PROMPT_COMMAND|IFS|SHELLOPTS|BASHOPTS|GCONV_PATH|(MOLTBOT|CLAWDBOT)_.*)$"
)


class ExecToolConfig(StrictModel):
    """``tools.exec``: who may run which commands (the approval policy)."""

    security: Literal["deny", "allowlist", "full"] = "allowlist"
    ask: Literal["off", "on-miss", "always"] = "on-miss"
    allowlist: list[str] = Field(default_factory=list)
    """Commands run without asking: exact command lines or ``fnmatch`` patterns (``git log *``);
    a command with shell operators (``; | & $ `` ...) never matches."""
    approval_timeout: int = Field(120000, ge=1000)
    """How long an approval request waits for an operator (ms); then it is denied."""
    pass_env: list[str] = Field(default_factory=list)
    """Extra environment variables passed to commands besides the built-in allowlist."""
    sandbox_network: bool = False
    """Sandboxed commands may reach the network."""
    max_output_bytes: int = Field(200_000, ge=1024)

    @field_validator("pass_env")
    @classmethod
    def _no_injection(cls, value: list[str]) -> list[str]:
        bad = [name for name in value if _EXEC_ENV_FORBIDDEN.match(name)]
        if bad:
            raise ValueError(f"{', '.join(bad)} cannot be passed to commands (code injection or secrets)")
        return value


class ToolPolicyConfig(StrictModel):
    """A profile plus allow/deny lists of tool names, ``group:*`` names or ``*`` patterns."""

    profile: Literal["minimal", "coding", "messaging", "full"] | None = None
    allow: list[str] = Field(default_factory=list)
    """When non-empty, only these tools (deny still wins)."""
    deny: list[str] = Field(default_factory=list)


class ToolsConfig(ToolPolicyConfig):
    """``tools``: the global tool policy, per-agent overrides and exec approvals."""

    profile: Literal["minimal", "coding", "messaging", "full"] | None = "full"
    by_agent: dict[str, ToolPolicyConfig] = Field(default_factory=dict)
    """Per-agent narrowing, keyed by agent id; an agent's ``profile`` replaces the global one."""
    exec: ExecToolConfig = ExecToolConfig()
    max_read_bytes: int = Field(256_000, ge=1024)
    max_write_bytes: int = Field(2_000_000, ge=1024)


class Settings(StrictModel):
    """The whole configuration file."""

    schema_: str | None = Field(None, alias="$schema")
    agent: AgentConfig = AgentConfig()
    gateway: GatewayConfig = GatewayConfig()
    channels: dict[str, Any] = Field(default_factory=dict)
    agents: AgentsConfig = AgentsConfig()
    session: SessionConfig = SessionConfig()
    messages: MessagesConfig = MessagesConfig()
    logging: LoggingConfig = LoggingConfig()
    performance: PerformanceConfig = PerformanceConfig()
    monitoring: MonitoringConfig = MonitoringConfig()
    cache: CacheConfig = CacheConfig()
    backup: BackupConfig = BackupConfig()
    plugins: PluginsConfig = PluginsConfig()
    tools: ToolsConfig = ToolsConfig()
    models: ModelsConfig = ModelsConfig()
