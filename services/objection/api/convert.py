"""Proto <-> domain conversion for the objection API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from creditnode.objection.v1 import objection_service_pb2 as pb
from services.kit.protos import timestamp, to_proto_enum
from services.kit.validation import invalid
from services.objection.domain import EvaluationRef, Objection, RecordRef, SlaFigures, Target


class NoticeLike(Protocol):
    """A stored correction notice (the store's StoredNotice)."""

    id: int
    objection_id: str
    recipient: str
    enterprise: str
    changes: list[dict[str, object]]
    created_at: datetime


def target_from(msg: pb.Target, field: str = "target") -> Target:
    kind = msg.WhichOneof("kind")
    if kind == "record":
        return RecordRef(msg.record.record, msg.record.version)
    if kind == "evaluation":
        return evaluation_from(msg.evaluation, f"{field}.evaluation")
    raise invalid(field, "is required")


def evaluation_from(name: str, field: str) -> EvaluationRef:
    """An evaluation named as scoring names it; ``field`` is where the name sits in the request."""
    if not name.startswith("enterprises/") or "/evaluations/" not in name:
        raise invalid(field, "must look like enterprises/{uscc}/evaluations/{id}")
    return EvaluationRef(name)


def target(t: Target) -> pb.Target:
    if isinstance(t, RecordRef):
        return pb.Target(record=pb.RecordTarget(record=t.record_id, version=t.version))
    return pb.Target(evaluation=t.evaluation_id)


def _set_time(msg: Any, field: str, at: datetime | None) -> None:
    ts = timestamp(at)
    if ts is not None:
        getattr(msg, field).CopyFrom(ts)


def objection(o: Objection, now: datetime, *, with_timeline: bool) -> pb.Objection:
    msg = pb.Objection(
        name=f"objections/{o.id}",
        platform=o.platform,
        filer_kind=to_proto_enum(pb.FilerKind, "FILER_KIND", o.filer.kind),
        filer=f"enterprises/{o.filer.id}" if o.filer.kind.value == "ENTERPRISE" else o.filer.id,
        enterprise=o.enterprise,
        reasons=o.reasons,
        attachment_sha256=list(o.attachments),
        forward_timeliness=to_proto_enum(pb.ForwardTimeliness, "FORWARD_TIMELINESS", o.forward_timeliness),
        status=to_proto_enum(pb.ObjectionStatus, "OBJECTION_STATUS", o.status),
        overdue=o.is_overdue(now),
    )
    _set_time(msg, "receive_time", o.received_at)
    _set_time(msg, "forward_time", o.forwarded_at)
    _set_time(msg, "forward_due_time", o.forward_deadline.due_before if o.forward_deadline else None)
    _set_time(msg, "handling_due_time", o.handling_due.due_before)
    _set_time(msg, "resolve_time", o.resolved_at)
    for line in o.lines:
        lm = msg.lines.add(
            target=target(line.target),
            item=line.item,
            department=line.department or "",
            corrected_version=line.corrected_version or 0,
            statement=line.statement or "",
        )
        if line.outcome is not None:
            lm.outcome = to_proto_enum(pb.Outcome, "OUTCOME", line.outcome)
        _set_time(lm, "route_time", line.routed_at)
        _set_time(lm, "answer_time", line.answered_at)
    for ext in o.extensions:
        em = msg.extensions.add(days=ext.days, reason=ext.reason, extended_by=ext.by)
        _set_time(em, "time", ext.at)
    if with_timeline:
        for entry in o.timeline:
            tm = msg.timeline.add(
                seq=entry.seq, kind=entry.kind.value, actor_kind=entry.actor_kind.value, actor=entry.actor_id
            )
            _set_time(tm, "time", entry.at)
            if entry.target is not None:
                tm.target.CopyFrom(target(entry.target))
            tm.detail.update(entry.detail)
    return msg


def figures(f: SlaFigures, missing_years: tuple[int, ...]) -> pb.SlaFigures:
    msg = pb.SlaFigures(
        objections=f.objections,
        open=f.open,
        overdue=f.overdue,
        forwarded_on_time=pb.Share(part=f.forwarded_on_time.part, whole=f.forwarded_on_time.whole),
        forwarding_unknown=f.forwarding_unknown,
        handled_on_time=pb.Share(part=f.handled_on_time.part, whole=f.handled_on_time.whole),
        calendar_missing_years=list(missing_years),
    )
    if f.median_forwarding_days is not None:
        msg.median_forwarding_days = f.median_forwarding_days
    if f.median_handling_days is not None:
        msg.median_handling_days = f.median_handling_days
    return msg


def notice(n: NoticeLike) -> pb.CorrectionNotice:
    msg = pb.CorrectionNotice(
        name=f"objections/{n.objection_id}/notices/{n.id}",
        objection=f"objections/{n.objection_id}",
        recipient=n.recipient,
        enterprise=n.enterprise,
    )
    _set_time(msg, "create_time", n.created_at)
    for c in n.changes:
        t: Any = c["target"]
        tgt = RecordRef(t["record_id"], t["version"]) if "record_id" in t else EvaluationRef(t["evaluation_id"])
        msg.changes.add(
            target=target(tgt),
            item=str(c["item"]),
            outcome=pb.Outcome.Value(f"OUTCOME_{c['outcome']}"),
            corrected_version=int(c["corrected_version"] or 0),  # type: ignore[call-overload]
        )
    return msg
