"""Backups: byte-identical round trips, consistency under a live writer, refusal of hostile
archives, overwrite protection, prune, and the CLI."""

from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import tarfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from moltbot.ops.backup import BackupError, Sources, create_backup, list_archives, prune, restore, verify
from moltbot.ops.backup.layout import archive_name
from moltbot.ops.backup.restore import RestorePlan


def tree(root: Path) -> dict[str, bytes | str]:
    """Every file's bytes and every symlink's target, by relative path."""
    out: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


@pytest.fixture
def world(tmp_path: Path) -> Sources:
    state, ws, etc = tmp_path / "state", tmp_path / "ws", tmp_path / "etc"
    (state / "agents" / "main" / "sessions").mkdir(parents=True)
    (state / "credentials").mkdir()
    (state / "agents" / "main" / "sessions" / "a.jsonl").write_bytes(b'{"n": 1}\n{"n": 2}\n')
    (state / "credentials" / "creds.json").write_bytes(os.urandom(4096))
    (state / "empty.bin").write_bytes(b"")
    (state / "link-inside").symlink_to("credentials/creds.json")
    (state / "link-outside").symlink_to("/etc/passwd")
    (state / "backups").mkdir()
    (state / "backups" / "old.tar.gz").write_bytes(b"not me")
    (ws / "notes").mkdir(parents=True)
    (ws / "notes" / "todo.md").write_text("- ship it\n")
    etc.mkdir()
    (etc / "moltbot.json").write_text('{"gateway": {"port": 18789}}')
    return Sources(state=state, config=etc / "moltbot.json", workspace=ws, exclude=(state / "backups",))


def test_round_trip_is_byte_identical(world: Sources, tmp_path: Path):
    archive = create_backup(world, tmp_path / "out")
    manifest = verify(archive)
    assert manifest["format"] == "moltbot-backup" and manifest["moltbotVersion"]
    files = {e["path"]: e for e in manifest["entries"] if e["type"] == "file"}
    creds = (world.state / "credentials" / "creds.json").read_bytes()
    assert files["state/credentials/creds.json"]["sha256"] == hashlib.sha256(creds).hexdigest()
    assert files["state/credentials/creds.json"]["size"] == 4096
    assert not any(p.startswith("state/backups") for p in files)
    assert [s["path"] for s in manifest["skipped"]] == ["state/link-outside"]
    target = tmp_path / "restored"
    restore(archive, RestorePlan(state=target / "state", config=target / "config", workspace=target / "ws"))
    expected_state = {
        k: v for k, v in tree(world.state).items() if not k.startswith(("backups", "link-outside"))
    }
    assert tree(target / "state") == expected_state
    assert tree(target / "ws") == tree(world.workspace)
    assert (target / "config" / "moltbot.json").read_bytes() == world.config.read_bytes()
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    assert not [p for p in archive.parent.iterdir() if p.name.endswith(".partial")]


def test_restore_refuses_to_overwrite_without_force(world: Sources, tmp_path: Path):
    archive = create_backup(world, tmp_path / "out")
    (world.state / "agents" / "main" / "sessions" / "a.jsonl").write_text("changed\n")
    plan = RestorePlan(
        state=world.state,
        config=world.config.parent,
        workspace=world.workspace,
        carry=(world.state / "backups",),
    )
    with pytest.raises(BackupError, match="refusing to overwrite"):
        restore(archive, plan)
    assert (world.state / "agents" / "main" / "sessions" / "a.jsonl").read_text() == "changed\n"
    restore(archive, plan, force=True)
    assert (world.state / "agents" / "main" / "sessions" / "a.jsonl").read_bytes() == b'{"n": 1}\n{"n": 2}\n'
    assert (world.state / "backups" / "old.tar.gz").read_bytes() == b"not me"  # carried over
    aside = [p for p in plan.moved_aside if p.name.startswith("state.pre-restore-")]
    assert aside and (aside[0] / "agents" / "main" / "sessions" / "a.jsonl").read_text() == "changed\n"


WRITER = r"""
import json, os, sys, time
path = sys.argv[1]
n = 0
with open(path, "ab", buffering=0) as f:
    while True:
        line = json.dumps({"n": n, "pad": "x" * (500 + n % 1500)}).encode() + b"\n"
        half = len(line) // 2
        f.write(line[:half])
        time.sleep(0.0005)
        f.write(line[half:])
        n += 1
"""


def test_backup_during_appends_restores_complete_lines(world: Sources, tmp_path: Path):
    transcript = world.state / "agents" / "main" / "sessions" / "live.jsonl"
    transcript.touch()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(transcript)])
    try:
        deadline = time.monotonic() + 10
        while transcript.stat().st_size < 50_000 and time.monotonic() < deadline:
            time.sleep(0.01)
        archives = [create_backup(world, tmp_path / "out") for _ in range(4)]
    finally:
        writer.terminate()
        writer.wait()
    for i, archive in enumerate(archives):
        target = tmp_path / f"r{i}"
        restore(archive, RestorePlan(state=target / "state", config=target / "c", workspace=target / "w"))
        data = (target / "state" / "agents" / "main" / "sessions" / "live.jsonl").read_bytes()
        assert data and data.endswith(b"\n")
        numbers = [json.loads(line)["n"] for line in data.splitlines()]
        assert numbers == list(range(len(numbers)))


def _manifest(entries: list[dict]) -> dict:
    return {
        "format": "moltbot-backup",
        "formatVersion": 1,
        "createdAt": "x",
        "moltbotVersion": "0",
        "roots": {},
        "entries": entries,
        "skipped": [],
        "truncatedJsonl": [],
        "totalBytes": 0,
    }


def _hostile(
    path: Path, members: list[tuple[tarfile.TarInfo, bytes]], entries: list[dict] | None = None
) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for info, data in members:
            info.size = len(data) if info.isreg() else 0
            tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
        listed = (
            entries
            if entries is not None
            else [
                {"path": i.name, "type": "file", "size": len(d), "sha256": hashlib.sha256(d).hexdigest()}
                for i, d in members
                if i.isreg()
            ]
        )
        data = json.dumps(_manifest(listed)).encode()
        info = tarfile.TarInfo("manifest.json")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return path


def _member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.mode = kind, link, 0o644
    return info


HOSTILE = {
    "traversal": ([(_member("state/../../evil"), b"x")], "traversal"),
    "absolute": ([(_member("/tmp/evil"), b"x")], "absolute"),
    "outside-roots": ([(_member("etc/passwd"), b"x")], "outside state/"),
    "symlink-escape": ([(_member("state/link", tarfile.SYMTYPE, "../../../etc"), b"")], "leaves state/"),
    "symlink-absolute": ([(_member("state/link", tarfile.SYMTYPE, "/etc"), b"")], "leaves state/"),
    "hardlink": (
        [(_member("state/a"), b"x"), (_member("state/b", tarfile.LNKTYPE, "state/a"), b"")],
        "hard link",
    ),
    "device": ([(_member("state/dev", tarfile.CHRTYPE), b"")], "device file"),
    "fifo": ([(_member("state/fifo", tarfile.FIFOTYPE), b"")], "device file, FIFO"),
}


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_archives_are_refused(tmp_path: Path, kind: str):
    members, reason = HOSTILE[kind]
    archive = _hostile(tmp_path / f"{kind}.tar.gz", members)
    with pytest.raises(BackupError) as info:
        verify(archive)
    assert any(reason in problem for problem in info.value.problems), info.value.problems
    target = tmp_path / "t"
    with pytest.raises(BackupError):
        restore(archive, RestorePlan(state=target / "state", config=target / "c", workspace=target / "w"))
    assert not (tmp_path / "evil").exists() and not target.exists()


def test_member_not_in_manifest_and_hash_mismatch(tmp_path: Path):
    extra = _hostile(tmp_path / "extra.tar.gz", [(_member("state/a"), b"x")], entries=[])
    with pytest.raises(BackupError, match="not listed"):
        verify(extra)
    wrong = _hostile(
        tmp_path / "wrong.tar.gz",
        [(_member("state/a"), b"x")],
        entries=[{"path": "state/a", "type": "file", "size": 1, "sha256": "0" * 64}],
    )
    with pytest.raises(BackupError, match="SHA-256"):
        verify(wrong)
    missing = _hostile(
        tmp_path / "missing.tar.gz",
        [],
        entries=[{"path": "state/gone", "type": "file", "size": 1, "sha256": "0" * 64}],
    )
    with pytest.raises(BackupError, match="missing"):
        verify(missing)


def test_huge_declared_size_is_refused(tmp_path: Path):
    """A header claiming 10 GB with a few bytes of data behind it: truncated, refused."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w") as tar:
        info = _member("state/huge")
        info.size = 4
        tar.addfile(info, io.BytesIO(b"abcd"))
    data = bytearray(raw.getvalue())
    header = tarfile.TarInfo("state/huge")
    header.size, header.mode = 10 * 1024**3, 0o644
    data[:512] = header.tobuf(format=tarfile.GNU_FORMAT)[:512]
    import gzip

    archive = tmp_path / "huge.tar.gz"
    archive.write_bytes(gzip.compress(bytes(data)))
    with pytest.raises(BackupError):
        verify(archive)


def test_not_an_archive(tmp_path: Path):
    bogus = tmp_path / "x.tar.gz"
    bogus.write_bytes(b"hello")
    with pytest.raises(BackupError, match="damaged"):
        verify(bogus)


def test_prune_by_count_and_age(tmp_path: Path):
    out = tmp_path / "out"
    out.mkdir()
    now = datetime(2026, 6, 1, tzinfo=UTC)
    for days in (1, 10, 40, 90):
        (out / archive_name(now - timedelta(days=days))).write_bytes(b"x")
    (out / "unrelated.tar.gz").write_bytes(b"keep")
    assert len(prune(out, retention_days=30, now=now, dry_run=True)) == 2
    assert len(list_archives(out)) == 4
    assert len(prune(out, retention_days=30, now=now)) == 2
    assert [p.name for p in list_archives(out)] == [archive_name(now - timedelta(days=d)) for d in (10, 1)]
    prune(out, keep=1)
    assert [p.name for p in list_archives(out)] == [archive_name(now - timedelta(days=1))]
    assert (out / "unrelated.tar.gz").exists()


def test_cli_create_list_verify_restore_prune(moltbot_home: Path, write_cfg, run_cli, tmp_path: Path):
    with socket.socket() as probe:  # a port no gateway listens on, so restore sees none running
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    write_cfg(
        {
            "gateway": {"port": free_port},
            "agents": {"defaults": {"workspace": str(tmp_path / "ws")}},
            "backup": {"retentionDays": 7},
        }
    )
    (tmp_path / "ws").mkdir()
    (tmp_path / "ws" / "MEMORY.md").write_text("remember\n")
    (moltbot_home / "agents").mkdir()
    (moltbot_home / "agents" / "t.jsonl").write_text('{"a": 1}\n')
    created = run_cli("backup", "create")
    assert created.exit_code == 0, created.output
    [archive] = list_archives(moltbot_home / "backups")
    listed = json.loads(run_cli("backup", "list", "--json").output)
    assert [row["path"] for row in listed] == [str(archive)]
    assert json.loads(run_cli("backup", "verify", archive.name, "--json").output)["ok"] is True
    refused = run_cli("backup", "restore", str(archive))
    assert refused.exit_code != 0 and "refusing to overwrite" in refused.output
    target = tmp_path / "restored"
    assert run_cli("backup", "restore", str(archive), "--target", str(target)).exit_code == 0
    assert (target / "workspace" / "MEMORY.md").read_text() == "remember\n"
    assert (target / "state" / "agents" / "t.jsonl").read_text() == '{"a": 1}\n'
    assert "deleted 0" in run_cli("backup", "prune").output
    assert "deleted 1" in run_cli("backup", "prune", "--keep", "0").output


def test_cli_restore_in_place_refuses_while_gateway_port_is_taken(moltbot_home, write_cfg, run_cli, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        write_cfg({"gateway": {"port": sock.getsockname()[1]}})
        run_cli("backup", "create")
        [archive] = list_archives(moltbot_home / "backups")
        result = run_cli("backup", "restore", str(archive), "--force")
    assert result.exit_code != 0 and "gateway seems to be running" in result.output


def test_cli_verify_rejects_hostile(tmp_path, run_cli):
    archive = _hostile(tmp_path / "bad.tar.gz", HOSTILE["traversal"][0])
    result = run_cli("backup", "verify", str(archive), "--json")
    assert result.exit_code == 1 and json.loads(result.output)["ok"] is False


def test_partial_last_line_is_left_out_and_recorded(world: Sources, tmp_path: Path):
    transcript = world.state / "agents" / "main" / "sessions" / "a.jsonl"
    transcript.write_bytes(b'{"n": 1}\n{"n": 2}\n{"n": 3, "half')
    archive = create_backup(world, tmp_path / "out")
    manifest = verify(archive)
    assert manifest["truncatedJsonl"] == ["state/agents/main/sessions/a.jsonl"]
    target = tmp_path / "r"
    restore(archive, RestorePlan(state=target / "state", config=target / "c", workspace=target / "w"))
    assert (
        target / "state" / "agents" / "main" / "sessions" / "a.jsonl"
    ).read_bytes() == b'{"n": 1}\n{"n": 2}\n'
