"""In-memory fakes of the objection service's storage ports: a unit of work that applies changes only on commit."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any, Self

from services.kit.errors import AlreadyExists
from services.objection.domain import CorrectionNoticeDue, Objection, ObjectionEvent, ObjectionFilter, SlaFacts, Target
from services.objection.store.codec import event_obj
from services.objection.usecases import Lookups
from tests.unit.objection.fakes import World


@dataclass
class Request:
    method: str
    fingerprint: str
    objection_id: str


@dataclass
class OutboxEntry:
    id: int
    event_type: str
    payload: dict[str, Any]
    attempts: int = 0
    state: str = "PENDING"
    next_attempt_at: datetime | None = None


@dataclass
class Store:
    objections: dict[str, Objection] = field(default_factory=dict)
    open_keys: dict[str, str] = field(default_factory=dict)
    outbox: list[OutboxEntry] = field(default_factory=list)
    notices: list[CorrectionNoticeDue] = field(default_factory=list)
    requests: dict[str, Request] = field(default_factory=dict)

    def event_types(self) -> list[str]:
        return [e.event_type for e in self.outbox]


class FakeObjections:
    def __init__(self, store: Store, staged: dict[str, Objection]) -> None:
        self.store, self.staged = store, staged

    def open_objection_on(self, target: Target) -> str | None:
        return self.store.open_keys.get(target.key)

    def get(self, objection_id: str) -> Objection | None:
        o = self.store.objections.get(objection_id)
        return copy.deepcopy(o) if o else None

    def add(self, objection: Objection, request_fingerprint: str, now: datetime) -> None:
        if objection.id in self.store.objections or any(
            line.target.key in self.store.open_keys for line in objection.lines
        ):
            raise AlreadyExists("ERROR_REASON_OBJECTION_DUPLICATE", "taken")
        self.staged[objection.id] = objection

    def save(self, objection: Objection) -> None:
        self.staged[objection.id] = objection

    def _all(self, where: ObjectionFilter) -> list[Objection]:
        return sorted((o for o in self.store.objections.values() if where.matches(o)), key=lambda o: o.id)

    def page(
        self, where: ObjectionFilter, after: str | None, limit: int, *, overdue_at: datetime | None = None
    ) -> list[Objection]:
        rows = [o for o in self._all(where) if after is None or o.id > after]
        if overdue_at is not None:
            rows = [o for o in rows if o.is_overdue(overdue_at)]
        return [copy.deepcopy(o) for o in rows[:limit]]

    def sla_facts(self, where: ObjectionFilter) -> list[SlaFacts]:
        return [o.sla_facts() for o in self._all(where)]

    def ids_needing_overdue_check(self, now: datetime, after: str | None, limit: int) -> list[str]:
        return self._ids(after, limit, lambda o: o.is_overdue(now) and o.overdue_alerted_at is None)

    def ids_needing_forward_assessment(self, after: str | None, limit: int) -> list[str]:
        return self._ids(after, limit, lambda o: o.forward_timeliness.value == "UNKNOWN" or o.forward_deadline is None)

    def ids_unrouted(self, after: str | None, limit: int) -> list[str]:
        return self._ids(after, limit, lambda o: o.status.value == "FORWARDED")

    def _ids(self, after: str | None, limit: int, wanted: Callable[[Objection], bool]) -> list[str]:
        ids = sorted(o.id for o in self._all(ObjectionFilter()) if wanted(o))
        return [i for i in ids if after is None or i > after][:limit]


class FakeEvents:
    def __init__(self, staged: list[ObjectionEvent]) -> None:
        self.staged = staged

    def add(self, events: Sequence[ObjectionEvent], now: datetime) -> None:
        self.staged.extend(events)


class FakeNotices(FakeEvents):
    def __init__(self, staged: list[ObjectionEvent], store: Store) -> None:
        super().__init__(staged)
        self.store = store

    def add(self, events: Sequence[ObjectionEvent], now: datetime) -> None:
        pass  # the outbox fake sees every event; notices are split out on commit

    def page(self, recipient: str | None, after: int | None, limit: int) -> list[Any]:
        return [n for n in self.store.notices if recipient is None or n.recipient.id == recipient][:limit]


class FakeRequests:
    def __init__(self, store: Store, staged: dict[str, Request]) -> None:
        self.store, self.staged = store, staged

    def get(self, request_id: str) -> Request | None:
        return self.store.requests.get(request_id)

    def add(self, request_id: str, method: str, fingerprint: str, objection_id: str) -> None:
        self.staged[request_id] = Request(method, fingerprint, objection_id)


class FakeOutbox:
    def __init__(self, store: Store) -> None:
        self.store = store

    def due(self, now: datetime, limit: int) -> list[OutboxEntry]:
        return [
            copy.copy(e)
            for e in self.store.outbox
            if e.state == "PENDING" and (e.next_attempt_at is None or e.next_attempt_at <= now)
        ][:limit]

    def claim(self, item_id: int, now: datetime, until: datetime) -> bool:
        entry = next(e for e in self.store.outbox if e.id == item_id)
        if entry.state != "PENDING" or (entry.next_attempt_at is not None and entry.next_attempt_at > now):
            return False
        entry.next_attempt_at = until
        return True

    def mark(self, item_id: int, state: str, now: datetime, error: str | None = None, retry_in: float = 0) -> None:
        entry = next(e for e in self.store.outbox if e.id == item_id)
        entry.attempts += 1
        entry.state = state
        if state == "PENDING":
            from datetime import timedelta

            entry.next_attempt_at = now + timedelta(seconds=retry_in)


class FakeUow:
    """Rolls back (drops staged changes) unless committed, like the SQL unit of work."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __enter__(self) -> Self:
        self._objections: dict[str, Objection] = {}
        self._events: list[ObjectionEvent] = []
        self._requests: dict[str, Request] = {}
        self.objections = FakeObjections(self.store, self._objections)
        self.outbox: Any = FakeEvents(self._events)
        self.notices = FakeNotices(self._events, self.store)
        self.requests = FakeRequests(self.store, self._requests)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        return None

    def commit(self) -> None:
        for oid, o in self._objections.items():
            self.store.objections[oid] = copy.deepcopy(o)
            for key in [k for k, v in self.store.open_keys.items() if v == oid]:
                del self.store.open_keys[key]
            if o.is_open:
                for line in o.lines:
                    self.store.open_keys[line.target.key] = oid
        for event in self._events:
            if isinstance(event, CorrectionNoticeDue):
                self.store.notices.append(event)
            else:
                self.store.outbox.append(
                    OutboxEntry(len(self.store.outbox) + 1, type(event).__name__, event_obj(event))
                )
        self.store.requests.update(self._requests)
        self._objections.clear()
        self._events.clear()


class OutboxUow:
    def __init__(self, store: Store) -> None:
        self.outbox = FakeOutbox(store)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        pass


def lookups(world: World) -> Lookups:
    return Lookups(
        records=world.records,
        evaluations=world.evaluations,
        disclosures=world.disclosures,
        departments=world.departments,
        calendar=world.calendar,
        policy=world.policy,
    )
