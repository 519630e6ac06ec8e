"""Background work: the outbox dispatcher (at-least-once delivery to idempotent handlers) and the periodic sweep."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from types import TracebackType
from typing import Any, Protocol, Self

import structlog

from services.kit.errors import AlreadyExists, DomainError, FailedPrecondition, InvalidArgument, NotFound

log = structlog.get_logger("objection.background")

DONE = "DONE"
PARKED = "PARKED"
PENDING = "PENDING"
# REFUSED: the consumer refused the event for good (clients/refusals.py says which codes); kept, never retried.
REFUSED = "REFUSED"

# A handler delivers one event's payload and says DONE, or PARKED when the consumer has no API for it yet.
# It raises one of REFUSALS when the consumer refused the event for good, and anything else to ask for a retry;
# it must be idempotent (the same event may arrive again).
Handler = Callable[[Mapping[str, Any]], str]
REFUSALS = (InvalidArgument, NotFound, FailedPrecondition, AlreadyExists)


class OutboxStore(Protocol):
    def due(self, now: datetime, limit: int) -> list[Any]: ...

    def claim(self, item_id: int, now: datetime, until: datetime) -> bool: ...

    def mark(self, item_id: int, state: str, now: datetime, error: str | None = None, retry_in: float = 0) -> None: ...

    def count(self, state: str) -> int: ...


class OutboxUnitOfWork(Protocol):
    @property
    def outbox(self) -> OutboxStore: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...

    def commit(self) -> None: ...


def alert(payload: Mapping[str, Any]) -> str:
    """An operator alert: one warning line with ids only (payloads may hold statement texts; never log them)."""
    log.warning("objection_alert", alert=True, event_type=payload["type"], objection=payload["objection_id"])
    return DONE


def note(payload: Mapping[str, Any]) -> str:
    """A hook with no remote effect: scoring follows record changes, departments and platforms pull their queues."""
    log.info("objection_event", event_type=payload["type"], objection=payload["objection_id"])
    return DONE


def by_target(records: Handler, evaluations: Handler) -> Handler:
    """One handler for an event about a target: ``evaluations`` for an evaluation, ``records`` for a record."""

    def handle(payload: Mapping[str, Any]) -> str:
        target = payload.get("target")
        if isinstance(target, Mapping) and "evaluation_id" in target:
            return evaluations(payload)
        return records(payload)

    return handle


def parked(payload: Mapping[str, Any]) -> str:
    """Kept in the outbox for a consumer API that does not exist yet (see the service README)."""
    log.warning("objection_event_parked", event_type=payload["type"], objection=payload["objection_id"])
    return PARKED


class Dispatcher:
    """Delivers due outbox events; failures retry with exponential backoff (capped), refusals are kept as REFUSED.

    A REFUSED event no longer holds back its objection's later events (the store waits only for PENDING ones). That
    is safe for the in-dispute flag either way: after a refused raising, the clearing finds no flag and changes
    nothing; after a refused clearing, the target stays flagged, the safe side, until an operator sees to it.

    Every replica runs a dispatcher (and a rolling restart overlaps two): each event is claimed before it is delivered,
    so no other dispatcher sends it again meanwhile and goes on to the objection's later events, whose effects the
    late copy would then undo (a replaced statement shown again). A claim lapses after ``claim_seconds``, longer than
    any delivery takes, so an event whose dispatcher died while delivering it is sent again.
    """

    def __init__(
        self,
        writer: Callable[[], OutboxUnitOfWork],
        handlers: Mapping[str, Handler],
        clock: Callable[[], datetime],
        *,
        batch: int = 100,
        max_backoff: float = 300.0,
        claim_seconds: float = 60.0,
    ) -> None:
        self.writer, self.handlers, self.clock = writer, handlers, clock
        self.batch, self.max_backoff = batch, max_backoff
        self.claim = timedelta(seconds=claim_seconds)

    def run_once(self) -> int:
        """Deliver what is due now; returns how many events were settled (DONE, PARKED or REFUSED)."""
        with self.writer() as uow:
            items = uow.outbox.due(self.clock(), self.batch)
        settled = 0
        for item in items:
            if not self._claim(item.id):
                continue  # another dispatcher is delivering it, or has since
            handler = self.handlers.get(item.event_type, parked)
            error: str | None = None
            try:
                state = handler(item.payload)
            except REFUSALS as exc:
                code = exc.metadata.get("code", exc.kind)
                state, error = REFUSED, f"{code} {exc.reason}"
                # Ids, the code and the reason only: the payload may hold a statement or an enterprise's code.
                log.warning(
                    "objection_event_refused",
                    alert=True,
                    event_type=item.event_type,
                    objection=item.payload.get("objection_id"),
                    outbox_id=item.id,
                    code=code,
                    reason=exc.reason,
                )
            except DomainError as exc:
                state, error = PENDING, exc.reason
            except Exception as exc:  # a handler bug must not stop the others; it is retried
                log.error("outbox_handler_failed", event_type=item.event_type, error_type=type(exc).__name__)
                state, error = PENDING, type(exc).__name__
            retry_in = min(self.max_backoff, 0.5 * 2 ** min(item.attempts, 20))
            with self.writer() as uow:
                uow.outbox.mark(item.id, state, self.clock(), error, retry_in)
                uow.commit()
            settled += state != PENDING
        return settled

    def _claim(self, item_id: int) -> bool:
        now = self.clock()
        with self.writer() as uow:
            claimed = uow.outbox.claim(item_id, now, now + self.claim)
            if claimed:
                uow.commit()
        return claimed


class Periodic:
    """Runs ``work`` every ``interval`` seconds on a daemon thread until stopped; errors are logged, never fatal."""

    def __init__(self, name: str, work: Callable[[], object], interval: float) -> None:
        self.name, self.work, self.interval = name, work, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"objection-{name}", daemon=True)

    def start(self) -> Periodic:
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.work()
            except Exception as exc:
                log.warning("periodic_failed", job=self.name, error_type=type(exc).__name__)
            self._stop.wait(self.interval)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
