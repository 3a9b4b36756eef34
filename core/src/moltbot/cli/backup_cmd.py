"""``moltbot backup``: create, list, verify, restore and prune state archives."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from moltbot.cli.state import CliState, pass_state
from moltbot.ops.backup import BackupError, Sources, backup_dir, create_backup, list_archives, prune, restore
from moltbot.ops.backup.layout import created_at
from moltbot.ops.backup.restore import RestorePlan
from moltbot.ops.backup.verify import verify
from moltbot.ops.cli_support import load_context
from moltbot.ops.context import OpsContext
from moltbot.ops.portcheck import bind_host, listener_of, port_in_use

PROGRESS_MIN_BYTES = 50 * 1024 * 1024


def _dir(ctx: OpsContext, override: Path | None) -> Path:
    return override or backup_dir(ctx.get("backup.dir"), ctx.state_dir)


def sources_for(ctx: OpsContext, directory: Path) -> Sources:
    return Sources(
        state=ctx.state_dir, config=ctx.paths.config_path, workspace=ctx.workspace(), exclude=(directory,)
    )


@click.group("backup")
def backup_command() -> None:
    """Archives of config, workspace and state (sessions, credentials, logs)."""


@backup_command.command("create")
@click.option(
    "--dir", "directory", type=click.Path(path_type=Path), help="Where to write (default backup.dir)."
)
@pass_state
def create_cmd(state: CliState, directory: Path | None) -> None:
    """Write a new archive; safe while the gateway runs."""
    ctx = load_context(state)
    target = _dir(ctx, directory)
    bar: Any = None
    total = {"bytes": 0}

    def on_total(n: int) -> None:
        total["bytes"] = n
        nonlocal bar
        if sys.stderr.isatty() and n >= PROGRESS_MIN_BYTES:
            bar = click.progressbar(length=n, label="backing up", file=sys.stderr)
            bar.__enter__()

    try:
        path = create_backup(
            sources_for(ctx, target),
            target,
            on_total=on_total,
            progress=lambda n: bar.update(n) if bar else None,
        )
    finally:
        if bar is not None:
            bar.__exit__(None, None, None)
    click.echo(f"created {path} ({path.stat().st_size} bytes, {total['bytes']} bytes of data)")


@backup_command.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.option("--dir", "directory", type=click.Path(path_type=Path))
@pass_state
def list_cmd(state: CliState, as_json: bool, directory: Path | None) -> None:
    """List archives, oldest first."""
    rows = [
        {"path": str(p), "size": p.stat().st_size, "createdAt": created_at(p).isoformat()}
        for p in list_archives(_dir(load_context(state), directory))
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    for row in rows:
        click.echo(f"{row['createdAt']}  {row['size']:>12}  {row['path']}")
    if not rows:
        click.echo("no backups yet (moltbot backup create)")


def _resolve(ctx: OpsContext, archive: str) -> Path:
    path = Path(archive).expanduser()
    if not path.exists() and (_dir(ctx, None) / archive).exists():
        path = _dir(ctx, None) / archive
    if not path.is_file():
        raise click.ClickException(f"no such archive: {archive}")
    return path


@backup_command.command("verify")
@click.argument("archive")
@click.option("--json", "as_json", is_flag=True)
@pass_state
def verify_cmd(state: CliState, archive: str, as_json: bool) -> None:
    """Check hashes and refuse unsafe members; exits 1 when the archive fails."""
    path = _resolve(load_context(state), archive)
    try:
        manifest = verify(path)
    except BackupError as exc:
        if as_json:
            click.echo(json.dumps({"ok": False, "path": str(path), "problems": exc.problems or [str(exc)]}))
        else:
            click.echo(str(exc), err=True)
        raise SystemExit(1) from None
    files = [e for e in manifest["entries"] if e["type"] == "file"]
    if as_json:
        click.echo(
            json.dumps(
                {
                    "ok": True,
                    "path": str(path),
                    "files": len(files),
                    "totalBytes": manifest["totalBytes"],
                    "createdAt": manifest["createdAt"],
                }
            )
        )
    else:
        click.echo(
            f"{path}: ok ({len(files)} files, {manifest['totalBytes']} bytes, {manifest['createdAt']})"
        )


def _gateway_running(ctx: OpsContext) -> str | None:
    port = ctx.port()
    host = bind_host(ctx.get("gateway.bind", "loopback"), ctx.get("gateway.customBindHost"))
    try:
        if not port_in_use(host, port):
            return None
    except OSError:
        return None
    owner = listener_of(port)
    return f"port {port} is in use" + (f" by pid {owner.pid} ({owner.name})" if owner and owner.pid else "")


@backup_command.command("restore")
@click.argument("archive")
@click.option("--target", type=click.Path(path_type=Path), help="Restore under this dir instead of in place.")
@click.option(
    "--force", is_flag=True, help="Replace existing data (it is renamed *.pre-restore-*, not deleted)."
)
@pass_state
def restore_cmd(state: CliState, archive: str, target: Path | None, force: bool) -> None:
    """Restore an archive after verifying it."""
    ctx = load_context(state)
    path = _resolve(ctx, archive)
    if target is not None:
        plan = RestorePlan(state=target / "state", config=target / "config", workspace=target / "workspace")
    else:
        running = _gateway_running(ctx)
        if running and not (
            sys.stdin.isatty()
            and click.confirm(f"the gateway seems to be running ({running}); restore anyway?", default=False)
        ):
            raise click.ClickException(
                f"the gateway seems to be running ({running}); stop it first, "
                "or restore elsewhere with --target"
            )
        plan = RestorePlan(
            state=ctx.state_dir,
            config=ctx.paths.config_path.parent,
            workspace=ctx.workspace(),
            carry=(_dir(ctx, None),),
        )
    try:
        manifest = restore(path, plan, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"restored {len(manifest['entries'])} entries from {path}")
    for aside in plan.moved_aside:
        click.echo(f"previous data kept at {aside}")


@backup_command.command("prune")
@click.option("--keep", type=click.IntRange(min=0), help="Keep the newest N archives.")
@click.option("--dry-run", is_flag=True, help="Only print what would be deleted.")
@click.option("--dir", "directory", type=click.Path(path_type=Path))
@pass_state
def prune_cmd(state: CliState, keep: int | None, dry_run: bool, directory: Path | None) -> None:
    """Delete archives beyond --keep N, or older than backup.retentionDays (default 30)."""
    ctx = load_context(state)
    doomed = prune(
        _dir(ctx, directory),
        keep=keep,
        retention_days=int(ctx.get("backup.retentionDays", 30)),
        now=datetime.now(UTC),
        dry_run=dry_run,
    )
    verb = "would delete" if dry_run else "deleted"
    for path in doomed:
        click.echo(f"{verb} {path}")
    click.echo(f"{verb} {len(doomed)} archive(s)")
