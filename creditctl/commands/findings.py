"""``creditctl findings``: run the supervision rules, list and prove findings, send one to the registry (R8).

Talks to the gateway's internal listener (``--supervision``, env ``SUPERVISION_ADDR``), never to the platforms' door.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from creditctl.context import Ctl, pass_ctl
from creditctl.errors import EXIT_USAGE, CtlError
from creditctl.output import enum_short, message_dict, timestamp_text
from creditctl.params import MOMENT, platform_name, timestamp
from creditnode.gateway.v1 import supervision_service_pb2 as pb
from creditnode.gateway.v1 import supervision_service_pb2_grpc as pb_grpc

SERVICE = "supervision"
RULES = {
    "all": pb.FINDING_RULE_UNSPECIFIED,
    "unauthorized-breadth": pb.FINDING_RULE_UNAUTHORIZED_BREADTH,
    "denial-burst": pb.FINDING_RULE_DENIAL_BURST,
    "purpose-pattern": pb.FINDING_RULE_PURPOSE_PATTERN,
    "release-after-suspension": pb.FINDING_RULE_RELEASE_AFTER_SUSPENSION,
}
COLUMNS = ["finding", "rule", "platform", "subject", "day", "count", "reported", "detail"]


def _stub(ctl: Ctl) -> pb_grpc.SupervisionServiceStub:
    return ctl.stub(SERVICE, pb_grpc.SupervisionServiceStub)


def _row(f: pb.Finding) -> tuple[object, ...]:
    reported = timestamp_text(f.report_time) if f.HasField("report_time") else "-"
    rule = enum_short(pb.FindingRule.Name(f.rule), "FINDING_RULE_")
    return (f.name, rule, f.platform, f.subject, f.day, f.count, reported, f.detail)


@click.group()
def findings() -> None:
    """Supervision findings over the disclosure log: run the rules, list, show with proofs, report."""


@findings.command("run")
@click.option("--since", type=MOMENT, help="Period start (default: 24 hours before --until).")
@click.option("--until", type=MOMENT, help="Period end (default: now); at most 31 days after --since.")
@pass_ctl
def run(ctl: Ctl, since: datetime | None, until: datetime | None) -> None:
    """Apply every rule to the whole (Asia/Shanghai) days the period touches; a known finding grows if counted more."""
    end = until or datetime.now(UTC)
    start = since or end - timedelta(days=1)
    request = pb.RunSupervisionRequest(start_time=timestamp(start), end_time=timestamp(end))
    got = ctl.call(SERVICE, _stub(ctl).RunSupervision, request)
    ctl.out.emit(
        message_dict(got),
        lambda: ctl.out.table(
            f"{len(got.findings)} findings in {got.leaves_scanned} disclosures",
            COLUMNS,
            [_row(f) for f in got.findings],
        ),
    )


@findings.command("list")
@click.option("--platform", default="", help="Only findings held against this platform ({id} or platforms/{id}).")
@click.option("--rule", type=click.Choice(list(RULES)), default="all", show_default=True)
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@pass_ctl
def list_findings(ctl: Ctl, platform: str, rule: str, limit: int) -> None:
    """Findings, newest first."""
    out: list[pb.Finding] = []
    token = ""
    while len(out) < limit:
        request = pb.ListFindingsRequest(
            page_size=min(limit, 1000),
            page_token=token,
            platform=platform_name(platform) if platform else "",
            rule=RULES[rule],
        )
        got = ctl.call(SERVICE, _stub(ctl).ListFindings, request)
        out += got.findings
        token = got.next_page_token
        if not token:
            break
    out = out[:limit]
    ctl.out.emit(
        {"findings": [message_dict(f) for f in out]},
        lambda: ctl.out.table(f"{len(out)} findings", COLUMNS, [_row(f) for f in out]),
    )


@findings.command("show")
@click.argument("name")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False),
              help="Also write receipt-<index>.json per leaf, for offline verification.")  # fmt: skip
@pass_ctl
def show(ctl: Ctl, name: str, out_dir: Path | None) -> None:
    """One finding and the receipts (inclusion proofs to a signed tree head) of the leaves it rests on."""
    got = ctl.call(SERVICE, _stub(ctl).GetFinding, pb.GetFindingRequest(name=name))
    if out_dir is not None:
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            for receipt in got.receipts_json:
                index = json.loads(receipt)["leaf_index"]
                (out_dir / f"receipt-{index}.json").write_text(receipt, encoding="utf-8")
        except OSError as exc:
            raise CtlError(f"cannot write to {out_dir}: {exc}", EXIT_USAGE) from exc
    ctl.out.emit(
        {"finding": message_dict(got.finding), "receipts": [json.loads(r) for r in got.receipts_json]},
        lambda: ctl.out.fields(
            got.finding.name,
            [*zip(COLUMNS[1:], _row(got.finding)[1:], strict=True), ("leaves", len(got.receipts_json))],
        ),
    )


@findings.command("report")
@click.argument("name")
@pass_ctl
def report(ctl: Ctl, name: str) -> None:
    """Record the finding in the registry as a breach of its platform (grounds for suspension)."""
    got = ctl.call(SERVICE, _stub(ctl).ReportFinding, pb.ReportFindingRequest(name=name))
    ctl.out.emit(
        message_dict(got),
        lambda: ctl.out.fields(
            f"{got.finding.name} recorded against {got.finding.platform}",
            [("breach reference", got.breach_reference), ("reported", timestamp_text(got.finding.report_time))],
        ),
    )
