"""The participant watch's registered replicas in the database, with leases on the database's clock."""

from __future__ import annotations

import time

from sqlalchemy import BigInteger, ColumnElement, cast, delete, func, literal, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.registry.store.models import WatchSessionRow
from services.registry.store.repositories import SqlEvents

_US = 1_000_000


class SqlWatchSessions:
    """Each call is one short transaction of its own."""

    def __init__(self, writer: sessionmaker[Session], reader: sessionmaker[Session]) -> None:
        self._writer, self._reader = writer, reader

    @staticmethod
    def _now_us(session: Session) -> ColumnElement[int]:
        if session.get_bind().dialect.name == "postgresql":
            # clock_timestamp(), not now(): a lease is judged at the moment of the statement, not of its transaction.
            # One server's clock for every registry process; it must be slewed, not stepped (as NTP does).
            return cast(func.extract("epoch", func.clock_timestamp()) * _US, BigInteger)
        # SQLite serves one registry process: its clock is the database's.
        return literal(int(time.time() * _US), BigInteger)

    def register(self, session_id: str, replica: str, lease_seconds: float) -> int:
        with self._writer() as s, s.begin():
            now = s.scalar(select(self._now_us(s)))
            assert now is not None
            s.add(
                WatchSessionRow(
                    id=session_id, replica=replica, acked_revision=0, lease_until_us=now + int(lease_seconds * _US)
                )
            )
        # Read after the registration committed: a change whose barrier did not see this session committed before
        # this read, so its revision is at most the one returned. The latest participant event, not the revision
        # counter: record ingestion advances the counter too, and a resumed stream only ever reaches (and its
        # replica acknowledges) the revisions of participant events, so a counter floor would never be reached.
        with self._reader() as s:
            return SqlEvents(s).latest_event_revision()

    def record_ack(self, session_id: str, revision: int, lease_seconds: float) -> bool:
        with self._writer() as s, s.begin():
            now = self._now_us(s)
            # A lapsed session is never renewed: a barrier may already have stopped waiting for it.
            done = s.execute(
                update(WatchSessionRow)
                .where(WatchSessionRow.id == session_id, WatchSessionRow.lease_until_us > now)
                .values(acked_revision=revision, lease_until_us=now + int(lease_seconds * _US))
            )
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def reap(self) -> None:
        with self._writer() as s, s.begin():
            s.execute(delete(WatchSessionRow).where(WatchSessionRow.lease_until_us <= self._now_us(s)))

    def acked(self) -> dict[str, int]:
        with self._reader() as s:
            return dict(s.execute(select(WatchSessionRow.id, WatchSessionRow.acked_revision)).tuples().all())
