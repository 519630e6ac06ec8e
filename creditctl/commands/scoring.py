"""``creditctl model publish`` and ``creditctl effectiveness``: the scoring service's operator calls."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import click

from creditctl.context import Ctl, pass_ctl
from creditctl.errors import EXIT_USAGE, CtlError
from creditctl.output import message_dict, timestamp_text
from creditctl.params import MOMENT
from creditnode.scoring.v1 import scoring_service_pb2 as sc_pb
from creditnode.scoring.v1 import scoring_service_pb2_grpc as sc_grpc
from services.kit.workdays import local_date

GROUPS = {
    "platform": sc_pb.EFFECTIVENESS_GROUP_PLATFORM,
    "city": sc_pb.EFFECTIVENESS_GROUP_CITY,
    "institution": sc_pb.EFFECTIVENESS_GROUP_INSTITUTION,
}


def _stub(ctl: Ctl) -> sc_grpc.ScoringServiceStub:
    return ctl.stub("scoring", sc_grpc.ScoringServiceStub)


@click.group()
def model() -> None:
    """Publish versions of the SME credit evaluation indicator system."""


@model.command("publish")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--request-id", default="", help="Idempotency key; a fresh UUID when omitted.")
@pass_ctl
def publish(ctl: Ctl, file: Path, request_id: str) -> None:
    """Publish FILE (a model YAML document); every registered enterprise is re-evaluated under it."""
    try:
        document = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CtlError(f"cannot read {file}: {exc}", EXIT_USAGE) from exc
    request = sc_pb.PublishModelRequest(document=document, request_id=request_id or str(uuid.uuid4()))
    with ctl.out.spinner(f"publishing {file.name} and re-evaluating enterprises"):
        response = ctl.call("scoring", _stub(ctl).PublishModel, request)
    m = response.model
    ctl.out.emit(
        message_dict(response),
        lambda: ctl.out.fields(
            m.name,
            [
                ("version", m.version),
                ("title", m.title),
                ("published", timestamp_text(m.publish_time)),
                ("current", "yes" if m.current else "no"),
                ("enterprises re-evaluated", response.enterprises_reevaluated),
            ],
        ),
    )


def _share(row: sc_pb.EffectRow) -> str:
    return f"{row.small_micro_share:.1%}" if row.HasField("small_micro_share") else "-"


@click.command()
@click.option("--period", "periods", multiple=True, required=True, help="YYYY, YYYY-MM or YYYY-Qn (repeatable).")
@click.option("--group-by", "groups", multiple=True, type=click.Choice(sorted(GROUPS)), help="Default: platform, city.")
@click.option("--progress-on", type=MOMENT, help="Day progress against the plan is measured (default: today).")
@pass_ctl
def effectiveness(ctl: Ctl, periods: tuple[str, ...], groups: tuple[str, ...], progress_on: datetime | None) -> None:
    """Loans, credit-loan balance and small-micro share per period and group, and progress against the plan (R9)."""
    request = sc_pb.GetEffectivenessRequest(periods=list(periods), group_by=[GROUPS[g] for g in groups])
    if progress_on is not None:
        try:
            day = local_date(progress_on)  # the node's day: a time late on 31 December UTC is 1 January in Xi'an
        except OverflowError:
            raise CtlError("--progress-on is past the last day a date holds (9999-12-31)", EXIT_USAGE) from None
        request.progress_on.CopyFrom(sc_pb.CalendarDay(year=day.year, month=day.month, day=day.day))
    response = ctl.call("scoring", _stub(ctl).GetEffectiveness, request)

    def human() -> None:
        rows = [
            (
                r.period,
                r.platform,
                r.city,
                r.institution,
                r.loans_granted,
                r.amount_granted_yuan,
                r.credit_loans_granted,
                r.first_loans,
                r.credit_balance_yuan,
                _share(r),
            )
            for r in response.rows
        ]
        columns = [
            "period", "platform", "city", "institution", "loans", "amount ¥", "credit loans", "first loans",
            "credit balance ¥", "small-micro share",
        ]  # fmt: skip
        ctl.out.table("effectiveness", columns, rows)
        p = response.progress
        share = f"{p.small_micro_share:.1%}" if p.HasField("small_micro_share") else "-"
        ctl.out.fields(
            f"plan progress on {p.on.year:04d}-{p.on.month:02d}-{p.on.day:02d}",
            [
                ("credit balance ¥", p.credit_balance_yuan),
                ("target ¥", p.target_balance_yuan),
                ("balance progress", f"{p.balance_progress:.1%}"),
                ("small-micro share", f"{share} (target {p.target_share:.0%})"),
            ],
        )

    ctl.out.emit(message_dict(response), human)
