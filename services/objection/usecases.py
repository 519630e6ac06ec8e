"""Objection use cases: each opens a unit of work, applies the domain, stores events in the outbox, commits."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol, Self

import structlog

from services.kit.errors import Aborted, AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from services.objection.domain import (
    EVALUATION_HANDLER,
    Calendar,
    DisclosureLog,
    EvaluationLookup,
    FileObjection,
    Objection,
    ObjectionEvent,
    ObjectionFilter,
    ObjectionPolicy,
    OpenDisputes,
    Outcome,
    RecordLookup,
    ResponsibleDepartments,
    SlaFacts,
    SlaFigures,
    Target,
    file_objection,
    sla_figures,
)
from services.objection.domain.reasons import NOT_ROUTED_TO_CALLER, OBJECTION_NOT_FOUND
from services.objection.domain.reasons import PERMISSION_DENIED as DENIED

log = structlog.get_logger("objection.usecases")


# --- storage ports (the store implements them; unit tests fake them) -----------------------------------------------


class StoredRequestLike(Protocol):
    @property
    def method(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def objection_id(self) -> str: ...


class ObjectionRepository(OpenDisputes, Protocol):
    def get(self, objection_id: str) -> Objection | None: ...

    def add(self, objection: Objection, request_fingerprint: str, now: datetime) -> None:
        """ALREADY_EXISTS (OBJECTION_DUPLICATE) when another open objection holds a target's key."""

    def save(self, objection: Objection) -> None: ...

    def page(
        self, where: ObjectionFilter, after: str | None, limit: int, *, overdue_at: datetime | None = None
    ) -> list[Objection]: ...

    def sla_facts(self, where: ObjectionFilter) -> list[SlaFacts]: ...

    # The sweep's candidates, a page of ids in id order after ``after``.
    def ids_needing_overdue_check(self, now: datetime, after: str | None, limit: int) -> list[str]: ...

    def ids_needing_forward_assessment(self, after: str | None, limit: int) -> list[str]: ...

    def ids_unrouted(self, after: str | None, limit: int) -> list[str]: ...


class EventSink(Protocol):
    def add(self, events: Sequence[ObjectionEvent], now: datetime) -> None: ...


class Outbox(EventSink, Protocol):
    def count(self, state: str) -> int: ...


class NoticeStore(EventSink, Protocol):
    def page(self, recipient: str | None, after: int | None, limit: int) -> list[Any]: ...


class Requests(Protocol):
    def get(self, request_id: str) -> StoredRequestLike | None: ...

    def add(self, request_id: str, method: str, fingerprint: str, objection_id: str) -> None: ...


class ObjectionUnitOfWork(Protocol):
    @property
    def objections(self) -> ObjectionRepository: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def notices(self) -> NoticeStore: ...

    @property
    def requests(self) -> Requests: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...

    def commit(self) -> None: ...


UowFactory = Callable[[], ObjectionUnitOfWork]


@dataclass(frozen=True)
class Lookups:
    """The outside world the domain reads (adapters over registry, scoring and the gateway's disclosure log)."""

    records: RecordLookup
    evaluations: EvaluationLookup
    disclosures: DisclosureLog
    departments: ResponsibleDepartments
    calendar: Calendar
    policy: ObjectionPolicy


@dataclass(frozen=True)
class Idempotency:
    """request_id and a fingerprint of the request's content (computed by the API from the wire message)."""

    request_id: str = ""
    fingerprint: str = ""


def _request_key(idem: Idempotency, caller: str) -> str:
    """Request ids are the caller's own: two platforms (or departments) may pick the same one without clashing."""
    return hashlib.sha256(f"{caller}\x1f{idem.request_id}".encode()).hexdigest()


def _replay(uow: ObjectionUnitOfWork, idem: Idempotency, method: str, caller: str) -> Objection | None:
    if not idem.request_id:
        return None
    stored = uow.requests.get(_request_key(idem, caller))
    if stored is None:
        return None
    if stored.method != method or stored.fingerprint != idem.fingerprint:
        raise InvalidArgument(
            "ERROR_REASON_REQUEST_ID_REUSED",
            "request_id was already used for a different request",
            {"field": "request_id"},
        )
    return uow.objections.get(stored.objection_id)


def _store_events(uow: ObjectionUnitOfWork, objection: Objection, now: datetime) -> None:
    events = objection.pull_events()
    uow.outbox.add(events, now)
    uow.notices.add(events, now)


def new_objection_id(platform: str, request_id: str) -> str:
    """Derived from (platform, request_id) so a replay lands on the same id; random without a request_id."""
    if request_id:
        return "o-" + hashlib.sha256(f"{platform}\x1f{request_id}".encode()).hexdigest()[:24]
    return "o-" + uuid.uuid4().hex[:24]


# --- intake --------------------------------------------------------------------------------------------------------


def file(
    writer: UowFactory, reader: UowFactory, lookups: Lookups, command: FileObjection, idem: Idempotency, now: datetime
) -> Objection:
    """Check and record a forwarded objection. Lookups run outside the write transaction (they are remote calls);
    the unique open-target key in the store settles a race between two filings on the same target."""
    with reader() as r:
        replay = _replay(r, idem, "FileObjection", command.platform)
        if replay is not None:
            return replay
        objection = file_objection(
            command,
            records=lookups.records,
            evaluations=lookups.evaluations,
            disclosures=lookups.disclosures,
            open_disputes=r.objections,
            departments=lookups.departments,
            calendar=lookups.calendar,
            policy=lookups.policy,
        )
    try:
        with writer() as uow:
            replay = _replay(uow, idem, "FileObjection", command.platform)
            if replay is not None:
                return replay
            uow.objections.add(objection, idem.fingerprint, now)
            _store_events(uow, objection, now)
            if idem.request_id:
                uow.requests.add(_request_key(idem, command.platform), "FileObjection", idem.fingerprint, objection.id)
            uow.commit()
    except AlreadyExists:
        # A retry racing its first call (same request_id, so the same objection id) loses the insert: it returns the
        # first result once that is stored, and is not told a duplicate objection holds the target.
        if not idem.request_id:
            raise
        with reader() as r:
            replay = _replay(r, idem, "FileObjection", command.platform)
        if replay is None:
            raise
        return replay
    log.info("objection_filed", objection=objection.id, targets=len(objection.lines), status=objection.status.value)
    return objection


# --- reads ---------------------------------------------------------------------------------------------------------


def may_see(objection: Objection, requester: str) -> bool:
    """The enterprise, the filing platform, the filing institution, a routed department, or a supervisor."""
    if requester.startswith("supervisors/"):
        return True
    if requester.startswith("enterprises/"):
        return requester.removeprefix("enterprises/") == objection.enterprise
    if requester.startswith("platforms/"):
        return requester == objection.platform
    if requester.startswith("institutions/"):
        return requester == objection.filer.id
    if requester.startswith("departments/") or requester == EVALUATION_HANDLER:
        return requester in objection.departments
    return False


def get(reader: UowFactory, objection_id: str, requester: str) -> Objection:
    """PERMISSION_DENIED before existence: only supervisors learn that an objection does not exist."""
    with reader() as uow:
        objection = uow.objections.get(objection_id)
    if objection is not None and may_see(objection, requester):
        return objection
    if requester.startswith("supervisors/"):
        raise NotFound(OBJECTION_NOT_FOUND, "no such objection")
    raise PermissionDenied(DENIED, "the requester may not see this objection")


@dataclass(frozen=True)
class Listing:
    objections: list[Objection]
    figures: SlaFigures


def list_objections(
    reader: UowFactory, where: ObjectionFilter, after: str | None, limit: int, now: datetime
) -> Listing:
    with reader() as uow:
        page = uow.objections.page(where, after, limit)
        facts = uow.objections.sla_facts(where)
    return Listing(page, sla_figures(facts, now))


def list_overdue(
    reader: UowFactory, department: str | None, after: str | None, limit: int, now: datetime
) -> list[Objection]:
    with reader() as uow:
        return uow.objections.page(ObjectionFilter(department=department), after, limit, overdue_at=now)


# --- department answers, statements, extensions --------------------------------------------------------------------


def answer(
    writer: UowFactory,
    lookups: Lookups,
    objection_id: str,
    *,
    department: str,
    target: Target,
    outcome: Outcome,
    corrected_version: int | None,
    idem: Idempotency,
    now: datetime,
) -> Objection:
    with writer() as uow:
        replay = _replay(uow, idem, "AnswerObjection", department)
        if replay is not None:
            return replay
        objection = uow.objections.get(objection_id)
        if objection is None:  # said alike whether or not the objection exists
            raise PermissionDenied(NOT_ROUTED_TO_CALLER, "this dispute is not routed to the department")
        objection.answer(
            department=department,
            target=target,
            outcome=outcome,
            at=now,
            records=lookups.records,
            disclosures=lookups.disclosures,
            corrected_version=corrected_version,
        )
        uow.objections.save(objection)
        _store_events(uow, objection, now)
        if idem.request_id:
            uow.requests.add(_request_key(idem, department), "AnswerObjection", idem.fingerprint, objection.id)
        uow.commit()
    log.info("objection_answered", objection=objection_id, department=department, outcome=outcome.value)
    return objection


def attach_statement(
    writer: UowFactory,
    objection_id: str,
    *,
    enterprise: str,
    target: Target,
    statement: str,
    idem: Idempotency,
    now: datetime,
) -> Objection:
    with writer() as uow:
        replay = _replay(uow, idem, "AttachStatement", enterprise)
        if replay is not None:
            return replay
        objection = uow.objections.get(objection_id)
        if objection is None:
            raise PermissionDenied(DENIED, "only the enterprise itself may attach a statement")
        objection.attach_statement(enterprise=enterprise, target=target, statement=statement, at=now)
        uow.objections.save(objection)
        _store_events(uow, objection, now)
        if idem.request_id:
            uow.requests.add(_request_key(idem, enterprise), "AttachStatement", idem.fingerprint, objection.id)
        uow.commit()
    return objection


def extend(
    writer: UowFactory,
    policy: ObjectionPolicy,
    objection_id: str,
    *,
    days: int,
    reason: str,
    by: str,
    idem: Idempotency,
    now: datetime,
) -> Objection:
    with writer() as uow:
        replay = _replay(uow, idem, "ExtendObjection", by)
        if replay is not None:
            return replay
        objection = uow.objections.get(objection_id)
        if objection is None:
            raise NotFound(OBJECTION_NOT_FOUND, "no such objection")
        objection.extend(days=days, reason=reason, by=by, at=now, policy=policy)
        uow.objections.save(objection)
        _store_events(uow, objection, now)
        if idem.request_id:
            uow.requests.add(_request_key(idem, by), "ExtendObjection", idem.fingerprint, objection.id)
        uow.commit()
    log.info("objection_extended", objection=objection_id, days=days)
    return objection


# --- the periodic job ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepResult:
    overdue_alerted: int
    forwarding_decided: int
    rerouted: int
    calendar_missing_years: tuple[int, ...]


class CalendarCoverage(Protocol):
    def missing_years(self, today: date, horizon_days: int = 45) -> tuple[int, ...]: ...


def _every(
    writer: UowFactory,
    reader: UowFactory,
    page: Callable[[ObjectionRepository, str | None], list[str]],
    step: Callable[[Objection], bool],
    now: datetime,
) -> int:
    """Apply ``step`` to every id ``page(objections, after)`` lists, a page at a time, until one comes back empty."""
    changed, after = 0, None
    while ids := _read_ids(reader, page, after):
        changed += _each(writer, ids, step, now)
        after = ids[-1]
    return changed


def _read_ids(
    reader: UowFactory, page: Callable[[ObjectionRepository, str | None], list[str]], after: str | None
) -> list[str]:
    with reader() as uow:
        return page(uow.objections, after)


def _each(writer: UowFactory, ids: Sequence[str], step: Callable[[Objection], bool], now: datetime) -> int:
    """Apply ``step`` to each objection in its own transaction; count those it changed."""
    changed = 0
    for objection_id in ids:
        try:
            with writer() as uow:
                objection = uow.objections.get(objection_id)
                if objection is None or not step(objection):
                    continue
                uow.objections.save(objection)
                _store_events(uow, objection, now)
                uow.commit()
        except Aborted:
            # A request changed this objection meanwhile: it stays a candidate for the next sweep, and the rest of
            # this one goes on (one busy objection must not hold back every later alert).
            log.info("sweep_step_lost_race", objection=objection_id)
            continue
        changed += 1
    return changed


def sweep(
    writer: UowFactory,
    reader: UowFactory,
    lookups: Lookups,
    coverage: CalendarCoverage,
    now: datetime,
    batch: int = 200,
) -> SweepResult:
    """check_overdue, reassess_forwarding, re-routing of unrouted targets and the calendar check, once each, over
    every candidate (read ``batch`` ids at a time)."""

    def overdue(o: Objection) -> bool:
        return o.check_overdue(now)

    def reassess(o: Objection) -> bool:
        before = (o.forward_timeliness, o.forward_deadline, len(o.timeline))
        o.reassess_forwarding(lookups.calendar, lookups.policy, now)
        return before != (o.forward_timeliness, o.forward_deadline, len(o.timeline))

    def reroute(o: Objection) -> bool:
        before = (o.status, len(o.timeline), len(o.events))
        o.route(lookups.departments, now)
        return before != (o.status, len(o.timeline), len(o.events))

    from services.kit.workdays import local_date

    missing = coverage.missing_years(local_date(now))
    if missing:
        log.warning("calendar_missing", alert=True, missing_years=list(missing))
    return SweepResult(
        overdue_alerted=_every(writer, reader, lambda r, a: r.ids_needing_overdue_check(now, a, batch), overdue, now),
        forwarding_decided=_every(
            writer, reader, lambda r, a: r.ids_needing_forward_assessment(a, batch), reassess, now
        ),
        rerouted=_every(writer, reader, lambda r, a: r.ids_unrouted(a, batch), reroute, now),
        calendar_missing_years=missing,
    )


def list_notices(reader: UowFactory, recipient: str | None, after: int | None, limit: int) -> list[Any]:
    """Correction notices in creation order (the store's StoredNotice rows)."""
    with reader() as uow:
        return uow.notices.page(recipient, after, limit)


def refused_events(reader: UowFactory) -> int:
    """Outbox events a consumer refused for good (kept as REFUSED for an operator; the metric and alert watch it)."""
    with reader() as uow:
        return uow.outbox.count("REFUSED")
