"""SQLAlchemy implementations of the objection service's storage ports, and its unit of work."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, delete, exists, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from services.kit.db import SqlUnitOfWork
from services.kit.errors import AlreadyExists
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.log import EvidenceLog
from services.kit.workdays import Deadline
from services.objection.domain import (
    CorrectionNoticeDue,
    DisputeLine,
    Extension,
    Filer,
    FilerKind,
    ForwardTimeliness,
    Objection,
    ObjectionEvent,
    ObjectionFilter,
    ObjectionStatus,
    Outcome,
    SlaFacts,
    Target,
    TimelineEntry,
    TimelineKind,
)
from services.objection.domain.reasons import DUPLICATE
from services.objection.domain.values import ActorKind
from services.objection.store.codec import effect_key, event_json, target_from, target_obj
from services.objection.store.models import (
    ExtensionRow,
    LineRow,
    NoticeRow,
    ObjectionRow,
    OpenTargetRow,
    OutboxRow,
    RequestRow,
    TimelineRow,
)


@dataclass(frozen=True)
class StoredNotice:
    """A correction notice as stored."""

    id: int
    objection_id: str
    recipient: str
    enterprise: str
    changes: list[dict[str, object]]
    created_at: datetime


@dataclass(frozen=True)
class OutboxItem:
    """One claimed outbox event."""

    id: int
    event_type: str
    payload: dict[str, object]
    attempts: int


@dataclass(frozen=True)
class StoredRequest:
    method: str
    fingerprint: str
    objection_id: str


def _line_from(r: LineRow) -> DisputeLine:
    target: Target = target_from(
        {"record_id": r.record_id, "version": r.record_version}
        if r.record_id is not None
        else {"evaluation_id": r.evaluation_id}
    )
    return DisputeLine(
        target=target,
        item=r.item,
        provider=r.provider,
        content_sha256=r.content_sha256,
        department=r.department,
        routed_at=r.routed_at,
        routing_alerted=r.routing_alerted,
        outcome=Outcome(r.outcome) if r.outcome else None,
        answered_at=r.answered_at,
        corrected_version=r.corrected_version,
        statement=r.statement,
        statement_at=r.statement_at,
    )


def _fill_line(row: LineRow, line: DisputeLine) -> None:
    row.department = line.department
    row.routed_at = line.routed_at
    row.routing_alerted = line.routing_alerted
    row.outcome = line.outcome.value if line.outcome else None
    row.answered_at = line.answered_at
    row.corrected_version = line.corrected_version
    row.statement = line.statement
    row.statement_at = line.statement_at


def _fill_row(row: ObjectionRow, o: Objection) -> None:
    row.forward_timeliness = o.forward_timeliness.value
    deadline = o.forward_deadline
    row.forward_last_day = deadline.last_day if deadline else None
    row.forward_due_before = deadline.due_before if deadline else None
    row.status = o.status.value
    row.handling_due_before = o.handling_due.due_before
    row.resolved_at = o.resolved_at
    row.overdue_alerted_at = o.overdue_alerted_at


class SqlObjections:
    """Objections with their lines, extensions and append-only timelines; also the OpenDisputes port."""

    def __init__(self, session: Session, evidence: EvidenceLog | None) -> None:
        self.s = session
        self._evidence = evidence
        # Strong references to the rows handed out: the identity map is weak, and optimistic locking needs the
        # version as it was read.
        self._loaded: dict[str, tuple[ObjectionRow, int, int]] = {}

    # --- OpenDisputes ----------------------------------------------------------------------------------------------

    def open_objection_on(self, target: Target) -> str | None:
        row = self.s.get(OpenTargetRow, target.key)
        return row.objection_id if row else None

    # --- reads -----------------------------------------------------------------------------------------------------

    def _to_domain(self, r: ObjectionRow, with_timeline: bool = True) -> Objection:
        lines = [
            _line_from(x)
            for x in self.s.scalars(select(LineRow).where(LineRow.objection_id == r.objection_id).order_by(LineRow.idx))
        ]
        extensions = [
            Extension(days=x.days, reason=x.reason, by=x.extended_by, at=x.at)
            for x in self.s.scalars(
                select(ExtensionRow).where(ExtensionRow.objection_id == r.objection_id).order_by(ExtensionRow.seq)
            )
        ]
        timeline: list[TimelineEntry] = []
        if with_timeline:
            for t in self.s.scalars(
                select(TimelineRow).where(TimelineRow.objection_id == r.objection_id).order_by(TimelineRow.seq)
            ):
                timeline.append(
                    TimelineEntry(
                        seq=t.seq,
                        at=t.at,
                        kind=TimelineKind(t.kind),
                        actor_kind=ActorKind(t.actor_kind),
                        actor_id=t.actor_id,
                        target=target_from(json.loads(t.target)) if t.target else None,
                        detail=json.loads(t.detail),
                    )
                )
        deadline = (
            Deadline(last_day=r.forward_last_day, due_before=r.forward_due_before)
            if r.forward_last_day is not None and r.forward_due_before is not None
            else None
        )
        return Objection(
            id=r.objection_id,
            platform=r.platform,
            filer=Filer(FilerKind(r.filer_kind), r.filer_id),
            enterprise=r.enterprise,
            reasons=r.reasons,
            attachments=tuple(json.loads(r.attachments)),
            received_at=r.received_at,
            forwarded_at=r.forwarded_at,
            lines=lines,
            handling_days=r.handling_days,
            forward_timeliness=ForwardTimeliness(r.forward_timeliness),
            forward_deadline=deadline,
            extensions=extensions,
            status=ObjectionStatus(r.status),
            resolved_at=r.resolved_at,
            overdue_alerted_at=r.overdue_alerted_at,
            timeline=timeline,
        )

    def get(self, objection_id: str) -> Objection | None:
        row = self.s.get(ObjectionRow, objection_id)
        if row is None:
            return None
        objection = self._to_domain(row)
        self._loaded[objection_id] = (row, len(objection.timeline), len(objection.extensions))
        return objection

    def _filtered(self, where: ObjectionFilter) -> Select[tuple[ObjectionRow]]:
        q = select(ObjectionRow)
        if where.status is not None:
            q = q.where(ObjectionRow.status == where.status.value)
        if where.platform is not None:
            q = q.where(ObjectionRow.platform == where.platform)
        if where.enterprise is not None:
            q = q.where(ObjectionRow.enterprise == where.enterprise)
        if where.department is not None:
            q = q.where(
                exists().where(
                    LineRow.objection_id == ObjectionRow.objection_id, LineRow.department == where.department
                )
            )
        return q

    def page(
        self, where: ObjectionFilter, after: str | None, limit: int, *, overdue_at: datetime | None = None
    ) -> list[Objection]:
        """Objections in id order, without timelines; ``overdue_at`` keeps open ones past clock 2 at that instant."""
        q = self._filtered(where).order_by(ObjectionRow.objection_id).limit(limit)
        if after is not None:
            q = q.where(ObjectionRow.objection_id > after)
        if overdue_at is not None:
            q = q.where(
                ObjectionRow.status != ObjectionStatus.RESOLVED.value, ObjectionRow.handling_due_before <= overdue_at
            )
        return [self._to_domain(r, with_timeline=False) for r in self.s.scalars(q)]

    def sla_facts(self, where: ObjectionFilter) -> list[SlaFacts]:
        q = self._filtered(where).with_only_columns(
            ObjectionRow.forward_timeliness,
            ObjectionRow.received_at,
            ObjectionRow.forwarded_at,
            ObjectionRow.resolved_at,
            ObjectionRow.handling_due_before,
        )
        return [
            SlaFacts(ForwardTimeliness(t), received, forwarded, resolved, due)
            for t, received, forwarded, resolved, due in self.s.execute(q)
        ]

    def ids_needing_overdue_check(self, now: datetime, after: str | None, limit: int) -> list[str]:
        return self._ids(
            after,
            limit,
            ObjectionRow.status != ObjectionStatus.RESOLVED.value,
            ObjectionRow.handling_due_before <= now,
            ObjectionRow.overdue_alerted_at.is_(None),
        )

    def ids_needing_forward_assessment(self, after: str | None, limit: int) -> list[str]:
        return self._ids(
            after,
            limit,
            (ObjectionRow.forward_timeliness == ForwardTimeliness.UNKNOWN.value)
            | ObjectionRow.forward_last_day.is_(None),
        )

    def ids_unrouted(self, after: str | None, limit: int) -> list[str]:
        return self._ids(after, limit, ObjectionRow.status == ObjectionStatus.FORWARDED.value)

    def _ids(self, after: str | None, limit: int, *where: ColumnElement[bool]) -> list[str]:
        """A page of ids in id order, after ``after``: the sweep walks every page, so objections that stay
        candidates (a target no department takes) cannot keep later ones from being reached."""
        q = select(ObjectionRow.objection_id).where(*where)
        if after is not None:
            q = q.where(ObjectionRow.objection_id > after)
        return list(self.s.scalars(q.order_by(ObjectionRow.objection_id).limit(limit)))

    # --- writes ----------------------------------------------------------------------------------------------------

    def add(self, objection: Objection, request_fingerprint: str, now: datetime) -> None:
        """Insert a new objection; ALREADY_EXISTS (OBJECTION_DUPLICATE) when a concurrent filing took a target first."""
        row = ObjectionRow(
            objection_id=objection.id,
            platform=objection.platform,
            filer_kind=objection.filer.kind.value,
            filer_id=objection.filer.id,
            enterprise=objection.enterprise,
            reasons=objection.reasons,
            attachments=json.dumps(list(objection.attachments)),
            received_at=objection.received_at,
            forwarded_at=objection.forwarded_at,
            handling_days=objection.handling_days,
            request_fingerprint=request_fingerprint,
            created_at=now,
        )
        _fill_row(row, objection)
        self.s.add(row)
        try:
            self.s.flush()  # the parent row first: the line rows' foreign keys need it
        except IntegrityError:
            raise AlreadyExists(DUPLICATE, "an objection with this id exists") from None
        for idx, line in enumerate(objection.lines):
            target = target_obj(line.target)
            line_row = LineRow(
                objection_id=objection.id,
                idx=idx,
                target_key=line.target.key,
                record_id=target.get("record_id"),
                record_version=target.get("version"),
                evaluation_id=target.get("evaluation_id"),
                item=line.item,
                provider=line.provider,
                content_sha256=line.content_sha256,
            )
            _fill_line(line_row, line)
            self.s.add(line_row)
        try:
            self.s.flush()
            if objection.is_open:
                # Keys in one canonical order, whatever order the platform listed its targets in: two filings
                # sharing targets then wait for each other instead of each holding a key the other needs (on
                # PostgreSQL that deadlocked, and one caller got ABORTED instead of OBJECTION_DUPLICATE).
                for key in sorted(line.target.key for line in objection.lines):
                    self.s.add(OpenTargetRow(target_key=key, objection_id=objection.id))
                self.s.flush()
        except IntegrityError:
            raise AlreadyExists(DUPLICATE, "an open objection already disputes this target") from None
        self._loaded[objection.id] = (row, 0, 0)
        self._append_new(objection)

    def save(self, objection: Objection) -> None:
        """Write the changes of an objection obtained from :meth:`get` (ABORTED if another change won)."""
        row, _, _ = self._loaded[objection.id]  # KeyError: save() takes an objection obtained from get()
        _fill_row(row, objection)
        # Many changes leave the objection's own columns as they were (an answer to one of several targets, a
        # statement): the row is updated anyway, so its version check catches every concurrent change as ABORTED.
        flag_modified(row, "status")
        line_rows = list(
            self.s.scalars(select(LineRow).where(LineRow.objection_id == objection.id).order_by(LineRow.idx))
        )
        for line_row, line in zip(line_rows, objection.lines, strict=True):
            _fill_line(line_row, line)
        if not objection.is_open:
            self.s.execute(delete(OpenTargetRow).where(OpenTargetRow.objection_id == objection.id))
        self._append_new(objection)
        self.s.flush()

    def _append_new(self, objection: Objection) -> None:
        row, timeline_count, extension_count = self._loaded[objection.id]
        for seq, ext in enumerate(objection.extensions[extension_count:], start=extension_count + 1):
            self.s.add(
                ExtensionRow(
                    objection_id=objection.id, seq=seq, days=ext.days, reason=ext.reason, extended_by=ext.by, at=ext.at
                )
            )
        new_entries = objection.timeline[timeline_count:]
        for entry in new_entries:
            self.s.add(
                TimelineRow(
                    objection_id=objection.id,
                    seq=entry.seq,
                    at=entry.at,
                    kind=entry.kind.value,
                    actor_kind=entry.actor_kind.value,
                    actor_id=entry.actor_id,
                    target=json.dumps(target_obj(entry.target)) if entry.target else None,
                    detail=json.dumps(entry.detail, sort_keys=True, ensure_ascii=False),
                )
            )
        self.s.flush()
        if self._evidence is not None:
            for entry in new_entries:
                self._evidence.append_in(self.s, LeafKind.OBJECTION_STEP, step_payload(objection, entry))
        self._loaded[objection.id] = (row, len(objection.timeline), len(objection.extensions))


def _sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def _evidence_target(target: Target) -> dict[str, object]:
    """Record and evaluation names embed the enterprise's USCC, so evidence binds them by hash (anyone holding the
    name checks it)."""
    obj = target_obj(target)
    if "record_id" in obj:
        return {"record_sha256": _sha256(str(obj["record_id"])), "version": obj["version"]}
    return {"evaluation_sha256": _sha256(str(obj["evaluation_id"]))}


def step_payload(objection: Objection, entry: TimelineEntry) -> dict[str, object]:
    """An evidence leaf for one timeline step: ids and hashes only (reasons, statements and USCCs are hashed)."""
    payload: dict[str, object] = {
        "objection": f"objections/{objection.id}",
        "seq": entry.seq,
        "step": entry.kind.value,
        "at": entry.at.isoformat(),
        "actor_kind": entry.actor_kind.value,
        "enterprise_sha256": _sha256(objection.enterprise),
    }
    if entry.actor_kind in (ActorKind.PLATFORM, ActorKind.DEPARTMENT, ActorKind.NODE):
        payload["actor"] = entry.actor_id
    else:  # an enterprise is named by USCC: hashed, like every party that could be a person's business
        payload["actor_sha256"] = _sha256(entry.actor_id)
    if entry.target is not None:
        payload["target"] = _evidence_target(entry.target)
    detail = {k: v for k, v in entry.detail.items() if k != "reason"}
    if "reason" in entry.detail:
        detail["reason_sha256"] = _sha256(entry.detail["reason"])
    payload["detail"] = detail
    if entry.kind is TimelineKind.FORWARDED_TO_NODE:
        payload["reasons_sha256"] = _sha256(objection.reasons)
        payload["attachments"] = [f"sha256:{a}" for a in objection.attachments]
        payload["targets"] = [_evidence_target(line.target) for line in objection.lines]
    return payload


class SqlOutbox:
    """Events for other services; added in the same transaction as the change that caused them."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, events: Sequence[ObjectionEvent], now: datetime) -> None:
        for event in events:
            if isinstance(event, CorrectionNoticeDue):
                continue  # stored as notices (see SqlNotices), which the gateway pulls
            key = hashlib.sha256(effect_key(event).encode("utf-8")).hexdigest()
            if self.s.scalar(select(OutboxRow.id).where(OutboxRow.dedup_key == key)) is not None:
                continue
            self.s.add(
                OutboxRow(
                    dedup_key=key,
                    objection_id=event.objection_id,
                    event_type=type(event).__name__,
                    payload=event_json(event),
                    state="PENDING",
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
        self.s.flush()

    def due(self, now: datetime, limit: int) -> list[OutboxItem]:
        """Pending events due by ``now``, each objection's in the order they were added: an event waits while an
        earlier one of its objection is pending (a flag's clearing must not overtake its raising, which is retried
        with a longer backoff after an outage, and leave the flag raised for good). A settled one (DONE, PARKED,
        REFUSED) holds nothing back: a refused one will never be sent, and waiting for it would be for ever."""
        earlier = aliased(OutboxRow)
        blocked = (
            select(earlier.id)
            .where(
                earlier.objection_id == OutboxRow.objection_id,
                earlier.state == "PENDING",
                earlier.id < OutboxRow.id,
            )
            .exists()
        )
        q = (
            select(OutboxRow)
            .where(OutboxRow.state == "PENDING", OutboxRow.next_attempt_at <= now, ~blocked)
            .order_by(OutboxRow.id)
            .limit(limit)
        )
        return [OutboxItem(r.id, r.event_type, json.loads(r.payload), r.attempts) for r in self.s.scalars(q)]

    def claim(self, item_id: int, now: datetime, until: datetime) -> bool:
        """Take a due event for one delivery: it is due to nobody again before ``until`` unless marked sooner. False
        when another dispatcher took or settled it since it was read (a conditional update: on PostgreSQL the later of
        two waits for the other's row lock, then finds the row changed)."""
        result = self.s.execute(
            update(OutboxRow)
            .where(OutboxRow.id == item_id, OutboxRow.state == "PENDING", OutboxRow.next_attempt_at <= now)
            .values(next_attempt_at=until)
            .execution_options(synchronize_session=False)
        )
        return getattr(result, "rowcount", 0) == 1

    def mark(self, item_id: int, state: str, now: datetime, error: str | None = None, retry_in: float = 0) -> None:
        row = self.s.get(OutboxRow, item_id)
        if row is None or row.state != "PENDING":
            return
        row.attempts += 1
        row.last_error = error[:200] if error else None
        if state == "PENDING":
            row.next_attempt_at = now + timedelta(seconds=retry_in)
        else:
            row.state = state
            row.done_at = now
        self.s.flush()

    def count(self, state: str) -> int:
        """How many events are in ``state`` (an index on state serves it)."""
        return self.s.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.state == state)) or 0


class SqlNotices:
    """Correction notices owed to recipients, insert-only."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def add(self, events: Sequence[ObjectionEvent], now: datetime) -> None:
        for event in events:
            if not isinstance(event, CorrectionNoticeDue):
                continue
            changes = [
                {
                    "target": target_obj(c.target),
                    "item": c.item,
                    "outcome": c.outcome.value,
                    "corrected_version": c.corrected_version,
                }
                for c in event.changes
            ]
            self.s.add(
                NoticeRow(
                    objection_id=event.objection_id,
                    recipient=event.recipient.id,
                    enterprise=event.enterprise,
                    changes=json.dumps(changes, sort_keys=True),
                    created_at=now,
                )
            )
        self.s.flush()

    def page(self, recipient: str | None, after: int | None, limit: int) -> list[StoredNotice]:
        q = select(NoticeRow).order_by(NoticeRow.id).limit(limit)
        if recipient:
            q = q.where(NoticeRow.recipient == recipient)
        if after is not None:
            q = q.where(NoticeRow.id > after)
        return [
            StoredNotice(r.id, r.objection_id, r.recipient, r.enterprise, json.loads(r.changes), r.created_at)
            for r in self.s.scalars(q)
        ]


class SqlRequests:
    """request_id -> first result, for idempotent mutations."""

    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, request_id: str) -> StoredRequest | None:
        r = self.s.get(RequestRow, request_id)
        return StoredRequest(r.method, r.fingerprint, r.objection_id) if r else None

    def add(self, request_id: str, method: str, fingerprint: str, objection_id: str) -> None:
        self.s.add(RequestRow(request_id=request_id, method=method, fingerprint=fingerprint, objection_id=objection_id))
        try:
            self.s.flush()
        except IntegrityError:
            raise AlreadyExists("ERROR_REASON_REQUEST_ID_REUSED", "request_id is being used concurrently") from None


class SqlObjectionUnitOfWork(SqlUnitOfWork):
    """One transaction over the objection store; evidence leaves are appended inside it."""

    objections: SqlObjections
    outbox: SqlOutbox
    notices: SqlNotices
    requests: SqlRequests

    def __init__(self, session_factory: sessionmaker[Session], evidence: EvidenceLog | None = None) -> None:
        super().__init__(session_factory)
        self._evidence = evidence

    def __enter__(self) -> SqlObjectionUnitOfWork:
        super().__enter__()
        self.objections = SqlObjections(self.session, self._evidence)
        self.outbox = SqlOutbox(self.session)
        self.notices = SqlNotices(self.session)
        self.requests = SqlRequests(self.session)
        return self
