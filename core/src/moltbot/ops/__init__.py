"""Operator tools: ``doctor``, ``security audit``, backups, config advice and debugging aids.

Every check returns :class:`~moltbot.ops.findings.Finding` records with a stable ``id`` and a
severity; the JSON shape of a report is documented in ``docs/operations.md`` and pinned by tests.
"""

from moltbot.ops.findings import Finding, Report, Severity

__all__ = ["Finding", "Report", "Severity"]
