"""``moltbot security audit``: how exposed this configuration and the running gateway are."""

from __future__ import annotations

import click
import trio

from moltbot.cli.state import CliState, pass_state
from moltbot.ops.audit import audit_findings
from moltbot.ops.cli_support import run_report
from moltbot.ops.context import OpsContext
from moltbot.ops.findings import Report
from moltbot.ops.probe import probe_findings


@click.group("security")
def security_command() -> None:
    """Security checks."""


@security_command.command("audit")
@click.option(
    "--json", "as_json", is_flag=True, help="One JSON document on stdout (schema: docs/operations.md)."
)
@click.option("--fix", is_flag=True, help="Tighten permissions and turn log redaction back on.")
@click.option("--deep", is_flag=True, help="Also probe the running gateway (auth and Origin enforcement).")
@pass_state
def audit_cmd(state: CliState, as_json: bool, fix: bool, deep: bool) -> None:
    """Audit the configuration, files and plugins; exits 1 while a critical finding remains."""

    def build(ctx: OpsContext) -> Report:
        findings = audit_findings(ctx)
        if deep:
            findings += trio.run(probe_findings, ctx)
        return Report("security-audit", findings, sections={"deep": deep})

    run_report(state, build, as_json=as_json, fix=fix, fail_on=("critical",))
