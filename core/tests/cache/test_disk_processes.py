"""Several processes on one cache file: concurrent writers, and kill -9 in the middle of writing."""

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from moltbot.cache.disk import DiskBackend, DiskCacheConfig
from moltbot.testing import build_context

WRITER = textwrap.dedent(
    """
    import sys, trio
    from pathlib import Path
    from moltbot.cache.disk import DiskBackend, DiskCacheConfig
    from moltbot.testing import build_context

    async def main():
        backend = DiskBackend(DiskCacheConfig(), build_context(Path(sys.argv[1]), "cache"))
        i = 0
        while True:
            await backend.set(f"crash:{i}", (f"value-{i}-" * 50).encode(), None)
            print(i, flush=True)  # acknowledged: committed before this line
            i += 1

    trio.run(main)
    """
)

PEER = textwrap.dedent(
    """
    import sys, trio
    from pathlib import Path
    from moltbot.cache.disk import DiskBackend, DiskCacheConfig
    from moltbot.testing import build_context

    async def main():
        backend = DiskBackend(DiskCacheConfig(), build_context(Path(sys.argv[1]), "cache"))
        name = sys.argv[2]
        for i in range(200):
            await backend.set(f"{name}:{i}", f"{name}-{i}".encode(), None)
            if i % 50 == 0:
                await backend.clear(f"{name}-scratch:")
        await backend.aclose()

    trio.run(main)
    """
)


@pytest.mark.slow
async def test_killed_writer_leaves_every_acknowledged_write_readable(tmp_path):
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    acknowledged = -1
    try:
        for line in writer.stdout:
            acknowledged = int(line)
            if acknowledged >= 300:
                break
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    assert writer.returncode == -signal.SIGKILL
    assert acknowledged >= 300, "the writer died before writing"
    backend = DiskBackend(DiskCacheConfig(), build_context(tmp_path, "cache"))
    for i in range(acknowledged + 1):
        assert await backend.get(f"crash:{i}") == (f"value-{i}-" * 50).encode()
    assert backend.quarantined == []
    await backend.set("crash:after", b"still writable", None)
    assert await backend.get("crash:after") == b"still writable"
    await backend.aclose()


@pytest.mark.slow
async def test_processes_writing_at_once_all_succeed_and_see_each_other(tmp_path):
    peers = [
        subprocess.Popen(
            [sys.executable, "-c", PEER, str(tmp_path), f"p{n}"], stderr=subprocess.PIPE, text=True
        )
        for n in range(3)
    ]
    local = DiskBackend(DiskCacheConfig(), build_context(tmp_path, "cache"))
    for i in range(200):
        await local.set(f"parent:{i}", b"mine", None)
    for peer in peers:
        _, errors = peer.communicate(timeout=60)
        assert peer.returncode == 0, errors
    for n in range(3):
        for i in range(200):
            assert await local.get(f"p{n}:{i}") == f"p{n}-{i}".encode()
    stats = await local.stats()
    assert stats["entries"] == 800 and set(stats["namespaces"]) == {"parent", "p0", "p1", "p2"}
    await local.aclose()
