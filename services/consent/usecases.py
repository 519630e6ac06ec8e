"""Use cases of the consent service: each command authenticates, then runs in one unit of work."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.consent.domain.catalogue import PurposeCatalogue, PurposeTemplate, SharingList, resolve_scope
from services.consent.domain.model import (
    Authorization,
    Decision,
    EventType,
    State,
    answer_retry,
    decide,
)
from services.consent.domain.ports import (
    CandidateLookup,
    Clock,
    EnforcementBarrier,
    EnterpriseKey,
    Event,
    NonceRecord,
    Page,
    Registry,
    UnitOfWork,
    Use,
)
from services.consent.domain.signing import (
    MAX_SIGNATURE_WINDOW,
    Action,
    GrantRequest,
    LifecycleRequest,
    Receipt,
    Signature,
    bad_signature,
    check_window,
    verify,
)
from services.kit.ed25519_keys import WEAK_KEY_REFUSED, is_signing_key
from services.kit.errors import (
    Aborted,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)

_FINAL = (State.REVOKED, State.EXPIRED)


def _requester_not_found(name: str) -> NotFound:
    platform = name.startswith("platforms/")
    # The name is the caller's and names no one: it is not echoed (an ID number or a mobile fits an id's shape), as
    # the registry echoes no unknown id. The field says which of the request's names it was.
    return NotFound(
        "ERROR_REASON_PLATFORM_NOT_FOUND" if platform else "ERROR_REASON_INSTITUTION_NOT_FOUND",
        "the requester is not registered",
        {"field": "requester"},
    )


@dataclass(frozen=True)
class Outcome:
    """What a signed command returns: the authorization as it stands and the receipt of the command's event."""

    authorization: Authorization
    receipt: Receipt


@dataclass(frozen=True)
class CheckQuery:
    """A check: may ``requester`` receive ``items`` of ``enterprise`` for ``purpose`` now (and use it up)?"""

    requester: str
    enterprise: str
    purpose: str
    items: tuple[str, ...]
    data_since: datetime | None = None
    consume: bool = False
    authorization_id: str | None = None
    request_id: str = ""


def _use_key(q: CheckQuery) -> tuple[str, str, str, str | None, str]:
    return (q.requester, q.enterprise, q.purpose, q.authorization_id, q.request_id)


class _RecentUses:
    """The uses this process recorded, by request: a retry finds its use here instead of in the database.

    Exact because a recorded use is never deleted, so the database would find the same use; what is not here (older,
    or recorded by another process) is looked up. The answer to a retry is decided afresh (``answer_retry``)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._capacity = capacity
        self._uses: dict[tuple[str, str, str, str | None, str], Use] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str, str, str | None, str]) -> Use | None:
        return self._uses.get(key)

    def put(self, key: tuple[str, str, str, str | None, str], use: Use) -> None:
        with self._lock:
            if len(self._uses) >= self._capacity:
                del self._uses[next(iter(self._uses))]  # the oldest goes first
            self._uses[key] = use


class Consent:
    """The consent service's use cases, wired once by the composition root."""

    def __init__(
        self,
        *,
        writer: Callable[[], UnitOfWork],
        reader: Callable[[], UnitOfWork],
        registry: Registry,
        sharing: SharingList,
        purposes: PurposeCatalogue,
        barrier: EnforcementBarrier,
        clock: Clock,
        window: timedelta = timedelta(minutes=5),
        lookup: CandidateLookup | None = None,
    ) -> None:
        self._writer = writer
        self._reader = reader
        self._lookup = lookup
        self._recent_uses = _RecentUses()
        self._registry = registry
        self._sharing = sharing
        self.purposes = purposes
        self._barrier = barrier
        self._clock = clock
        if window > MAX_SIGNATURE_WINDOW:
            raise ValueError("the signature window is at most MAX_SIGNATURE_WINDOW (nonces are kept that long)")
        self._window = window

    # ---------------------------------------------------------------- signed commands

    def _authenticate(self, enterprise: str, signature: Signature, signed: bytes) -> None:
        """The signature is the enterprise's, by one of its active keys, made within the window."""
        check_window(signature.signed_at, self._clock(), self._window)
        keys = self._registry.enterprise_keys(enterprise)
        key: EnterpriseKey | None = next((k for k in keys or [] if k.key_id == signature.key_id), None)
        if key is None or not verify(key.public_key, signed, signature.value):
            raise bad_signature()
        if not is_signing_key(key.public_key):
            # Registered before the registry refused such keys: the signature verifies, but anyone could have made it.
            raise FailedPrecondition("ERROR_REASON_KEY_NOT_ACTIVE", WEAK_KEY_REFUSED)
        if not key.active:
            raise FailedPrecondition("ERROR_REASON_KEY_NOT_ACTIVE", "the signing key is retired")

    def _replayed(self, uow: UnitOfWork, enterprise: str, signature: Signature, signed: bytes) -> Outcome | None:
        """The first outcome when this exact signed request was seen; refused when the nonce signed something else."""
        record = uow.nonces.get(enterprise, signature.nonce)
        if record is None:
            # Not seen, or seen and swept: the sweeper may purge a nonce once its window has ended, even while a
            # request that passed the window check on arrival is still being handled. Only a request whose window
            # still holds now, after the look-up, is new.
            check_window(signature.signed_at, self._clock(), self._window)
            return None
        if record.request_digest != hashlib.sha256(signed).digest():
            raise Unauthenticated("ERROR_REASON_NONCE_REUSED", "the nonce was already used for another request")
        auth = uow.authorizations.get(record.authorization_id)
        event = uow.authorizations.event(record.authorization_id, record.revision)
        if auth is None or event is None:  # pragma: no cover - history is append-only
            raise RuntimeError("a remembered nonce points at missing history")
        return Outcome(auth, event.receipt)

    def _remember(
        self, uow: UnitOfWork, enterprise: str, signature: Signature, signed: bytes, outcome: Outcome
    ) -> None:
        uow.nonces.add(
            NonceRecord(
                enterprise=enterprise,
                nonce=signature.nonce,
                request_digest=hashlib.sha256(signed).digest(),
                authorization_id=outcome.authorization.id,
                revision=outcome.receipt.revision,
                # A request signed longer ago than any window the node may be set to is refused anyway (see
                # MAX_SIGNATURE_WINDOW); the nonce can go then.
                expires_at=signature.signed_at + MAX_SIGNATURE_WINDOW,
            )
        )

    def _record(
        self,
        uow: UnitOfWork,
        auth: Authorization,
        event_type: EventType,
        at: datetime,
        signed: bytes = b"",
        signature: Signature | None = None,
    ) -> Receipt:
        """Append the event with its receipt (chained to the previous one) and persist the new state."""
        receipt = Receipt(
            authorization_id=auth.id,
            event_type=event_type,
            revision=auth.revision,
            recorded_at=at,
            signed_payload=signed,
            signature=signature.value if signature else b"",
            signing_key_id=signature.key_id if signature else "",
            previous_digest=auth.last_receipt_digest,
        )
        auth.last_receipt_digest = receipt.digest
        uow.authorizations.append_event(Event(receipt, auth.state))
        return receipt

    def grant(self, req: GrantRequest) -> Outcome:
        signed = req.canonical()
        self._authenticate(req.enterprise, req.signature, signed)
        template = self.purposes.get(req.purpose)
        template.check(req.valid_from, req.valid_until, req.data_since, req.use_limit)
        covered = resolve_scope(req.items, req.categories, self._sharing)
        now = self._clock()
        if req.valid_until <= now:
            raise InvalidArgument(
                "ERROR_REASON_INVALID_FIELD",
                "valid_until: is already past",
                {"field": "valid_until", "problem": "already past"},
            )
        with self._reader() as uow:  # a retry gets its first result, whatever became of the requester since
            replay = self._replayed(uow, req.enterprise, req.signature, signed)
        if replay is not None:
            return replay
        self._check_requester(req.requester)
        with self._writer() as uow:
            # The revision first: its counter row is locked until commit by every writer, so a first try racing this
            # one has committed by now (PostgreSQL) and its nonce is found; looked up before, the retry would clash on
            # the authorization's key. A retry's revision rolls back with it.
            revision = uow.authorizations.next_revision()
            raced = uow.nonces.get(req.enterprise, req.signature.nonce) is not None
            if not raced:
                check_window(req.signature.signed_at, self._clock(), self._window)  # new only if its window holds
                # The registry was asked before this transaction, and the removal watcher revokes only what has
                # committed. It records each removal under the counter too, so a removal it handled since is seen
                # here, and one it handles later finds this grant committed: none is left live, even across a crash.
                if uow.removed_requesters.contains(req.requester):
                    raise _requester_not_found(req.requester)
                auth = Authorization(
                    id=req.authorization_id(),
                    enterprise=req.enterprise,
                    requester=req.requester,
                    purpose=req.purpose,
                    items=req.items,
                    categories=req.categories,
                    covered_items=covered,
                    valid_from=req.valid_from,
                    valid_until=req.valid_until,
                    data_since=req.data_since,
                    use_limit=req.use_limit,
                    signing_key_id=req.signature.key_id,
                    created_at=now,
                    updated_at=now,
                    revision=revision,
                )
                uow.authorizations.add(auth)
                receipt = self._record(uow, auth, EventType.GRANTED, now, signed, req.signature)
                uow.authorizations.update_state(auth)
                outcome = Outcome(auth, receipt)
                self._remember(uow, req.enterprise, req.signature, signed, outcome)
                uow.commit()
        if raced:
            # A first try committed meanwhile: this is its retry (or the nonce's reuse). Answered outside the writer,
            # which holds the revision counter: locking the authorization's row after it could deadlock with a Pause
            # that holds the row and waits for the counter.
            with self._reader() as uow:
                replay = self._replayed(uow, req.enterprise, req.signature, signed)
            if replay is None:  # pragma: no cover - a nonce is purged only once its window has passed (stale above)
                raise Aborted("ERROR_REASON_CONCURRENT_MODIFICATION", "a concurrent request won; retry")
            return replay
        self._barrier.committed(auth.revision)
        return outcome

    def _check_requester(self, name: str) -> None:
        requester = self._registry.requester(name)
        if requester is None or requester.removed:
            raise _requester_not_found(name)
        if not requester.has_access:
            raise FailedPrecondition(
                "ERROR_REASON_REQUESTER_NO_ACCESS", "the requester may not use the node now", {"requester": name}
            )

    def change(self, req: LifecycleRequest) -> Outcome:
        """Pause, resume or revoke, as signed by the enterprise; Pause and Revoke return once enforced everywhere."""
        signed = req.canonical()
        self._authenticate(req.enterprise, req.signature, signed)
        with self._writer() as uow:
            # The row is locked (PostgreSQL) before the nonce is looked up: a try of this same request that commits
            # while this one waits for the row is then seen, and this one is its retry. Looked up first, a first try
            # committing meanwhile would make this one a new request: an illegal transition (a second Pause) or
            # ABORTED on the nonce, and answered without waiting for enforcement.
            auth = uow.authorizations.get(req.authorization_id)
            # The time is read once the row (PostgreSQL) or the writer lock (SQLite) is held: read before, a use
            # committed while this waited would be stamped after the receipt's record_time, and the history would
            # show a release after the pause or revocation that stopped it.
            now = self._clock()
            outcome = self._replayed(uow, req.enterprise, req.signature, signed)
            if outcome is None:
                # Permission before existence: someone else's authorization and a missing one look the same.
                if auth is None or auth.enterprise != req.enterprise:
                    raise PermissionDenied(
                        "ERROR_REASON_PERMISSION_DENIED", "the enterprise did not grant this authorization"
                    )
                outcome = self._apply(uow, auth, req, signed, now)
                self._remember(uow, req.enterprise, req.signature, signed, outcome)
                uow.commit()
        revision = outcome.receipt.revision
        self._barrier.committed(revision)
        if req.action in (Action.PAUSE, Action.REVOKE):
            self._barrier.wait_enforced(revision)
        return outcome

    def _apply(
        self, uow: UnitOfWork, auth: Authorization, req: LifecycleRequest, signed: bytes, now: datetime
    ) -> Outcome:
        if req.action is Action.REVOKE and auth.state is State.REVOKED:
            # Revoking twice is not an error: the first revocation's receipt answers.
            first = uow.authorizations.last_event_of(auth.id, [EventType.REVOKED, EventType.REVOKED_REQUESTER_REMOVED])
            if first is None:  # pragma: no cover - history is append-only
                raise RuntimeError("a revoked authorization without its revocation event")
            return Outcome(auth, first.receipt)
        revision = uow.authorizations.next_revision()
        if req.action is Action.PAUSE:
            event_type = auth.pause(now, revision)
        elif req.action is Action.RESUME:
            event_type = auth.resume(now, revision)
        else:
            event_type = auth.revoke(now, revision)
        receipt = self._record(uow, auth, event_type, now, signed, req.signature)
        uow.authorizations.update_state(auth)
        return Outcome(auth, receipt)

    # ---------------------------------------------------------------- node-initiated changes

    def revoke_for_requester(self, requester: str) -> int:
        """Record that a requester left the node and revoke its live authorizations; idempotent. Returns how many."""
        with self._writer() as uow:
            # Recorded under the revision counter, where a Grant looks for it: a grant that took the counter first
            # has committed once this has it, and the revocation below finds it; a later grant is refused. In its
            # own transaction: the revocation locks rows before the counter (as Pause does), the other way round
            # could deadlock. A crash in between is harmless: the watcher saves its cursor only after this returns.
            uow.authorizations.hold_revisions()
            uow.removed_requesters.add(requester, self._clock())
            uow.commit()
        with self._writer() as uow:
            live = uow.authorizations.live_for_requester(requester)
            now = self._clock()  # once the rows are locked: no use committed before them is stamped later (change)
            last = 0
            for auth in live:
                last = uow.authorizations.next_revision()
                # Past valid_until it has expired, whether or not the sweeper has recorded it yet: its history says
                # so (as the sweeper would), not that a removal revoked what had already ended.
                if now >= auth.valid_until:
                    event_type = auth.expire(now, last)
                else:
                    event_type = auth.revoke(now, last, requester_removed=True)
                self._record(uow, auth, event_type, now)
                uow.authorizations.update_state(auth)
            uow.commit()
        if live:
            self._barrier.committed(last)
            self._barrier.wait_enforced(last)
        return len(live)

    def expire_due(self, limit: int = 200) -> int:
        """Record EXPIRED for authorizations past valid_until (checks already treat them as expired)."""
        now = self._clock()
        with self._writer() as uow:
            due = uow.authorizations.due_to_expire(now, limit)
            last = 0
            for auth in due:
                last = uow.authorizations.next_revision()
                event_type = auth.expire(now, last)
                self._record(uow, auth, event_type, now)
                uow.authorizations.update_state(auth)
            purged = uow.nonces.purge(now)
            if due or purged:
                uow.commit()
        if due:
            self._barrier.committed(last)
        return len(due)

    # ---------------------------------------------------------------- check

    def check(self, q: CheckQuery) -> Decision:
        """The decision; with ``consume`` an ALLOW records one use in the same transaction."""
        if not q.consume:
            if self._lookup is not None and q.authorization_id is None:
                found = self._lookup.candidates(q.requester, q.enterprise, q.purpose)
                return decide(found, q.items, self._clock(), q.data_since)
            with self._reader() as uow:
                return decide(self._candidates(uow, q), q.items, self._clock(), q.data_since)
        if q.request_id:
            # A retry is answered without queueing behind writers; the writer checks again for a racing first try.
            decision = self._retried(q)
            if decision is not None:
                return decision
        return self._consume(q)

    def check_all(self, queries: Sequence[CheckQuery]) -> list[Decision | DomainError]:
        """Each check as ``check`` answers it, or the error it alone fails with (a request id reused, say); the
        consuming checks that must write share one writer transaction.

        They are processed in the order of their (requester, enterprise, purpose, authorization) key, which keeps
        request order within a key (so the first of two checks racing for a last use gets it) and makes concurrent
        batches lock PostgreSQL rows in one order."""
        out: list[Decision | DomainError | None] = [None] * len(queries)
        writes: list[int] = []
        for i, q in enumerate(queries):
            try:
                if not q.consume:
                    out[i] = self.check(q)
                elif q.request_id and (retry := self._retried(q)) is not None:
                    out[i] = retry
                else:
                    writes.append(i)
            except DomainError as exc:
                out[i] = exc
        if writes:
            # An unnamed authorization sorts first ("" not None: a key may hold named and unnamed checks).
            writes.sort(key=lambda i: (*_use_key(queries[i])[:3], queries[i].authorization_id or ""))
            used: list[tuple[CheckQuery, Decision]] = []
            with self._writer() as uow:
                now = self._clock()
                # The rows the uses may spend are locked first, in id order, as the expiry sweeper and a requester's
                # revocation lock theirs (PostgreSQL): locked check by check (key order, then whichever authorization
                # a decision picks) they could close a cycle with either. Rows gone live since are left alone.
                held = uow.authorizations.lock_live(sorted({_use_key(queries[i])[:3] for i in writes}))
                for i in writes:
                    try:
                        decision, recorded = self._consume_in(uow, queries[i], now, held)
                    except DomainError as exc:  # refused before anything was written for it
                        out[i] = exc
                        continue
                    out[i] = decision
                    if recorded:
                        used.append((queries[i], decision))
                if used:
                    uow.commit()
            for q, decision in used:
                self._used(q, decision, now)
        answers = [d for d in out if d is not None]
        assert len(answers) == len(queries)
        return answers

    def _retried(self, q: CheckQuery) -> Decision | None:
        """The answer to a retry of this consuming check (same request id, use recorded), if it is one."""
        use = self._recent_uses.get(_use_key(q))
        if use is not None and self._lookup is not None:
            # The exact candidate cache holds the authorization's state now: no database read for a retry.
            current = self._lookup.candidates(q.requester, q.enterprise, q.purpose)
            auth = next((a for a in current if a.id == use.authorization_id), None)
            if auth is not None:
                return answer_retry(auth, use.used_at, use.items, q.items, self._clock(), q.data_since)
        with self._reader() as uow:
            return self._retry_in(uow, q)

    def _consume(self, q: CheckQuery) -> Decision:
        """Decide and, on ALLOW, record one use, in one writer transaction."""
        with self._writer() as uow:
            now = self._clock()
            decision, recorded = self._consume_in(uow, q, now)
            if recorded:
                uow.commit()
                self._used(q, decision, now)
            return decision

    def _consume_in(
        self, uow: UnitOfWork, q: CheckQuery, now: datetime, held: frozenset[str] | None = None
    ) -> tuple[Decision, bool]:
        """The decision within ``uow``, and whether it recorded a use (durable once the caller commits). With
        ``held`` (the live rows ``uow`` locked), only those may be spent: no other row lock is taken."""
        if q.request_id:
            decision = self._retry_in(uow, q, held)
            if decision is not None:
                return decision, False
        candidates = self._spendable(uow, q, held)
        # Each failed conditional update means a concurrent change: re-read and decide again (bounded).
        for _ in range(len(candidates) + 1):
            decision = decide(candidates, q.items, now, q.data_since)
            auth = decision.authorization
            if not decision.allowed or auth is None:
                return decision, False
            try:
                if uow.authorizations.record_use(auth, Use(auth.id, now, q.items, q.request_id)):
                    return decision, True
            except Aborted:
                # Another try of this request recorded the use first: this one is its retry.
                retry = self._retry_in(uow, q, held)
                if retry is None:
                    raise
                return retry, False
            # The update found the row changed by a transaction that has committed (it waited for its lock). That may
            # be another try of this request spending the use, on this candidate or another: then this one is its
            # retry, and deciding again would record a second use under one request id (or deny the retry).
            if q.request_id and (retry := self._retry_in(uow, q, held)) is not None:
                return retry, False
            candidates = self._spendable(uow, q, held)
        decision = decide(candidates, q.items, now, q.data_since)
        if decision.allowed:
            # Still allowed, but no use could be recorded: an ALLOW now would release a use nobody counted.
            raise Aborted("ERROR_REASON_CONCURRENT_MODIFICATION", "the use could not be recorded; retry")
        return decision, False

    def _used(self, q: CheckQuery, decision: Decision, now: datetime) -> None:
        """After the commit: the answer reflects the use, and a retry finds its use in memory."""
        auth = decision.authorization
        assert auth is not None
        auth.uses = auth.uses.after_use(auth.use_limit.period_index(auth.valid_from, now), now)
        if q.request_id:
            self._recent_uses.put(_use_key(q), Use(auth.id, now, q.items, q.request_id))

    def _spendable(self, uow: UnitOfWork, q: CheckQuery, held: frozenset[str] | None) -> list[Authorization]:
        found = self._candidates(uow, q, held)
        # A final row never changes; a live one outside ``held`` is newer than the lock and is left alone.
        return found if held is None else [a for a in found if a.id in held or a.state in _FINAL]

    def _candidates(self, uow: UnitOfWork, q: CheckQuery, held: frozenset[str] | None = None) -> list[Authorization]:
        if held is not None:  # read without locking (get would lock a named row out of id order)
            found = uow.authorizations.candidates(q.requester, q.enterprise, q.purpose)
            return found if q.authorization_id is None else [a for a in found if a.id == q.authorization_id]
        if q.authorization_id is None:
            return uow.authorizations.candidates(q.requester, q.enterprise, q.purpose)
        auth = uow.authorizations.get(q.authorization_id)
        if auth is None or (auth.requester, auth.enterprise, auth.purpose) != (q.requester, q.enterprise, q.purpose):
            return []
        return [auth]

    def _retry_in(self, uow: UnitOfWork, q: CheckQuery, held: frozenset[str] | None = None) -> Decision | None:
        """The answer to a retry, when an earlier try of this check (same request id) recorded a use."""
        for auth in self._candidates(uow, q, held):
            use = uow.authorizations.use_by_request(auth.id, q.request_id)
            if use is not None:
                return answer_retry(auth, use.used_at, use.items, q.items, self._clock(), q.data_since)
        return None

    # ---------------------------------------------------------------- reads

    def get(self, authorization_id: str) -> Authorization:
        with self._reader() as uow:
            auth = uow.authorizations.get(authorization_id)
        if auth is None:
            raise NotFound("ERROR_REASON_AUTHORIZATION_NOT_FOUND", "no authorization has that name")
        return auth

    def list_authorizations(
        self, enterprise: str, requester: str | None, state: State | None, after: str | None, limit: int
    ) -> Page[Authorization]:
        with self._reader() as uow:
            return uow.authorizations.list_for_enterprise(enterprise, requester, state, after, limit)

    def list_events(self, authorization_id: str, after: str | None, limit: int) -> Page[Event]:
        with self._reader() as uow:
            if uow.authorizations.get(authorization_id) is None:
                raise NotFound("ERROR_REASON_AUTHORIZATION_NOT_FOUND", "no authorization has that name")
            return uow.authorizations.list_events(authorization_id, after, limit)

    def list_uses(self, authorization_id: str, after: str | None, limit: int) -> Page[Use]:
        with self._reader() as uow:
            if uow.authorizations.get(authorization_id) is None:
                raise NotFound("ERROR_REASON_AUTHORIZATION_NOT_FOUND", "no authorization has that name")
            return uow.authorizations.list_uses(authorization_id, after, limit)

    def list_purposes(self) -> Sequence[PurposeTemplate]:
        return self.purposes.all()
