"""In-memory fakes of the consent ports: a registry, a sharing list, a store with a unit of work, and a barrier."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Self

import yaml

from services.consent.domain.catalogue import DataItem, Openness
from services.consent.domain.model import Authorization, EventType, State
from services.consent.domain.ports import EnterpriseKey, Event, NonceRecord, Page, Requester, Use
from tests.consent_support.signing import Enterprise

SHARING_LIST = Path(__file__).with_name("sharing_list.yaml")


class FakeRegistry:
    """Registry port from dictionaries; ``calls`` counts lookups."""

    def __init__(self) -> None:
        self.keys: dict[str, list[EnterpriseKey]] = {}
        self.requesters: dict[str, Requester] = {}
        self.calls = 0

    def add_enterprise(self, enterprise: Enterprise, *, active: bool = True) -> None:
        self.keys.setdefault(enterprise.uscc, []).append(
            EnterpriseKey(enterprise.key_id, enterprise.public_key, active)
        )

    def add_requester(self, name: str, *, removed: bool = False, has_access: bool = True) -> None:
        self.requesters[name] = Requester(name, removed, has_access)

    def enterprise_keys(self, uscc: str) -> list[EnterpriseKey] | None:
        self.calls += 1
        return self.keys.get(uscc)

    def requester(self, name: str) -> Requester | None:
        self.calls += 1
        return self.requesters.get(name)


class FakeSharingList:
    """SharingList port over a small YAML list (``items`` with ``code``, ``category`` and ``openness``)."""

    def __init__(self, path: Path = SHARING_LIST) -> None:
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))["items"]
        self.items = {
            str(e["code"]): DataItem(str(e["code"]), str(e["category"]), Openness(str(e["openness"]))) for e in entries
        }

    def item(self, code: str) -> DataItem | None:
        return self.items.get(code)

    def category(self, code: str) -> Sequence[DataItem] | None:
        members = [i for i in self.items.values() if i.category == code]
        return members or None


@dataclass
class MemoryData:
    """What the fake store holds; a unit of work works on a copy and swaps it in on commit."""

    authorizations: dict[str, Authorization] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    uses: list[Use] = field(default_factory=list)
    nonces: dict[tuple[str, str], NonceRecord] = field(default_factory=dict)
    revision: int = 0
    removed: set[str] = field(default_factory=set)

    def copy(self) -> MemoryData:
        return MemoryData(
            {k: v.copy() for k, v in self.authorizations.items()},
            list(self.events),
            list(self.uses),
            dict(self.nonces),
            self.revision,
            set(self.removed),
        )


class MemoryAuthorizations:
    def __init__(self, data: MemoryData) -> None:
        self.d = data

    def get(self, authorization_id: str) -> Authorization | None:
        a = self.d.authorizations.get(authorization_id)
        return None if a is None else a.copy()

    def candidates(self, requester: str, enterprise: str, purpose: str) -> list[Authorization]:
        return [
            a.copy()
            for a in self.d.authorizations.values()
            if (a.requester, a.enterprise, a.purpose) == (requester, enterprise, purpose)
        ]

    def add(self, authorization: Authorization) -> None:
        assert authorization.id not in self.d.authorizations
        self.d.authorizations[authorization.id] = authorization.copy()

    def update_state(self, authorization: Authorization) -> None:
        stored = self.d.authorizations[authorization.id]
        stored.state, stored.revision = authorization.state, authorization.revision
        stored.updated_at, stored.last_receipt_digest = authorization.updated_at, authorization.last_receipt_digest

    def next_revision(self) -> int:
        self.d.revision += 1
        return self.d.revision

    def hold_revisions(self) -> None:
        pass  # units of work are serialized

    def lock_live(self, keys: Sequence[tuple[str, str, str]]) -> frozenset[str] | None:
        return None  # units of work are serialized

    def append_event(self, event: Event) -> None:
        self.d.events.append(event)

    def event(self, authorization_id: str, revision: int) -> Event | None:
        return next(
            (e for e in self.d.events if e.receipt.authorization_id == authorization_id and e.revision == revision),
            None,
        )

    def last_event_of(self, authorization_id: str, event_types: Sequence[EventType]) -> Event | None:
        found = [
            e for e in self.d.events if e.receipt.authorization_id == authorization_id and e.event_type in event_types
        ]
        return found[-1] if found else None

    def record_use(self, authorization: Authorization, use: Use) -> bool:
        stored, at = self.d.authorizations[authorization.id], use.used_at
        period = stored.use_limit.period_index(stored.valid_from, at)
        ok = (
            stored.state is State.ACTIVE
            and stored.valid_from <= at < stored.valid_until
            and stored.uses.has_use_left(stored.use_limit, period)
        )
        if ok:
            stored.uses = stored.uses.after_use(period, at)
            self.d.uses.append(use)
        return ok

    def use_by_request(self, authorization_id: str, request_id: str) -> Use | None:
        return next(
            (u for u in self.d.uses if u.authorization_id == authorization_id and u.request_id == request_id), None
        )

    def list_for_enterprise(
        self, enterprise: str, requester: str | None, state: State | None, after: str | None, limit: int
    ) -> Page[Authorization]:
        found = sorted(
            (
                a
                for a in self.d.authorizations.values()
                if a.enterprise == enterprise
                and (requester is None or a.requester == requester)
                and (state is None or a.state is state)
            ),
            key=lambda a: (a.created_at, a.id),
            reverse=True,
        )
        start = 0 if after is None else next(i for i, a in enumerate(found) if a.id == after) + 1
        page = found[start : start + limit]
        return Page([a.copy() for a in page], page[-1].id if start + limit < len(found) else None)

    def list_events(self, authorization_id: str, after: str | None, limit: int) -> Page[Event]:
        found = [e for e in self.d.events if e.receipt.authorization_id == authorization_id]
        found = [e for e in found if after is None or e.revision > int(after)]
        return Page(found[:limit], str(found[limit - 1].revision) if len(found) > limit else None)

    def list_uses(self, authorization_id: str, after: str | None, limit: int) -> Page[Use]:
        found = [u for u in self.d.uses if u.authorization_id == authorization_id]
        start = int(after or 0)
        return Page(found[start : start + limit], str(start + limit) if start + limit < len(found) else None)

    def due_to_expire(self, at: datetime, limit: int) -> list[Authorization]:
        due = [
            a.copy()
            for a in self.d.authorizations.values()
            if a.state in (State.ACTIVE, State.PAUSED) and a.valid_until <= at
        ]
        return due[:limit]

    def live_for_requester(self, requester: str) -> list[Authorization]:
        return [
            a.copy()
            for a in self.d.authorizations.values()
            if a.requester == requester and a.state in (State.ACTIVE, State.PAUSED)
        ]


class MemoryNonces:
    def __init__(self, data: MemoryData) -> None:
        self.d = data

    def get(self, enterprise: str, nonce: str) -> NonceRecord | None:
        return self.d.nonces.get((enterprise, nonce))

    def add(self, record: NonceRecord) -> None:
        assert (record.enterprise, record.nonce) not in self.d.nonces
        self.d.nonces[(record.enterprise, record.nonce)] = record

    def purge(self, before: datetime) -> int:
        old = [k for k, r in self.d.nonces.items() if r.expires_at < before]
        for k in old:
            del self.d.nonces[k]
        return len(old)


class MemoryRemovedRequesters:
    def __init__(self, data: MemoryData) -> None:
        self.d = data

    def add(self, requester: str, at: datetime) -> None:
        self.d.removed.add(requester)

    def contains(self, requester: str) -> bool:
        return requester in self.d.removed


class MemoryStore:
    """The fake store; ``unit_of_work`` makes serialized transactions over it (like SQLite's writer lock)."""

    def __init__(self) -> None:
        self.data = MemoryData()
        self.lock = threading.RLock()

    def unit_of_work(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self)


class MemoryUnitOfWork:
    def __init__(self, store: MemoryStore) -> None:
        self._store = store

    @property
    def authorizations(self) -> MemoryAuthorizations:
        return self._authorizations

    @property
    def nonces(self) -> MemoryNonces:
        return self._nonces

    @property
    def removed_requesters(self) -> MemoryRemovedRequesters:
        return self._removed

    def __enter__(self) -> Self:
        self._store.lock.acquire()
        self._data = self._store.data.copy()
        self._authorizations = MemoryAuthorizations(self._data)
        self._nonces = MemoryNonces(self._data)
        self._removed = MemoryRemovedRequesters(self._data)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._store.lock.release()

    def commit(self) -> None:
        self._store.data = self._data.copy()


class RecordingBarrier:
    """EnforcementBarrier that records what the use cases asked for."""

    def __init__(self) -> None:
        self.committed_revisions: list[int] = []
        self.waited: list[int] = []

    def committed(self, revision: int) -> None:
        self.committed_revisions.append(revision)

    def wait_enforced(self, revision: int) -> None:
        self.waited.append(revision)


def copy_authorization(a: Authorization, **changes: object) -> Authorization:
    return replace(a, **changes)  # type: ignore[arg-type]
