"""The record every check produces, and the report the CLI prints (text or stable JSON)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Severity = Literal["info", "warn", "error", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warn", "error", "critical")
SCHEMA_VERSION = 1

FINDING_KEYS = ("id", "severity", "title", "detail", "remediation", "fixable", "data")
"""The keys of one finding in JSON output; stable within ``schemaVersion``."""


@dataclass
class Finding:
    """One result of a check: what was found and what to do about it.

    ``fix`` (never serialised) repairs the problem and returns a line saying what changed; it is
    only set when the repair is safe to do unattended.
    """

    id: str
    severity: Severity
    title: str
    detail: str = ""
    remediation: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    fix: Callable[[], str] | None = field(default=None, repr=False, compare=False)

    @property
    def fixable(self) -> bool:
        return self.fix is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "severity": self.severity,
            "title": self.title,
            "detail": self.detail,
            "remediation": self.remediation,
            "fixable": self.fixable,
            "data": self.data,
        }


@dataclass
class Report:
    """A list of findings plus the context sections a command adds (system info, ...)."""

    kind: str
    findings: list[Finding]
    sections: dict[str, Any] = field(default_factory=dict)
    fixes: list[str] = field(default_factory=list)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def worst(self) -> Severity | None:
        ranks = [SEVERITIES.index(f.severity) for f in self.findings]
        return SEVERITIES[max(ranks)] if ranks else None

    def has(self, *severities: Severity) -> bool:
        return any(f.severity in severities for f in self.findings)

    def summary(self) -> dict[str, int]:
        return {s: sum(1 for f in self.findings if f.severity == s) for s in SEVERITIES}

    def to_json(self, *, fail_on: Iterable[Severity]) -> dict[str, Any]:
        return {
            "schemaVersion": SCHEMA_VERSION,
            "kind": self.kind,
            "generatedAt": self.generated_at.isoformat(),
            "ok": not self.has(*fail_on),
            "summary": self.summary(),
            "findings": [f.to_json() for f in self.findings],
            "fixes": list(self.fixes),
            **self.sections,
        }


def apply_fixes(findings: Iterable[Finding]) -> list[str]:
    """Run every safe fix; a fix that fails is reported, never raised, so the others still run."""
    changed: list[str] = []
    for finding in findings:
        if finding.fix is None:
            continue
        try:
            changed.append(finding.fix())
        except OSError as exc:
            changed.append(f"could not fix {finding.id}: {exc}")
    return changed


_MARK = {"info": "i", "warn": "!", "error": "x", "critical": "X"}


def render_text(report: Report) -> str:
    """Human-readable: one block per finding, worst first, then a one-line summary."""
    lines: list[str] = []
    order = sorted(report.findings, key=lambda f: -SEVERITIES.index(f.severity))
    for finding in order:
        lines.append(
            f"[{_MARK[finding.severity]}] {finding.severity.upper():<8} {finding.id}: {finding.title}"
        )
        if finding.detail:
            lines.append(f"      {finding.detail}")
        if finding.remediation:
            lines.append(
                f"      -> {finding.remediation}" + ("  (--fix repairs this)" if finding.fixable else "")
            )
    for fix in report.fixes:
        lines.append(f"fixed: {fix}")
    counts = ", ".join(f"{n} {s}" for s, n in report.summary().items() if n)
    lines.append(f"{report.kind}: {counts or 'no findings'}")
    return "\n".join(lines)
