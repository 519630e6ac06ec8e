"""Ports the consent use cases need: storage, the registry, the enforcement barrier and the receipt hook."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Generic, Protocol, Self, TypeVar

from services.consent.domain.model import Authorization, EventType, State
from services.consent.domain.signing import Receipt


@dataclass(frozen=True)
class Event:
    """One history step: the authorization's state after it, and its receipt (revision = receipt.revision)."""

    receipt: Receipt
    state_after: State

    @property
    def revision(self) -> int:
        return self.receipt.revision

    @property
    def event_type(self) -> EventType:
        return self.receipt.event_type


@dataclass(frozen=True)
class Use:
    """One recorded use of an authorization."""

    authorization_id: str
    used_at: datetime
    items: tuple[str, ...]
    request_id: str


@dataclass(frozen=True)
class NonceRecord:
    """A nonce an enterprise used: what it signed (digest) and what came of it, kept while replay is possible."""

    enterprise: str
    nonce: str
    request_digest: bytes
    authorization_id: str
    revision: int
    expires_at: datetime


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and the key to continue after (None on the last page)."""

    items: list[T]
    next_after: str | None


class AuthorizationRepository(Protocol):
    """Authorizations, their append-only history with receipts, and their uses."""

    def get(self, authorization_id: str) -> Authorization | None:
        """The authorization, or None. In a writing unit of work the row is locked until commit."""

    def candidates(self, requester: str, enterprise: str, purpose: str) -> list[Authorization]:
        """Every authorization of that (requester, enterprise, purpose), in any state: one indexed lookup."""

    def add(self, authorization: Authorization) -> None:
        """Store a new authorization (its id must be new)."""

    def update_state(self, authorization: Authorization) -> None:
        """Persist a lifecycle change (state, revision, updated_at, last receipt digest)."""

    def next_revision(self) -> int:
        """Allocate the next revision; writers holding one commit in revision order."""

    def hold_revisions(self) -> None:
        """Take the revision counter as ``next_revision`` does, allocating nothing: every writer that took it before
        has committed (or rolled back) by the time this returns, and later ones wait for this commit."""

    def lock_live(self, keys: Sequence[tuple[str, str, str]]) -> frozenset[str] | None:
        """Lock the ACTIVE and PAUSED authorizations of these (requester, enterprise, purpose) keys until commit, in
        id order, and return their ids; None when the store runs one writer at a time (nothing to order)."""

    def append_event(self, event: Event) -> None:
        """Append one history step (never updated or deleted)."""

    def event(self, authorization_id: str, revision: int) -> Event | None:
        """The history step of that authorization at that revision, or None."""

    def last_event_of(self, authorization_id: str, event_types: Sequence[EventType]) -> Event | None:
        """The latest history step of those types, or None."""

    def record_use(self, authorization: Authorization, use: Use) -> bool:
        """Spend one use at ``use.used_at`` and record it, or neither: False when the authorization is no longer
        ACTIVE, valid then and with a use left (under concurrency at most ``max_uses`` calls per period return True).
        Raises Aborted when a concurrent try of the same request id recorded its use first.
        """

    def use_by_request(self, authorization_id: str, request_id: str) -> Use | None:
        """The use recorded under that request id, for idempotent retries."""

    def list_for_enterprise(
        self, enterprise: str, requester: str | None, state: State | None, after: str | None, limit: int
    ) -> Page[Authorization]:
        """The enterprise's authorizations, newest first."""

    def list_events(self, authorization_id: str, after: str | None, limit: int) -> Page[Event]:
        """The authorization's history, oldest first."""

    def list_uses(self, authorization_id: str, after: str | None, limit: int) -> Page[Use]:
        """The authorization's uses, oldest first."""

    def due_to_expire(self, at: datetime, limit: int) -> list[Authorization]:
        """ACTIVE or PAUSED authorizations whose valid_until is at or before ``at``."""

    def live_for_requester(self, requester: str) -> list[Authorization]:
        """ACTIVE or PAUSED authorizations of a requester."""


class RemovedRequesterRepository(Protocol):
    """Requesters whose removal was handled (removal is final)."""

    def add(self, requester: str, at: datetime) -> None:
        """Record the removal; recording it again changes nothing."""

    def contains(self, requester: str) -> bool:
        """Whether the requester's removal was recorded."""


class CandidateLookup(Protocol):
    """Check's read path: the candidates of a (requester, enterprise, purpose) as the last committed write left them."""

    def candidates(self, requester: str, enterprise: str, purpose: str) -> Sequence[Authorization]:
        """Every authorization of that key, in any state."""


class ChangeFeed(Protocol):
    """What the watch hub reads: the current revision, the changes after a revision, and a listing."""

    def current_revision(self) -> int:
        """The highest committed revision (0 when nothing happened yet)."""

    def changes_after(self, revision: int, limit: int) -> list[tuple[Event, Authorization]]:
        """History steps after ``revision`` in order, each with the authorization as of that step."""

    def live_authorizations(self) -> list[Authorization]:
        """Every ACTIVE or PAUSED authorization as it stands."""


class NonceRepository(Protocol):
    """Nonces already used, per enterprise."""

    def get(self, enterprise: str, nonce: str) -> NonceRecord | None:
        """The record of that nonce, or None."""

    def add(self, record: NonceRecord) -> None:
        """Remember a nonce; a concurrent duplicate fails the commit (ABORTED)."""

    def purge(self, before: datetime) -> int:
        """Forget nonces that can no longer pass the window check; returns how many."""


class UnitOfWork(Protocol):
    """One transaction over the consent store; rolls back unless committed."""

    @property
    def authorizations(self) -> AuthorizationRepository: ...

    @property
    def nonces(self) -> NonceRepository: ...

    @property
    def removed_requesters(self) -> RemovedRequesterRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...

    def commit(self) -> None: ...


@dataclass(frozen=True)
class EnterpriseKey:
    """An enterprise's registered Ed25519 key."""

    key_id: str
    public_key: bytes
    active: bool


@dataclass(frozen=True)
class Requester:
    """A platform or institution as the registry sees it now."""

    name: str
    removed: bool
    has_access: bool


class Registry(Protocol):
    """Port to the registry service."""

    def enterprise_keys(self, uscc: str) -> list[EnterpriseKey] | None:
        """All keys of the enterprise (active and retired), or None when no such enterprise is registered."""

    def requester(self, name: str) -> Requester | None:
        """The platform or institution, or None when the registry does not know it."""


class EnforcementBarrier(Protocol):
    """Holds Pause and Revoke until no gateway replica can still act on the state before ``revision``."""

    def committed(self, revision: int) -> None:
        """A change at ``revision`` was committed: send it to the watchers now."""

    def wait_enforced(self, revision: int) -> None:
        """Return once every watching replica applied ``revision`` or lost its lease."""


class Clock(Protocol):
    """The node's clock (UTC)."""

    def __call__(self) -> datetime: ...
