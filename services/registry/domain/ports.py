"""The registry's ports: what its use cases need from storage and from the certificate authority."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self

from services.registry.domain.credentials import CertifiedKey, RevocationReason
from services.registry.domain.ledger import (
    ChunkWrites,
    DeliveryFigures,
    Dispute,
    ListEntry,
    RecordChange,
    RecordHead,
    StoredVersion,
)
from services.registry.domain.participants import (
    Breach,
    Department,
    Enterprise,
    Institution,
    Platform,
    PlatformStatus,
    StatusChange,
)


class ParticipantKind(StrEnum):
    PLATFORM = "PLATFORM"
    INSTITUTION = "INSTITUTION"
    ENTERPRISE = "ENTERPRISE"
    DEPARTMENT = "DEPARTMENT"


class EventType(StrEnum):
    UPSERT = "UPSERT"
    TOMBSTONE = "TOMBSTONE"


@dataclass(frozen=True)
class ParticipantEvent:
    """A change to one participant, visible to watchers from ``revision`` on."""

    revision: int
    kind: ParticipantKind
    participant_id: str
    type: EventType


@dataclass(frozen=True)
class RequestRecord:
    """A mutation already applied under a request_id, so a retry returns its result instead of repeating it."""

    request_id: str
    method: str
    fingerprint: str
    resource_id: str
    certificate_serial: str = ""


@dataclass(frozen=True)
class IssuedCertificate:
    """A client certificate the node CA issued to a platform."""

    serial: str
    platform_id: str
    pem: str
    not_after: datetime
    public_key_sha256: str  # of the certified key's SubjectPublicKeyInfo DER (hex)
    revoked_at: datetime | None = None
    revocation_reason: RevocationReason | None = None  # None for one revoked before reasons were kept


class PlatformRepository(Protocol):
    def get(self, platform_id: str) -> Platform | None:
        """The platform, or None when no platform has that id."""

    def add(self, platform: Platform) -> None:
        """Stage a new platform; the id must be new (checked by the caller)."""

    def save(self, platform: Platform) -> None:
        """Stage changes to a platform obtained from ``get``; commit fails with Aborted if another change won."""

    def page(
        self, *, after: str | None, limit: int, status: PlatformStatus | None, region_code: str, proxy_id: str
    ) -> list[Platform]:
        """Platforms ordered by id, after ``after``, filtered by the non-empty criteria."""

    def all(self) -> list[Platform]:
        """Every platform (the node has hundreds at most)."""


class InstitutionRepository(Protocol):
    def get(self, institution_id: str) -> Institution | None: ...

    def add(self, institution: Institution) -> None: ...

    def save(self, institution: Institution) -> None: ...

    def page(self, *, after: str | None, limit: int, platform_id: str) -> list[Institution]: ...

    def of_platforms(self, platform_ids: list[str]) -> list[Institution]:
        """Institutions connecting through any of these platforms."""

    def all(self) -> list[Institution]: ...


class EnterpriseRepository(Protocol):
    def get(self, uscc: str) -> Enterprise | None: ...

    def add(self, enterprise: Enterprise) -> None: ...

    def save(self, enterprise: Enterprise) -> None: ...

    def page(self, *, after: str | None, limit: int, platform_id: str) -> list[Enterprise]: ...

    def count_created_by(self, at: datetime) -> int: ...

    def lock_key(self, public_key: bytes) -> None:
        """Hold off other transactions locking the same key until this one ends: a ``key_holder`` asked after it sees
        a key another transaction was adding once that one committed (READ COMMITTED hides it until then)."""
        ...

    def key_holder(self, public_key: bytes) -> str | None:
        """The USCC of an enterprise that holds or held ``public_key`` (active or retired), if any."""
        ...


class DepartmentRepository(Protocol):
    def get(self, code: str) -> Department | None: ...

    def add(self, department: Department) -> None: ...

    def page(self, *, after: str | None, limit: int) -> list[Department]: ...

    def count_created_by(self, at: datetime) -> int: ...


class HistoryLog(Protocol):
    def append(self, kind: ParticipantKind, participant_id: str, change: StatusChange) -> None:
        """Append one change; history rows are never updated or deleted."""

    def page(
        self, kind: ParticipantKind, participant_id: str, *, after: int, limit: int
    ) -> list[tuple[int, StatusChange]]:
        """(sequence, change) pairs oldest first, after sequence ``after``."""

    def up_to(self, kind: ParticipantKind, at: datetime) -> list[tuple[str, StatusChange]]:
        """Every change of that kind made at or before ``at``, oldest first."""


class EventLog(Protocol):
    def next_revision(self) -> int:
        """Allocate this transaction's revision; concurrent writers are serialized until commit."""

    def append(self, event: ParticipantEvent) -> None: ...

    def current_revision(self) -> int:
        """The revision counter: record changes advance it too."""

    def latest_event_revision(self) -> int:
        """The revision of the latest participant event (0 before any): what the participant watch reaches."""

    def after(self, revision: int, max_revisions: int) -> list[ParticipantEvent]:
        """Events with revision > ``revision``, whole revisions only, at most ``max_revisions`` of them."""


class RequestLog(Protocol):
    def get(self, request_id: str) -> RequestRecord | None: ...

    def add(self, record: RequestRecord) -> None: ...


class CertificateLog(Protocol):
    def add(self, certificate: IssuedCertificate) -> None: ...

    def get(self, serial: str) -> IssuedCertificate | None: ...

    def revoke(self, serial: str, at: datetime, *, reason: RevocationReason, retire_key: bool = True) -> None:
        """Mark revoked for ``reason`` (idempotent: the first revocation's time and reason stay); revocations are
        never undone. The certificate's key is retired too unless ``retire_key`` is False (a renewal of that same key
        supersedes the certificate)."""

    def key(self, public_key_sha256: str) -> CertifiedKey | None:
        """Who holds that key, or None if the CA never certified it."""

    def claim_key(self, public_key_sha256: str, platform_id: str, at: datetime) -> CertifiedKey:
        """Record the platform as the key's holder unless the key has one; the holder as stored afterwards. One key
        has one holder (a unique key): of two transactions claiming it, one waits for the other and sees its
        holder."""

    def revoked(self) -> list[IssuedCertificate]: ...

    def next_crl_number(self) -> int:
        """The number of the CRL about to be signed: greater than every number taken before, by any replica and
        across restarts (RFC 5280 5.2.3). Taking one holds off other takers until this transaction ends."""


class SharingListStore(Protocol):
    def latest_version(self) -> int:
        """The newest version number, 0 before the first publish."""

    def all(self) -> list[ListEntry]:
        """Every version, oldest first."""

    def add(self, entry: ListEntry) -> None:
        """Append a version; the caller stamps the previous one through ``supersede``."""

    def supersede(self, version: int, at: datetime) -> None: ...


class RecordStore(Protocol):
    def stream_position(self, department: str, stream_id: str) -> int:
        """The last committed sequence of a stream (0 when unknown); held for update until commit."""

    def set_stream_position(self, department: str, stream_id: str, sequence: int, at: datetime) -> None: ...

    def heads_for_ingest(self, record_ids: list[str]) -> dict[str, RecordHead]:
        """Heads with their department fingerprints by source version, in one query each."""

    def registered(self, usccs: list[str]) -> set[str]:
        """Which of these enterprises are registered."""

    def lock_for_parking(self, usccs: list[str]) -> None:
        """Until commit, hold off the registration of these enterprises (waiting first for one under way); chunks
        do not wait for each other. A no-op where writers are serialized anyway (SQLite)."""

    def lock_for_registration(self, uscc: str) -> None:
        """Until commit, hold off chunks about to park records of this enterprise (waiting first for those that hold
        it). A no-op where writers are serialized anyway (SQLite)."""

    def superseded(self, fingerprints: list[str]) -> set[str]:
        """Which of these contents were corrected away."""

    def add_superseded(self, fingerprint: str, record_id: str, at: datetime) -> None: ...

    def write(self, writes: ChunkWrites) -> None:
        """Store a chunk in bulk: new and updated heads, versions, closed versions, changes, refusals."""

    def apply_parked(self, uscc: str, revision: int, at: datetime) -> list[str]:
        """Make the enterprise's parked records current and record them as created at ``revision``."""

    def head(self, record_id: str) -> RecordHead | None: ...

    def versions(self, record_id: str) -> list[StoredVersion]:
        """Every version of a record, oldest first."""

    def current_versions(self, record_ids: list[str]) -> dict[str, StoredVersion]:
        """The newest version of each record."""

    def enterprise_versions(
        self, uscc: str, *, item_codes: list[str] | None, at: datetime | None, after: str | None, limit: int
    ) -> list[tuple[RecordHead, StoredVersion]]:
        """Non-parked records of an enterprise with the version in force at ``at`` (None: now), ordered by
        (item code, event time, record id); ``after`` is the previous page's last key as written by ``page_key``."""

    def disputes(self, record_ids: list[str]) -> dict[str, list[Dispute]]:
        """Every dispute (open and cleared) of these records, oldest first."""

    def add_dispute(self, dispute: Dispute) -> None: ...

    def lock_dispute(self, record_id: str, objection: str) -> None:
        """Until commit, hold off other writers of this objection's flag on the record (waiting first for one under
        way), so what is read of it next is what was committed. A no-op where writers are serialized (SQLite)."""

    def clear_dispute(self, record_id: str, objection: str, at: datetime, outcome: str, statement: str) -> None: ...

    def set_statement(self, record_id: str, objection: str, statement: str) -> None:
        """Replace the statement shown for an objection already cleared on the record."""

    def changes_after(self, revision: int, max_revisions: int) -> list[RecordChange]:
        """Changes with revision > ``revision``, whole revisions only."""

    def add_changes(self, changes: list[RecordChange]) -> None: ...

    def delivery_figures(self, start: datetime, end: datetime) -> dict[tuple[str, str], DeliveryFigures]:
        """Per (department, item): first deliveries, on time, refusals and last delivery in [start, end)."""

    def batch_result(self, request_id: str) -> tuple[str, str, str] | None:
        """(department, fingerprint, results JSON) of an earlier IngestBatch call."""

    def add_batch_result(self, request_id: str, department: str, fingerprint: str, results: str, at: datetime) -> None:
        """Remember an IngestBatch call's results."""


class BreachLog(Protocol):
    def add(self, breach: Breach) -> Breach:
        """Record a breach; when one with the same kind and reference exists, return that one unchanged."""

    def page(self, platform_id: str, *, after: int, limit: int) -> list[tuple[int, Breach]]:
        """(sequence, breach) pairs newest first, with sequence below ``after`` (0: from the newest)."""


class RegistryUnitOfWork(Protocol):
    """One transaction over the registry's storage; rolls back unless committed."""

    @property
    def platforms(self) -> PlatformRepository: ...

    @property
    def institutions(self) -> InstitutionRepository: ...

    @property
    def enterprises(self) -> EnterpriseRepository: ...

    @property
    def departments(self) -> DepartmentRepository: ...

    @property
    def history(self) -> HistoryLog: ...

    @property
    def events(self) -> EventLog: ...

    @property
    def requests(self) -> RequestLog: ...

    @property
    def certificates(self) -> CertificateLog: ...

    @property
    def breaches(self) -> BreachLog: ...

    @property
    def sharing_lists(self) -> SharingListStore: ...

    @property
    def records(self) -> RecordStore: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...

    def commit(self) -> None: ...


class CertificateAuthority(Protocol):
    """The node CA: issues platform client certificates from CSRs and signs revocation lists."""

    def requested_key(self, platform_id: str, csr_pem: str) -> str:
        """The SHA-256 (hex) of the SubjectPublicKeyInfo DER of the key a CSR asks to certify for the platform;
        raises InvalidArgument for a CSR that ``issue`` would refuse."""

    def issue(self, platform_id: str, csr_pem: str, now: datetime) -> IssuedCertificate:
        """Raises InvalidArgument when the CSR is malformed, its signature does not verify or it names another
        platform."""

    def ca_certificate_pem(self) -> str: ...

    def crl_der(self, revoked: list[IssuedCertificate], number: int, now: datetime) -> bytes:
        """The CRL numbered ``number``, signed now."""


class WatchSessions(Protocol):
    """Gateway replicas registered on the acknowledged participant watch, shared by every registry process.

    Leases count on one clock for all of them (the database's). A session is gone only once its lease lapsed."""

    def register(self, session_id: str, replica: str, lease_seconds: float) -> int:
        """Register a session with a first lease; returns the latest participant event's revision once it is
        registered (its floor)."""
        ...

    def record_ack(self, session_id: str, revision: int, lease_seconds: float) -> bool:
        """Record an acknowledgement and renew the lease from now; False when the session has lapsed (or is gone)."""
        ...

    def reap(self) -> None:
        """Unregister every session whose lease has lapsed."""
        ...

    def acked(self) -> dict[str, int]:
        """Every registered session's acknowledged revision."""
        ...
