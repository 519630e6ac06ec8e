"""SQLAlchemy implementations of the consent domain's storage ports, and the unit of work that carries them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any, Self, cast

from sqlalchemy import Row, Table, and_, bindparam, case, delete, or_, select, tuple_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.consent.domain.model import (
    AUTHORIZATION_ID,
    Authorization,
    EventType,
    State,
    UseCounter,
    UseLimit,
    UseLimitKind,
)
from services.consent.domain.ports import Event, NonceRecord, Page, Use
from services.consent.domain.signing import Receipt
from services.consent.store.check_cache import CachedCandidates, CandidateCache, Key
from services.consent.store.models import (
    AuthorizationRow,
    EventRow,
    NonceRow,
    RegistryCursor,
    RemovedRequester,
    RevisionCounter,
    UseRow,
)
from services.kit.db import SqlUnitOfWork
from services.kit.errors import Aborted
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.log import EvidenceLog
from services.kit.paging import bad_page_token, index_position

_A = cast(Table, AuthorizationRow.__table__)
_E = cast(Table, EventRow.__table__)
_U = cast(Table, UseRow.__table__)
_LIVE = (State.ACTIVE.value, State.PAUSED.value)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# A page token is only base64 JSON bound to its query: a client can forge one around any position, so a position is
# checked for what the lists issue before it reaches a query (where a NUL, a number beyond BIGINT or a time beyond
# year 9999 would fail as INTERNAL).
_MAX_MICROS = (datetime.max.replace(tzinfo=UTC) - _EPOCH) // timedelta(microseconds=1)


def _split_key(after: str) -> tuple[int, str]:
    """(created_at in epoch microseconds, authorization id) of a ListAuthorizations position."""
    micros, _, auth_id = after.partition(":")
    at = index_position(micros)
    if at > _MAX_MICROS or not AUTHORIZATION_ID.fullmatch(auth_id):
        raise bad_page_token()
    return at, auth_id


def _codes(joined: str) -> tuple[str, ...]:
    return tuple(joined.split(",")) if joined else ()


def _to_authorization(row: Any) -> Authorization:
    return Authorization(
        id=row.id,
        enterprise=row.enterprise,
        requester=row.requester,
        purpose=row.purpose,
        items=_codes(row.items),
        categories=_codes(row.categories),
        covered_items=frozenset(_codes(row.covered_items)),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        data_since=row.data_since,
        use_limit=UseLimit(UseLimitKind(row.use_limit_kind), row.max_uses, row.period_days),
        signing_key_id=row.signing_key_id,
        created_at=row.created_at,
        state=State(row.state),
        uses=UseCounter(row.uses_total, row.period_index, row.period_uses, row.last_use_at),
        revision=row.revision,
        updated_at=row.updated_at,
        last_receipt_digest=row.last_receipt_digest,
    )


def _to_event(row: Any) -> Event:
    receipt = Receipt(
        authorization_id=row.authorization_id,
        event_type=EventType(row.event_type),
        revision=row.revision,
        recorded_at=row.recorded_at,
        signed_payload=row.signed_payload,
        signature=row.signature,
        signing_key_id=row.signing_key_id,
        previous_digest=row.previous_digest,
    )
    return Event(receipt, State(row.state_after))


# Selecting the table's columns (not ORM entities) keeps the hot path free of identity-map bookkeeping, and
# statements built once with bind parameters skip per-call construction (half of Check's cost otherwise).
_AUTH_COLUMNS = select(_A)
_BY_ID = select(_A).where(_A.c.id == bindparam("id"))
_BY_ID_LOCKED = _BY_ID.with_for_update()
_CANDIDATES = select(_A).where(
    _A.c.requester == bindparam("requester"),
    _A.c.enterprise == bindparam("enterprise"),
    _A.c.purpose == bindparam("purpose"),
)


class SqlAuthorizations:
    """AuthorizationRepository on SQLAlchemy. ``locking`` (writers) locks read rows on PostgreSQL until commit."""

    def __init__(
        self,
        session: Session,
        *,
        locking: bool,
        evidence: EvidenceLog | None = None,
        cache: CandidateCache | None = None,
    ) -> None:
        self.session = session
        self.locking = locking
        self.evidence = evidence
        self._cache = cache
        self.marked: list[Key] = []

    def _mark(self, a: Authorization) -> None:
        if self._cache is not None:
            key = (a.requester, a.enterprise, a.purpose)
            self._cache.mark(key)
            self.marked.append(key)

    def get(self, authorization_id: str) -> Authorization | None:
        row = self.session.execute(_BY_ID_LOCKED if self.locking else _BY_ID, {"id": authorization_id}).first()
        return None if row is None else _to_authorization(row)

    def candidates(self, requester: str, enterprise: str, purpose: str) -> list[Authorization]:
        params = {"requester": requester, "enterprise": enterprise, "purpose": purpose}
        return [_to_authorization(r) for r in self.session.execute(_CANDIDATES, params)]

    def add(self, authorization: Authorization) -> None:
        a = authorization
        self._mark(a)
        self.session.add(
            AuthorizationRow(
                id=a.id,
                enterprise=a.enterprise,
                requester=a.requester,
                purpose=a.purpose,
                items=",".join(a.items),
                categories=",".join(a.categories),
                covered_items=",".join(sorted(a.covered_items)),
                valid_from=a.valid_from,
                valid_until=a.valid_until,
                data_since=a.data_since,
                use_limit_kind=a.use_limit.kind.value,
                max_uses=a.use_limit.max_uses,
                period_days=a.use_limit.period_days,
                state=a.state.value,
                uses_total=a.uses.total,
                period_index=a.uses.period_index,
                period_uses=a.uses.in_period,
                last_use_at=a.uses.last_use_at,
                revision=a.revision,
                signing_key_id=a.signing_key_id,
                last_receipt_digest=a.last_receipt_digest,
                created_at=a.created_at,
                updated_at=a.updated_at or a.created_at,
            )
        )
        self.session.flush()

    def update_state(self, authorization: Authorization) -> None:
        a = authorization
        self._mark(a)
        self.session.execute(
            update(_A)
            .where(_A.c.id == a.id)
            .values(
                state=a.state.value,
                revision=a.revision,
                updated_at=a.updated_at or a.created_at,
                last_receipt_digest=a.last_receipt_digest,
            )
        )

    def next_revision(self) -> int:
        # The UPDATE locks the counter row until commit, so writers commit in revision order (the watch needs that).
        value = self.session.execute(
            update(RevisionCounter)
            .where(RevisionCounter.id == 1)
            .values(value=RevisionCounter.value + 1)
            .returning(RevisionCounter.value)
        ).scalar_one()
        return int(value)

    def hold_revisions(self) -> None:
        self.session.execute(select(RevisionCounter.value).where(RevisionCounter.id == 1).with_for_update())

    def lock_live(self, keys: Sequence[tuple[str, str, str]]) -> frozenset[str] | None:
        if self.session.get_bind().dialect.name == "sqlite":
            return None  # BEGIN IMMEDIATE: one writer at a time, no row locks to order
        stmt = (
            select(_A.c.id)
            .where(tuple_(_A.c.requester, _A.c.enterprise, _A.c.purpose).in_(keys), _A.c.state.in_(_LIVE))
            .order_by(_A.c.id)
            .with_for_update()
        )
        return frozenset(self.session.execute(stmt).scalars())

    def append_event(self, event: Event) -> None:
        r = event.receipt
        self.session.execute(
            _E.insert().values(
                revision=r.revision,
                authorization_id=r.authorization_id,
                event_type=r.event_type.value,
                state_after=event.state_after.value,
                recorded_at=r.recorded_at,
                signed_payload=r.signed_payload,
                signature=r.signature,
                signing_key_id=r.signing_key_id,
                previous_digest=r.previous_digest,
                digest=r.digest,
            )
        )
        if self.evidence is not None:
            # The CONSENT_EVENT leaf commits with the event, or neither does: no receipt without its proof.
            self.evidence.append_in(self.session, LeafKind.CONSENT_EVENT, r.evidence_payload())

    def event(self, authorization_id: str, revision: int) -> Event | None:
        row = self.session.execute(
            select(_E).where(_E.c.authorization_id == authorization_id, _E.c.revision == revision)
        ).first()
        return None if row is None else _to_event(row)

    def last_event_of(self, authorization_id: str, event_types: Sequence[EventType]) -> Event | None:
        row = self.session.execute(
            select(_E)
            .where(_E.c.authorization_id == authorization_id, _E.c.event_type.in_([t.value for t in event_types]))
            .order_by(_E.c.revision.desc())
            .limit(1)
        ).first()
        return None if row is None else _to_event(row)

    def record_use(self, authorization: Authorization, use: Use) -> bool:
        if not use.request_id:  # nothing to clash with
            return self._spend(authorization, use)
        try:
            # In a savepoint: a clash on the request id undoes this use alone, not the batch it shares a
            # transaction with. PostgreSQL lets two tries of one request both find no use before either commits.
            with self.session.begin_nested():
                return self._spend(authorization, use)
        except IntegrityError as exc:
            raise Aborted("ERROR_REASON_CONCURRENT_MODIFICATION", "a concurrent try of this request won") from exc

    def _spend(self, authorization: Authorization, use: Use) -> bool:
        a, at = authorization, use.used_at
        period = a.use_limit.period_index(a.valid_from, at)
        if a.use_limit.kind is UseLimitKind.FREQUENCY:
            # UseCounter.has_use_left's rule: a fresh period, or this period with uses left; a use stamped in a
            # period older than the stored one (its clock read before a newer use committed) is refused.
            has_use = or_(
                _A.c.period_index < period, and_(_A.c.period_index == period, _A.c.period_uses < _A.c.max_uses)
            )
        else:
            has_use = _A.c.uses_total < _A.c.max_uses
        self._mark(a)
        # One conditional UPDATE: the row lock (PostgreSQL) or the writer lock (SQLite) makes it exactly-once.
        result = self.session.execute(
            update(_A)
            .where(
                _A.c.id == a.id,
                _A.c.state == State.ACTIVE.value,
                _A.c.valid_from <= at,
                _A.c.valid_until > at,
                has_use,
            )
            .values(
                uses_total=_A.c.uses_total + 1,
                # SET expressions see the row before the update, so this compares the old period.
                period_uses=case((_A.c.period_index == period, _A.c.period_uses + 1), else_=1),
                period_index=period,
                last_use_at=at,
            )
        )
        if getattr(result, "rowcount", 0) != 1:
            return False
        self.session.execute(
            _U.insert().values(
                authorization_id=use.authorization_id,
                used_at=use.used_at,
                items=",".join(use.items),
                request_id=use.request_id,
            )
        )
        return True

    def use_by_request(self, authorization_id: str, request_id: str) -> Use | None:
        row = self.session.execute(
            select(_U).where(_U.c.authorization_id == authorization_id, _U.c.request_id == request_id)
        ).first()
        if row is None:
            return None
        return Use(row.authorization_id, row.used_at, _codes(row.items), row.request_id)

    def list_for_enterprise(
        self, enterprise: str, requester: str | None, state: State | None, after: str | None, limit: int
    ) -> Page[Authorization]:
        stmt = _AUTH_COLUMNS.where(_A.c.enterprise == enterprise)
        if requester:
            stmt = stmt.where(_A.c.requester == requester)
        if state is not None:
            stmt = stmt.where(_A.c.state == state.value)
        if after:
            # Keyset paging on (created_at, id), newest first; the key is "<epoch microseconds>:<id>".
            micros, auth_id = _split_key(after)
            at = _EPOCH + timedelta(microseconds=micros)
            stmt = stmt.where(or_(_A.c.created_at < at, and_(_A.c.created_at == at, _A.c.id < auth_id)))
        rows = self.session.execute(stmt.order_by(_A.c.created_at.desc(), _A.c.id.desc()).limit(limit + 1)).all()
        items = [_to_authorization(r) for r in rows[:limit]]
        next_after = None
        if len(rows) > limit:
            last = items[-1]
            next_after = f"{(last.created_at - _EPOCH) // timedelta(microseconds=1)}:{last.id}"
        return Page(items, next_after)

    def list_events(self, authorization_id: str, after: str | None, limit: int) -> Page[Event]:
        stmt = select(_E).where(_E.c.authorization_id == authorization_id)
        if after:
            stmt = stmt.where(_E.c.revision > index_position(after))
        rows = self.session.execute(stmt.order_by(_E.c.revision).limit(limit + 1)).all()
        events = [_to_event(r) for r in rows[:limit]]
        return Page(events, str(events[-1].revision) if len(rows) > limit else None)

    def list_uses(self, authorization_id: str, after: str | None, limit: int) -> Page[Use]:
        stmt = select(_U).where(_U.c.authorization_id == authorization_id)
        if after:
            stmt = stmt.where(_U.c.id > index_position(after))
        rows = self.session.execute(stmt.order_by(_U.c.id).limit(limit + 1)).all()
        uses = [Use(r.authorization_id, r.used_at, _codes(r.items), r.request_id) for r in rows[:limit]]
        return Page(uses, str(rows[limit - 1].id) if len(rows) > limit else None)

    def due_to_expire(self, at: datetime, limit: int) -> list[Authorization]:
        stmt = _AUTH_COLUMNS.where(_A.c.state.in_(_LIVE), _A.c.valid_until <= at).order_by(_A.c.id).limit(limit)
        if self.locking:
            stmt = stmt.with_for_update()
        return [_to_authorization(r) for r in self.session.execute(stmt)]

    def live_for_requester(self, requester: str) -> list[Authorization]:
        stmt = _AUTH_COLUMNS.where(_A.c.requester == requester, _A.c.state.in_(_LIVE)).order_by(_A.c.id)
        if self.locking:
            stmt = stmt.with_for_update()
        return [_to_authorization(r) for r in self.session.execute(stmt)]


class SqlNonces:
    """NonceRepository on SQLAlchemy."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, enterprise: str, nonce: str) -> NonceRecord | None:
        row = self.session.get(NonceRow, (enterprise, nonce))
        if row is None:
            return None
        return NonceRecord(
            row.enterprise, row.nonce, row.request_digest, row.authorization_id, row.revision, row.expires_at
        )

    def add(self, record: NonceRecord) -> None:
        self.session.add(
            NonceRow(
                enterprise=record.enterprise,
                nonce=record.nonce,
                request_digest=record.request_digest,
                authorization_id=record.authorization_id,
                revision=record.revision,
                expires_at=record.expires_at,
            )
        )

    def purge(self, before: datetime) -> int:
        result = self.session.execute(delete(NonceRow).where(NonceRow.expires_at < before))
        return int(getattr(result, "rowcount", 0) or 0)


class SqlRemovedRequesters:
    """RemovedRequesterRepository on SQLAlchemy."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, requester: str, at: datetime) -> None:
        if self.session.get(RemovedRequester, requester) is None:
            self.session.add(RemovedRequester(requester=requester, removed_at=at))

    def contains(self, requester: str) -> bool:
        return self.session.get(RemovedRequester, requester) is not None


class ConsentUnitOfWork(SqlUnitOfWork):
    """The kit's unit of work with the consent repositories attached."""

    authorizations: SqlAuthorizations
    nonces: SqlNonces
    removed_requesters: SqlRemovedRequesters

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        *,
        locking: bool,
        evidence: EvidenceLog | None = None,
        cache: CandidateCache | None = None,
    ) -> None:
        super().__init__(session_factory)
        self._locking = locking
        self._evidence = evidence
        self._cache = cache

    def __enter__(self) -> Self:
        super().__enter__()
        self.authorizations = SqlAuthorizations(
            self.session, locking=self._locking, evidence=self._evidence, cache=self._cache
        )
        self.nonces = SqlNonces(self.session)
        self.removed_requesters = SqlRemovedRequesters(self.session)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        try:
            return super().__exit__(exc_type, exc, tb)
        finally:
            if self._cache is not None and self.authorizations.marked:
                self._cache.release(self.authorizations.marked)

    def commit(self) -> None:
        try:
            super().commit()
        except IntegrityError as exc:
            # Only a concurrent duplicate (nonce, request id) can clash: the other request won.
            raise Aborted("ERROR_REASON_CONCURRENT_MODIFICATION", "a concurrent request won; retry") from exc


class SqlChangeFeed:
    """ChangeFeed for the watch hub, each read in its own short read-only transaction."""

    def __init__(self, reader: sessionmaker[Session]) -> None:
        self._reader = reader

    def current_revision(self) -> int:
        with self._reader() as session:
            return int(session.execute(select(RevisionCounter.value).where(RevisionCounter.id == 1)).scalar_one())

    def changes_after(self, revision: int, limit: int) -> list[tuple[Event, Authorization]]:
        stmt = (
            select(_E, *[c.label(f"a_{c.name}") for c in _A.c])
            .join(_A, _A.c.id == _E.c.authorization_id)
            .where(_E.c.revision > revision)
            .order_by(_E.c.revision)
            .limit(limit)
        )
        out: list[tuple[Event, Authorization]] = []
        with self._reader() as session:
            for row in session.execute(stmt):
                event = _to_event(row)
                auth = _to_authorization(_Prefixed(row))
                auth.state, auth.revision = event.state_after, event.revision
                auth.updated_at = event.receipt.recorded_at
                out.append((event, auth))
        return out

    def live_authorizations(self) -> list[Authorization]:
        with self._reader() as session:
            return [_to_authorization(r) for r in session.execute(_AUTH_COLUMNS.where(_A.c.state.in_(_LIVE)))]


class _Prefixed:
    """Reads ``a_<column>`` of a joined row as ``<column>``."""

    def __init__(self, row: Row[Any]) -> None:
        self._row = row

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, f"a_{name}")


def unit_of_work_factories(
    writer: sessionmaker[Session],
    reader: sessionmaker[Session],
    evidence: EvidenceLog | None = None,
    cache: CandidateCache | None = None,
) -> tuple[Callable[[], ConsentUnitOfWork], Callable[[], ConsentUnitOfWork]]:
    """(writing, reading) unit-of-work factories; writers append each receipt's leaf to ``evidence`` and drop what
    they change from Check's ``cache``."""
    return (
        lambda: ConsentUnitOfWork(writer, locking=True, evidence=evidence, cache=cache),
        lambda: ConsentUnitOfWork(reader, locking=False),
    )


def cached_candidates(reader: Callable[[], ConsentUnitOfWork], cache: CandidateCache) -> CachedCandidates:
    """Check's candidate lookup through ``cache``, reading misses in a ``reader`` unit of work."""

    def read(key: Key) -> list[Authorization]:
        with reader() as uow:
            return uow.authorizations.candidates(*key)

    return CachedCandidates(cache, read)


class SqlRegistryCursor:
    """The participant-watch cursor, kept in the consent database."""

    def __init__(self, writer: sessionmaker[Session]) -> None:
        self._writer = writer

    def load(self) -> int:
        with self._writer() as session:
            row = session.get(RegistryCursor, 1)
            return 0 if row is None else int(row.revision)

    def save(self, revision: int) -> None:
        with self._writer() as session, session.begin():
            row = session.get(RegistryCursor, 1)
            if row is None:
                session.add(RegistryCursor(id=1, revision=revision))
            else:
                row.revision = revision
