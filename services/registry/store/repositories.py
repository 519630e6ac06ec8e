"""SQLAlchemy implementations of the registry's ports, and its unit of work."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, select, text, update
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import flag_modified

from services.kit.db import SqlUnitOfWork, insert_if_absent, utcnow
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.log import EvidenceLog
from services.registry.domain.credentials import CertifiedKey, RevocationReason
from services.registry.domain.participants import (
    Assessment,
    AssessmentKind,
    AssessmentResult,
    Breach,
    BreachKind,
    Department,
    DepartmentKind,
    Docking,
    Enterprise,
    EnterpriseKey,
    Institution,
    InstitutionStatus,
    InstitutionType,
    KeyState,
    Platform,
    PlatformKind,
    PlatformStatus,
    StatusChange,
)
from services.registry.domain.ports import (
    EventType,
    IssuedCertificate,
    ParticipantEvent,
    ParticipantKind,
    RequestRecord,
)
from services.registry.store.models import (
    AssessmentRow,
    BreachRow,
    CertificateRow,
    CertifiedKeyRow,
    CrlNumberRow,
    DepartmentRow,
    EnterpriseKeyRow,
    EnterpriseRow,
    InstitutionRow,
    ParticipantEventRow,
    PlatformRow,
    RequestRow,
    RevisionCounterRow,
    StatusHistoryRow,
)
from services.registry.store.records import SqlRecords, SqlSharingLists

_KEY_LOCKS = 0x454B4559  # "EKEY": advisory locks on an enterprise public key (another namespace than parking's)


class SqlPlatforms:
    def __init__(self, session: Session) -> None:
        self.s = session
        # Strong references to the rows handed out: the session's identity map is weak, and optimistic locking
        # needs the version as it was read, not a fresh reload at save time.
        self._loaded: dict[str, PlatformRow] = {}

    def _assessments(self, platform_id: str) -> dict[AssessmentKind, Assessment]:
        rows = self.s.scalars(
            select(AssessmentRow).where(AssessmentRow.platform_id == platform_id).order_by(AssessmentRow.id)
        )
        latest = {}
        for r in rows:  # ascending ids: the last of each kind is the latest
            latest[AssessmentKind(r.kind)] = Assessment(
                AssessmentKind(r.kind), r.assessor, r.assessed_on, AssessmentResult(r.result), r.findings, r.expires_on
            )
        return latest

    def _to_domain(self, r: PlatformRow) -> Platform:
        return Platform(
            platform_id=r.platform_id,
            display_name=r.display_name,
            kind=PlatformKind(r.kind),
            region_code=r.region_code,
            docking=Docking(r.docking),
            proxy_id=r.proxy_id,
            status=PlatformStatus(r.status),
            created_at=r.created_at,
            updated_at=r.updated_at,
            assessments=self._assessments(r.platform_id),
            certificate_serial=r.certificate_serial,
            version=r.version,
        )

    def get(self, platform_id: str) -> Platform | None:
        row = self.s.get(PlatformRow, platform_id)
        if row is None:
            return None
        self._loaded[platform_id] = row
        return self._to_domain(row)

    def add(self, platform: Platform) -> None:
        self._loaded[platform.platform_id] = row = PlatformRow(
            platform_id=platform.platform_id,
            display_name=platform.display_name,
            kind=platform.kind.value,
            region_code=platform.region_code,
            docking=platform.docking.value,
            proxy_id=platform.proxy_id,
            status=platform.status.value,
            certificate_serial=platform.certificate_serial,
            created_at=platform.created_at,
            updated_at=platform.updated_at,
        )
        self.s.add(row)
        self.s.flush()
        self._save_assessments(platform)

    def _save_assessments(self, platform: Platform) -> bool:
        stored = self._assessments(platform.platform_id)
        changed = False
        for kind, a in platform.assessments.items():
            if stored.get(kind) != a:
                changed = True
                self.s.add(
                    AssessmentRow(
                        platform_id=platform.platform_id,
                        kind=kind.value,
                        assessor=a.assessor,
                        assessed_on=a.assessed_on,
                        result=a.result.value,
                        findings=a.findings,
                        expires_on=a.expires_on,
                    )
                )
        return changed

    def save(self, platform: Platform) -> None:
        row = self._loaded[platform.platform_id]  # KeyError: save() takes a platform obtained from get()
        row.status = platform.status.value
        row.certificate_serial = platform.certificate_serial
        row.updated_at = platform.updated_at
        if self._save_assessments(platform):
            flag_modified(row, "updated_at")  # a new assessment is a change of the platform: bump its version
        self.s.flush()
        platform.version = row.version

    def page(
        self, *, after: str | None, limit: int, status: PlatformStatus | None, region_code: str, proxy_id: str
    ) -> list[Platform]:
        q = select(PlatformRow).order_by(PlatformRow.platform_id).limit(limit)
        if after is not None:
            q = q.where(PlatformRow.platform_id > after)
        if status is not None:
            q = q.where(PlatformRow.status == status.value)
        if region_code:
            q = q.where(PlatformRow.region_code == region_code)
        if proxy_id:
            q = q.where(PlatformRow.proxy_id == proxy_id)
        return [self._to_domain(r) for r in self.s.scalars(q)]

    def all(self) -> list[Platform]:
        return [self._to_domain(r) for r in self.s.scalars(select(PlatformRow).order_by(PlatformRow.platform_id))]


class SqlInstitutions:
    def __init__(self, session: Session) -> None:
        self.s = session
        self._loaded: dict[str, InstitutionRow] = {}

    @staticmethod
    def _to_domain(r: InstitutionRow) -> Institution:
        return Institution(
            r.institution_id,
            r.display_name,
            r.licence_number,
            InstitutionType(r.type),
            r.platform_id,
            InstitutionStatus(r.status),
            r.created_at,
            r.updated_at,
            r.version,
        )

    def get(self, institution_id: str) -> Institution | None:
        row = self.s.get(InstitutionRow, institution_id)
        if row is None:
            return None
        self._loaded[institution_id] = row
        return self._to_domain(row)

    def add(self, institution: Institution) -> None:
        self._loaded[institution.institution_id] = row = InstitutionRow(
            institution_id=institution.institution_id,
            display_name=institution.display_name,
            licence_number=institution.licence_number,
            type=institution.type.value,
            platform_id=institution.platform_id,
            status=institution.status.value,
            created_at=institution.created_at,
            updated_at=institution.updated_at,
        )
        self.s.add(row)
        self.s.flush()

    def save(self, institution: Institution) -> None:
        row = self._loaded[institution.institution_id]  # KeyError: save() takes an institution from get()
        row.status = institution.status.value
        row.updated_at = institution.updated_at
        self.s.flush()
        institution.version = row.version

    def page(self, *, after: str | None, limit: int, platform_id: str) -> list[Institution]:
        q = select(InstitutionRow).order_by(InstitutionRow.institution_id).limit(limit)
        if after is not None:
            q = q.where(InstitutionRow.institution_id > after)
        if platform_id:
            q = q.where(InstitutionRow.platform_id == platform_id)
        return [self._to_domain(r) for r in self.s.scalars(q)]

    def of_platforms(self, platform_ids: list[str]) -> list[Institution]:
        q = (
            select(InstitutionRow)
            .where(InstitutionRow.platform_id.in_(platform_ids))
            .order_by(InstitutionRow.institution_id)
        )
        return [self._to_domain(r) for r in self.s.scalars(q)]

    def all(self) -> list[Institution]:
        return [self._to_domain(r) for r in self.s.scalars(select(InstitutionRow))]


class SqlEnterprises:
    def __init__(self, session: Session) -> None:
        self.s = session
        self._loaded: dict[str, EnterpriseRow] = {}

    def _to_domain(self, r: EnterpriseRow, keys: list[EnterpriseKeyRow]) -> Enterprise:
        return Enterprise(
            r.uscc,
            r.display_name,
            r.platform_id,
            [EnterpriseKey(k.key_id, k.public_key, KeyState(k.state), k.created_at, k.retired_at) for k in keys],
            r.legacy_org_code_warning,
            r.created_at,
            r.updated_at,
            r.version,
        )

    def _keys(self, usccs: list[str]) -> dict[str, list[EnterpriseKeyRow]]:
        out: dict[str, list[EnterpriseKeyRow]] = {u: [] for u in usccs}
        q = select(EnterpriseKeyRow).where(EnterpriseKeyRow.uscc.in_(usccs)).order_by(EnterpriseKeyRow.created_at)
        for k in self.s.scalars(q):
            out[k.uscc].append(k)
        return out

    def get(self, uscc: str) -> Enterprise | None:
        row = self.s.get(EnterpriseRow, uscc)
        if row is None:
            return None
        self._loaded[uscc] = row
        return self._to_domain(row, self._keys([uscc])[uscc])

    def add(self, enterprise: Enterprise) -> None:
        self._loaded[enterprise.uscc] = row = EnterpriseRow(
            uscc=enterprise.uscc,
            display_name=enterprise.display_name,
            platform_id=enterprise.platform_id,
            legacy_org_code_warning=enterprise.legacy_org_code_warning,
            created_at=enterprise.created_at,
            updated_at=enterprise.updated_at,
        )
        self.s.add(row)
        self.s.flush()
        self._save_keys(enterprise)

    def _save_keys(self, enterprise: Enterprise) -> None:
        for key in enterprise.keys:
            row = self.s.get(EnterpriseKeyRow, (enterprise.uscc, key.key_id))
            if row is None:
                self.s.add(
                    EnterpriseKeyRow(
                        uscc=enterprise.uscc,
                        key_id=key.key_id,
                        public_key=key.public_key,
                        state=key.state.value,
                        created_at=key.created_at,
                        retired_at=key.retired_at,
                    )
                )
            else:
                row.state = key.state.value
                row.retired_at = key.retired_at

    def save(self, enterprise: Enterprise) -> None:
        row = self._loaded[enterprise.uscc]  # KeyError: save() takes an enterprise obtained from get()
        row.display_name = enterprise.display_name
        row.updated_at = enterprise.updated_at
        self._save_keys(enterprise)
        self.s.flush()
        enterprise.version = row.version

    def page(self, *, after: str | None, limit: int, platform_id: str) -> list[Enterprise]:
        q = select(EnterpriseRow).order_by(EnterpriseRow.uscc).limit(limit)
        if after is not None:
            q = q.where(EnterpriseRow.uscc > after)
        if platform_id:
            q = q.where(EnterpriseRow.platform_id == platform_id)
        rows = list(self.s.scalars(q))
        keys = self._keys([r.uscc for r in rows])
        return [self._to_domain(r, keys[r.uscc]) for r in rows]

    def count_created_by(self, at: datetime) -> int:
        return self.s.scalar(select(func.count()).select_from(EnterpriseRow).where(EnterpriseRow.created_at <= at)) or 0

    def lock_key(self, public_key: bytes) -> None:
        # SQLite serializes writers (BEGIN IMMEDIATE); PostgreSQL's lock is released at commit or rollback.
        if self.s.get_bind().dialect.name == "postgresql":
            self.s.execute(
                text("SELECT pg_advisory_xact_lock(CAST(:ns AS integer), hashtext(:key))"),
                {"ns": _KEY_LOCKS, "key": public_key.hex()},
            )

    def key_holder(self, public_key: bytes) -> str | None:
        q = select(EnterpriseKeyRow.uscc).where(EnterpriseKeyRow.public_key == public_key).limit(1)
        return self.s.scalar(q)


class SqlDepartments:
    def __init__(self, session: Session) -> None:
        self.s = session

    @staticmethod
    def _to_domain(r: DepartmentRow) -> Department:
        return Department(r.code, r.display_name, DepartmentKind(r.kind), r.created_at)

    def get(self, code: str) -> Department | None:
        row = self.s.get(DepartmentRow, code)
        return self._to_domain(row) if row else None

    def add(self, department: Department) -> None:
        self.s.add(
            DepartmentRow(
                code=department.code,
                display_name=department.display_name,
                kind=department.kind.value,
                created_at=department.created_at,
            )
        )
        self.s.flush()

    def page(self, *, after: str | None, limit: int) -> list[Department]:
        q = select(DepartmentRow).order_by(DepartmentRow.code).limit(limit)
        if after is not None:
            q = q.where(DepartmentRow.code > after)
        return [self._to_domain(r) for r in self.s.scalars(q)]

    def count_created_by(self, at: datetime) -> int:
        return self.s.scalar(select(func.count()).select_from(DepartmentRow).where(DepartmentRow.created_at <= at)) or 0


class SqlHistory:
    def __init__(self, session: Session, evidence: EvidenceLog | None = None) -> None:
        self.s = session
        self.evidence = evidence

    @staticmethod
    def _to_domain(r: StatusHistoryRow) -> StatusChange:
        return StatusChange(
            r.from_status, r.to_status, r.actor, r.reason, tuple(json.loads(r.evidence)), r.at, r.revision
        )

    def append(self, kind: ParticipantKind, participant_id: str, change: StatusChange) -> None:
        self.s.add(
            StatusHistoryRow(
                kind=kind.value,
                participant_id=participant_id,
                from_status=change.from_status,
                to_status=change.to_status,
                actor=change.actor,
                reason=change.reason,
                evidence=json.dumps(list(change.evidence), ensure_ascii=False),
                at=change.at,
                revision=change.revision,
            )
        )
        if self.evidence is not None:
            # The leaf commits with the change or neither does. Actor and reason are free text: hashed, never logged.
            self.evidence.append_in(
                self.s,
                LeafKind.STATUS_CHANGE,
                {
                    "participant": f"{kind.value.lower()}s/{participant_id}",
                    "from_status": change.from_status,
                    "to_status": change.to_status,
                    "actor_sha256": hashlib.sha256(change.actor.encode()).hexdigest(),
                    "reason_sha256": hashlib.sha256(change.reason.encode()).hexdigest(),
                    "revision": change.revision,
                },
            )

    def page(
        self, kind: ParticipantKind, participant_id: str, *, after: int, limit: int
    ) -> list[tuple[int, StatusChange]]:
        q = (
            select(StatusHistoryRow)
            .where(
                StatusHistoryRow.kind == kind.value,
                StatusHistoryRow.participant_id == participant_id,
                StatusHistoryRow.seq > after,
            )
            .order_by(StatusHistoryRow.seq)
            .limit(limit)
        )
        return [(r.seq, self._to_domain(r)) for r in self.s.scalars(q)]

    def up_to(self, kind: ParticipantKind, at: datetime) -> list[tuple[str, StatusChange]]:
        q = (
            select(StatusHistoryRow)
            .where(StatusHistoryRow.kind == kind.value, StatusHistoryRow.at <= at)
            .order_by(StatusHistoryRow.seq)
        )
        return [(r.participant_id, self._to_domain(r)) for r in self.s.scalars(q)]


class SqlEvents:
    def __init__(self, session: Session) -> None:
        self.s = session
        self._revision: int | None = None

    def next_revision(self) -> int:
        # One revision per transaction. The row lock taken by this UPDATE holds other writers until we commit,
        # so revisions become visible to watchers in order (no gaps filled in later).
        if self._revision is None:
            self.s.execute(
                update(RevisionCounterRow).where(RevisionCounterRow.id == 1).values(value=RevisionCounterRow.value + 1)
            )
            self._revision = self.current_revision()
        return self._revision

    def append(self, event: ParticipantEvent) -> None:
        self.s.add(
            ParticipantEventRow(
                revision=event.revision,
                kind=event.kind.value,
                participant_id=event.participant_id,
                type=event.type.value,
            )
        )

    def current_revision(self) -> int:
        return self.s.scalar(select(RevisionCounterRow.value).where(RevisionCounterRow.id == 1)) or 0

    def latest_event_revision(self) -> int:
        return self.s.scalar(select(func.max(ParticipantEventRow.revision))) or 0

    def after(self, revision: int, max_revisions: int) -> list[ParticipantEvent]:
        upper = self.s.scalar(
            select(func.max(ParticipantEventRow.revision)).where(
                ParticipantEventRow.revision.in_(
                    select(ParticipantEventRow.revision)
                    .where(ParticipantEventRow.revision > revision)
                    .distinct()
                    .order_by(ParticipantEventRow.revision)
                    .limit(max_revisions)
                )
            )
        )
        if upper is None:
            return []
        q = (
            select(ParticipantEventRow)
            .where(ParticipantEventRow.revision > revision, ParticipantEventRow.revision <= upper)
            .order_by(ParticipantEventRow.revision, ParticipantEventRow.id)
        )
        return [
            ParticipantEvent(r.revision, ParticipantKind(r.kind), r.participant_id, EventType(r.type))
            for r in self.s.scalars(q)
        ]


class SqlRequests:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, request_id: str) -> RequestRecord | None:
        r = self.s.get(RequestRow, request_id)
        if r is None:
            return None
        return RequestRecord(r.request_id, r.method, r.fingerprint, r.resource_id, r.certificate_serial)

    def add(self, record: RequestRecord) -> None:
        self.s.add(
            RequestRow(
                request_id=record.request_id,
                method=record.method,
                fingerprint=record.fingerprint,
                resource_id=record.resource_id,
                certificate_serial=record.certificate_serial,
                created_at=utcnow(),
            )
        )


_K = cast(Table, CertifiedKeyRow.__table__)


class SqlCertificates:
    def __init__(self, session: Session) -> None:
        self.s = session

    @staticmethod
    def _to_domain(r: CertificateRow) -> IssuedCertificate:
        reason = RevocationReason(r.revocation_reason) if r.revocation_reason else None
        return IssuedCertificate(r.serial, r.platform_id, r.pem, r.not_after, r.public_key_sha256, r.revoked_at, reason)

    def add(self, certificate: IssuedCertificate) -> None:
        self.s.add(
            CertificateRow(
                serial=certificate.serial,
                platform_id=certificate.platform_id,
                pem=certificate.pem,
                not_after=certificate.not_after,
                revoked_at=certificate.revoked_at,
                public_key_sha256=certificate.public_key_sha256,
                revocation_reason=certificate.revocation_reason.value if certificate.revocation_reason else None,
            )
        )

    def get(self, serial: str) -> IssuedCertificate | None:
        row = self.s.get(CertificateRow, serial)
        return self._to_domain(row) if row else None

    def revoke(self, serial: str, at: datetime, *, reason: RevocationReason, retire_key: bool = True) -> None:
        row = self.s.get(CertificateRow, serial)
        if row is None:
            return
        if row.revoked_at is None:
            row.revoked_at = at
            row.revocation_reason = reason.value
        if retire_key:
            self.s.execute(
                update(_K)
                .where(_K.c.public_key_sha256 == row.public_key_sha256, _K.c.retired_at.is_(None))
                .values(retired_at=at)
            )

    def revoked(self) -> list[IssuedCertificate]:
        q = select(CertificateRow).where(CertificateRow.revoked_at.is_not(None)).order_by(CertificateRow.serial)
        return [self._to_domain(r) for r in self.s.scalars(q)]

    def next_crl_number(self) -> int:
        # The UPDATE's row lock holds a concurrent issuance until we commit, so numbers follow the commit order.
        self.s.execute(update(CrlNumberRow).where(CrlNumberRow.id == 1).values(value=CrlNumberRow.value + 1))
        number = self.s.scalar(select(CrlNumberRow.value).where(CrlNumberRow.id == 1))
        assert number is not None  # the migration inserts the row
        return number

    def key(self, public_key_sha256: str) -> CertifiedKey | None:
        # Core, not the ORM: a row another transaction committed since this session last looked must be seen as it is.
        row = self.s.execute(select(_K).where(_K.c.public_key_sha256 == public_key_sha256)).first()
        if row is None:
            return None
        return CertifiedKey(row.public_key_sha256, row.platform_id, row.certified_at, row.retired_at)

    def claim_key(self, public_key_sha256: str, platform_id: str, at: datetime) -> CertifiedKey:
        # A claim racing an uncommitted one inserts nothing; the read after it (READ COMMITTED) sees the winner.
        values = {"public_key_sha256": public_key_sha256, "platform_id": platform_id, "certified_at": at}
        insert_if_absent(self.s, _K, values)
        holder = self.key(public_key_sha256)
        assert holder is not None
        return holder


class SqlBreaches:
    def __init__(self, session: Session) -> None:
        self.s = session

    @staticmethod
    def _to_domain(r: BreachRow) -> Breach:
        return Breach(r.platform_id, BreachKind(r.kind), r.reference, r.detail, r.occurred_at, r.recorded_at)

    def add(self, breach: Breach) -> Breach:
        existing = self.s.scalar(
            select(BreachRow).where(BreachRow.kind == breach.kind.value, BreachRow.reference == breach.reference)
        )
        if existing is not None:
            return self._to_domain(existing)
        self.s.add(
            BreachRow(
                platform_id=breach.platform_id,
                kind=breach.kind.value,
                reference=breach.reference,
                detail=breach.detail,
                occurred_at=breach.occurred_at,
                recorded_at=breach.recorded_at,
            )
        )
        return breach

    def page(self, platform_id: str, *, after: int, limit: int) -> list[tuple[int, Breach]]:
        q = select(BreachRow).order_by(BreachRow.seq.desc()).limit(limit)
        if platform_id:
            q = q.where(BreachRow.platform_id == platform_id)
        if after:
            q = q.where(BreachRow.seq < after)
        return [(r.seq, self._to_domain(r)) for r in self.s.scalars(q)]


class SqlRegistryUnitOfWork(SqlUnitOfWork):
    """The registry's unit of work: repositories share one session and one transaction."""

    platforms: SqlPlatforms
    institutions: SqlInstitutions
    enterprises: SqlEnterprises
    departments: SqlDepartments
    history: SqlHistory
    events: SqlEvents
    requests: SqlRequests
    certificates: SqlCertificates
    breaches: SqlBreaches
    sharing_lists: SqlSharingLists
    records: SqlRecords

    def __init__(self, session_factory: sessionmaker[Session], evidence: EvidenceLog | None = None) -> None:
        super().__init__(session_factory)
        self._evidence = evidence

    def __enter__(self) -> SqlRegistryUnitOfWork:
        super().__enter__()
        s = self.session
        self.platforms = SqlPlatforms(s)
        self.institutions = SqlInstitutions(s)
        self.enterprises = SqlEnterprises(s)
        self.departments = SqlDepartments(s)
        self.history = SqlHistory(s, self._evidence)
        self.events = SqlEvents(s)
        self.requests = SqlRequests(s)
        self.certificates = SqlCertificates(s)
        self.breaches = SqlBreaches(s)
        self.sharing_lists = SqlSharingLists(s)
        self.records = SqlRecords(s)
        return self
