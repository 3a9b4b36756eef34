"""Glue shared by the operator commands: building the context, printing reports, exit codes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import click

from moltbot.cli.state import CliState
from moltbot.daemon.envfile import env_file_path, read_env_file
from moltbot.ops.context import OpsContext
from moltbot.ops.findings import Report, Severity, apply_fixes, render_text


def load_context(state: CliState) -> OpsContext:
    """The config as the gateway service sees it: ``<state>/gateway.env`` under the process
    environment (see :mod:`moltbot.daemon.envfile`)."""
    env_file = env_file_path(state.paths.state_dir)
    try:
        env = {**read_env_file(env_file), **state.env}
    except (ValueError, OSError) as exc:
        ctx = OpsContext.load(state.paths, state.env, state.plugins)
        ctx.config_problems.append((str(env_file), str(exc)))
        return ctx
    return OpsContext.load(state.paths, env, state.plugins)


def home_of(state: CliState) -> Path:
    return Path(state.env.get("HOME") or Path.home()).expanduser()


def run_report(
    state: CliState,
    build: Callable[[OpsContext], Report],
    *,
    as_json: bool,
    fix: bool,
    fail_on: tuple[Severity, ...],
) -> None:
    """Build the report; with ``fix`` apply the safe fixes and rebuild it, so what is printed is
    what remains. Exits 1 when a finding of a ``fail_on`` severity remains."""
    report = build(load_context(state))
    if fix:
        changed = apply_fixes(report.findings)
        if changed:
            report = build(load_context(state))
        report.fixes = changed
    if as_json:
        click.echo(json.dumps(report.to_json(fail_on=fail_on), indent=2, default=str))
    else:
        click.echo(render_text(report))
    if report.has(*fail_on):
        raise SystemExit(1)
