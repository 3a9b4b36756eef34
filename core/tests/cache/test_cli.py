"""``moltbot cache stats|clear`` against the disk backend in a temporary state dir."""

import json
import socket

import pytest
import trio
from click.testing import CliRunner
from pydantic import ValidationError

from moltbot.cache.codec import cache_key
from moltbot.cache.disk import DiskBackend, DiskCacheConfig
from moltbot.cli import cli
from moltbot.testing import build_context


@pytest.fixture
def state(moltbot_home):
    async def fill():
        backend = DiskBackend(DiskCacheConfig(), build_context(moltbot_home, "cache"))
        for i in range(3):
            await backend.set(cache_key("sessions", str(i)), b"{}", None)
        await backend.set(cache_key("models", "list"), b"[]", None)
        await backend.aclose()

    trio.run(fill)
    return moltbot_home


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


NO_GATEWAY = f"ws://127.0.0.1:{closed_port()}"


def run(state, *args):
    if args[0] == "stats":  # never ask a gateway some other process runs on the default port
        args = (*args, "--url", NO_GATEWAY)
    return CliRunner().invoke(cli, ["--no-plugins", "--state-dir", str(state), "cache", *args])


def test_stats_counts_entries_per_namespace(state):
    result = run(state, "stats", "--json")
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    assert stats["source"] == "backend" and "memory" not in stats
    assert stats["backend"] == "disk" and stats["entries"] == 4
    assert stats["namespaces"]["sessions"]["entries"] == 3
    text = run(state, "stats")
    assert text.output.startswith(f"source: the backend alone (no gateway answered at {NO_GATEWAY})")
    assert "entries: 4" in text.output and "sessions: 3" in text.output


def test_clear_one_namespace_then_everything(state):
    result = run(state, "clear", "--namespace", "sessions")
    assert result.exit_code == 0, result.output
    assert "removed 3 entries from namespace 'sessions'" in result.output
    assert json.loads(run(state, "stats", "--json").output)["namespaces"] == {
        "models": {"entries": 1, "bytes": len(cache_key("models", "list")) + 2}
    }
    assert "removed 1 entries from the cache" in run(state, "clear").output


def test_bad_namespace_is_a_usage_error(state):
    result = run(state, "clear", "--namespace", "Not:Valid")
    assert result.exit_code == 2
    assert "namespace" in result.output


def test_stats_of_a_fresh_state_dir_creates_no_file(moltbot_home):
    result = run(moltbot_home, "stats", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["entries"] == 0
    assert not (moltbot_home / "cache").exists()


def test_unusable_backend_is_a_one_line_error(moltbot_home):
    moltbot_home.mkdir(parents=True)
    not_a_dir = moltbot_home / "plain-file"
    not_a_dir.write_text("x")
    (moltbot_home / "moltbot.json").write_text(
        json.dumps({"cache": {"config": {"path": str(not_a_dir / "cache.sqlite3")}}})
    )
    result = CliRunner().invoke(cli, ["--state-dir", str(moltbot_home), "cache", "clear"])
    assert result.exit_code == 1
    assert "the cache backend failed: FileExistsError" in result.output


def test_cache_path_must_be_a_dedicated_database_file():
    with pytest.raises(ValidationError, match=r"must end with \.sqlite3"):
        DiskCacheConfig(path="~/.moltbot/moltbot.json")
