"""moltbot-log-http: registers the ``http`` log sink."""

from collections.abc import Iterator

import moltbot


@moltbot.hookimpl
def moltbot_register_log_sinks() -> Iterator[moltbot.LogSinkSpec]:
    from moltbot_log_http.sink import HttpSink, HttpSinkConfig

    yield moltbot.LogSinkSpec(
        name="http",
        factory=HttpSink,
        config=HttpSinkConfig,
        summary="Batched JSON POSTs to a log collector, with retry and a bounded queue",
    )
