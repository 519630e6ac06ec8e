"""The command tree: one module per area, each adding its commands to the root group."""

from __future__ import annotations

import click

from creditctl.commands import cert, coverage, enterprise, evidence, findings, objections, platform, scoring, sharing


def register(root: click.Group) -> None:
    root.add_command(platform.platform)
    root.add_command(cert.cert)
    root.add_command(enterprise.enterprise)
    root.add_command(sharing.sharing_list)
    root.add_command(coverage.coverage)
    root.add_command(scoring.model)
    root.add_command(scoring.effectiveness)
    root.add_command(objections.objections)
    root.add_command(evidence.log)
    root.add_command(findings.findings)
    root.add_command(evidence.evidence)
