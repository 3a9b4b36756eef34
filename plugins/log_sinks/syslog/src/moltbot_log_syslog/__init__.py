"""moltbot-log-syslog: registers the ``syslog`` log sink."""

from collections.abc import Iterator

import moltbot


@moltbot.hookimpl
def moltbot_register_log_sinks() -> Iterator[moltbot.LogSinkSpec]:
    from moltbot_log_syslog.sink import SyslogConfig, SyslogSink

    yield moltbot.LogSinkSpec(
        name="syslog",
        factory=SyslogSink,
        config=SyslogConfig,
        summary="RFC 5424 syslog over UDP, TCP or a unix socket",
    )
