"""moltbot-log-file: registers the ``file`` log sink (``logging.transports[].type = "file"``)."""

from collections.abc import Iterator

import moltbot


@moltbot.hookimpl
def moltbot_register_log_sinks() -> Iterator[moltbot.LogSinkSpec]:
    from moltbot_log_file.sink import FileSink, FileSinkConfig

    yield moltbot.LogSinkSpec(
        name="file",
        factory=FileSink,
        config=FileSinkConfig,
        summary="JSON lines on disk, rotated by size, pruned by age, optionally gzipped",
    )
