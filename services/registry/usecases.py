"""Registry use cases: each runs one unit of work, applies domain rules, records history and watch events."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from services.kit.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied
from services.registry.domain.credentials import RevocationReason, check_certifiable
from services.registry.domain.participants import (
    ENTERPRISE_REGISTERED,
    FINAL_PLATFORM_STATUSES,
    KEY_REPLACED,
    Assessment,
    Breach,
    ChangeInfo,
    Department,
    DepartmentKind,
    Docking,
    Enterprise,
    EnterpriseKey,
    Institution,
    InstitutionAction,
    InstitutionStatus,
    InstitutionType,
    KeyState,
    Platform,
    PlatformAction,
    PlatformKind,
    PlatformStatus,
    StatusChange,
    check_etag,
    check_public_key,
    key_already_registered,
    key_id_of,
    new_institution,
    new_platform,
)
from services.registry.domain.ports import (
    CertificateAuthority,
    EventType,
    IssuedCertificate,
    ParticipantEvent,
    ParticipantKind,
    RegistryUnitOfWork,
    RequestRecord,
)
from services.registry.domain.uscc import validate_uscc

UowFactory = Callable[[], RegistryUnitOfWork]


@dataclass(frozen=True)
class PlatformView:
    """A platform with what others read about it: effective access and whether it is due for re-review."""

    platform: Platform
    access: bool
    due_for_review: bool


@dataclass(frozen=True)
class InstitutionView:
    institution: Institution
    access: bool


@dataclass(frozen=True)
class Idempotency:
    """request_id and a fingerprint of the request's content (computed by the API from the wire message)."""

    request_id: str = ""
    fingerprint: str = ""


@dataclass(frozen=True)
class Coverage:
    at: datetime
    platforms_by_region: dict[str, int]
    institutions_connected: int
    enterprises_registered: int
    departments_registered: int


def _replay(uow: RegistryUnitOfWork, idem: Idempotency, method: str) -> RequestRecord | None:
    if not idem.request_id:
        return None
    record = uow.requests.get(idem.request_id)
    if record is None:
        return None
    if record.method != method or record.fingerprint != idem.fingerprint:
        raise InvalidArgument(
            "ERROR_REASON_REQUEST_ID_REUSED",
            "request_id was already used for a different request",
            {"field": "request_id"},
        )
    return record


def _remember(uow: RegistryUnitOfWork, idem: Idempotency, method: str, resource_id: str, serial: str = "") -> None:
    if idem.request_id:
        uow.requests.add(RequestRecord(idem.request_id, method, idem.fingerprint, resource_id, serial))


def _platform(uow: RegistryUnitOfWork, platform_id: str) -> Platform:
    platform = uow.platforms.get(platform_id)
    if platform is None:
        # The id is the caller's, unchecked: it is not echoed (it may hold anything, personal data included).
        raise NotFound("ERROR_REASON_PLATFORM_NOT_FOUND", "no such platform")
    return platform


def _proxy(uow: RegistryUnitOfWork, platform: Platform) -> Platform | None:
    return uow.platforms.get(platform.proxy_id) if platform.proxy_id else None


def platform_view(uow: RegistryUnitOfWork, platform: Platform, now: datetime) -> PlatformView:
    return PlatformView(platform, platform.has_access(_proxy(uow, platform)), platform.due_for_review(now))


def institution_view(uow: RegistryUnitOfWork, institution: Institution) -> InstitutionView:
    platform = uow.platforms.get(institution.platform_id)
    proxy = _proxy(uow, platform) if platform else None
    return InstitutionView(institution, institution.has_access(platform, proxy))


def _emit_platform_cascade(uow: RegistryUnitOfWork, platform: Platform, revision: int) -> None:
    """The platform's own event, then an upsert for everyone whose effective access follows it."""
    kind = EventType.TOMBSTONE if platform.status in FINAL_PLATFORM_STATUSES else EventType.UPSERT
    uow.events.append(ParticipantEvent(revision, ParticipantKind.PLATFORM, platform.platform_id, kind))
    affected = [platform.platform_id]
    if platform.kind is PlatformKind.AGGREGATOR:
        children = uow.platforms.page(
            after=None, limit=10_000, status=None, region_code="", proxy_id=platform.platform_id
        )
        for child in children:
            uow.events.append(ParticipantEvent(revision, ParticipantKind.PLATFORM, child.platform_id, EventType.UPSERT))
            affected.append(child.platform_id)
    for inst in uow.institutions.of_platforms(affected):
        inst_kind = EventType.TOMBSTONE if inst.status is InstitutionStatus.REMOVED else EventType.UPSERT
        uow.events.append(ParticipantEvent(revision, ParticipantKind.INSTITUTION, inst.institution_id, inst_kind))


# ---- platforms -------------------------------------------------------------------------------------------------


def create_platform(
    uow: RegistryUnitOfWork,
    *,
    platform_id: str,
    display_name: str,
    kind: PlatformKind,
    region_code: str,
    docking: Docking,
    proxy_id: str,
    change: ChangeInfo,
    idem: Idempotency,
    now: datetime,
) -> PlatformView:
    with uow:
        if (done := _replay(uow, idem, "CreatePlatform")) is not None:
            return platform_view(uow, _platform(uow, done.resource_id), now)
        if uow.platforms.get(platform_id) is not None:
            raise AlreadyExists(
                "ERROR_REASON_ALREADY_REGISTERED",
                "a platform with that id exists",
                {"resource": f"platforms/{platform_id}"},
            )
        proxy = _platform(uow, proxy_id) if proxy_id else None
        platform = new_platform(platform_id, display_name, kind, region_code, docking, proxy, now)
        uow.platforms.add(platform)
        revision = uow.events.next_revision()
        uow.history.append(
            ParticipantKind.PLATFORM,
            platform_id,
            StatusChange("", platform.status.value, change.actor, change.reason, change.evidence, now, revision),
        )
        uow.events.append(ParticipantEvent(revision, ParticipantKind.PLATFORM, platform_id, EventType.UPSERT))
        _remember(uow, idem, "CreatePlatform", platform_id)
        uow.commit()
        return platform_view(uow, platform, now)


def record_assessment(
    uow: RegistryUnitOfWork,
    platform_id: str,
    assessment: Assessment,
    change: ChangeInfo,
    idem: Idempotency,
    now: datetime,
) -> PlatformView:
    with uow:
        platform = _platform(uow, platform_id)
        if _replay(uow, idem, "RecordAssessment") is not None:
            return platform_view(uow, platform, now)
        check_etag(change.etag, platform.version)  # Change.etag makes every change conditional, this one too
        platform.record_assessment(assessment, now)
        uow.platforms.save(platform)
        revision = uow.events.next_revision()
        uow.events.append(ParticipantEvent(revision, ParticipantKind.PLATFORM, platform_id, EventType.UPSERT))
        _remember(uow, idem, "RecordAssessment", platform_id)
        uow.commit()
        return platform_view(uow, platform, now)


REVOKING_ACTIONS = frozenset({PlatformAction.SUSPEND, PlatformAction.REMOVE, PlatformAction.EXIT})
# The reason code the platform's certificate is revoked with, on the CRL.
REVOCATION_REASONS = {
    PlatformAction.SUSPEND: RevocationReason.PRIVILEGE_WITHDRAWN,
    PlatformAction.REMOVE: RevocationReason.PRIVILEGE_WITHDRAWN,
    PlatformAction.EXIT: RevocationReason.CESSATION_OF_OPERATION,
}
# Institution steps that take access away: like REVOKING_ACTIONS, they wait for the gateway replicas.
INSTITUTION_REVOKING_ACTIONS = frozenset({InstitutionAction.SUSPEND, InstitutionAction.REMOVE})


def latest_participant_revision(uow: RegistryUnitOfWork) -> int:
    """The revision of the latest committed participant change."""
    with uow:
        return uow.events.latest_event_revision()


def transition_platform(
    uow: RegistryUnitOfWork,
    ca: CertificateAuthority,
    platform_id: str,
    action: PlatformAction,
    change: ChangeInfo,
    idem: Idempotency,
    now: datetime,
    csr_pem: str = "",
) -> tuple[PlatformView, IssuedCertificate | None]:
    """One lifecycle step. Suspension, removal and exit revoke the certificate in the same transaction;
    admission and readmission of a directly docked platform issue a new one from its CSR."""
    method = f"Platform.{action.value}"
    with uow:
        platform = _platform(uow, platform_id)
        if (done := _replay(uow, idem, method)) is not None:
            cert = uow.certificates.get(done.certificate_serial) if done.certificate_serial else None
            return platform_view(uow, platform, now), cert
        issues_cert = action in {PlatformAction.ADMIT, PlatformAction.READMIT} and platform.docking is Docking.DIRECT
        if issues_cert and not csr_pem.strip():
            raise InvalidArgument(
                "ERROR_REASON_INVALID_FIELD",
                "csr_pem is required to admit a directly docked platform",
                {"field": "csr_pem"},
            )
        revision = uow.events.next_revision()
        step = platform.apply(action, change, now, _proxy(uow, platform))
        uow.history.append(ParticipantKind.PLATFORM, platform_id, _with_revision(step, revision))
        certificate = None
        if action in REVOKING_ACTIONS and platform.certificate_serial:
            uow.certificates.revoke(platform.certificate_serial, now, reason=REVOCATION_REASONS[action])
            platform.certificate_serial = ""
        if issues_cert:
            certificate = _certify(uow, ca, platform, csr_pem, now)
        uow.platforms.save(platform)
        _emit_platform_cascade(uow, platform, revision)
        _remember(uow, idem, method, platform_id, certificate.serial if certificate else "")
        uow.commit()
        return platform_view(uow, platform, now), certificate


def issue_certificate(
    uow: RegistryUnitOfWork,
    ca: CertificateAuthority,
    platform_id: str,
    csr_pem: str,
    change: ChangeInfo,
    idem: Idempotency,
    now: datetime,
) -> IssuedCertificate:
    """Rotate an admitted, directly docked platform's certificate; the previous one is revoked."""
    with uow:
        platform = _platform(uow, platform_id)
        if (done := _replay(uow, idem, "IssuePlatformCertificate")) is not None:
            cert = uow.certificates.get(done.certificate_serial)
            assert cert is not None
            return cert
        if platform.status is not PlatformStatus.ADMITTED or platform.docking is not Docking.DIRECT:
            raise PermissionDenied(
                "ERROR_REASON_PERMISSION_DENIED", "certificates go only to admitted, directly docked platforms"
            )
        check_etag(change.etag, platform.version)
        certificate = _certify(uow, ca, platform, csr_pem, now)
        platform.updated_at = now
        uow.platforms.save(platform)
        revision = uow.events.next_revision()
        uow.events.append(ParticipantEvent(revision, ParticipantKind.PLATFORM, platform_id, EventType.UPSERT))
        _remember(uow, idem, "IssuePlatformCertificate", platform_id, certificate.serial)
        uow.commit()
        return certificate


def _certify(
    uow: RegistryUnitOfWork, ca: CertificateAuthority, platform: Platform, csr_pem: str, now: datetime
) -> IssuedCertificate:
    """The platform's new certificate from its CSR; the current one, if any, is revoked. The key must be held by no
    other platform and never retired; a renewal (the current certificate's key again) keeps the key live, any other
    replacement retires the old key."""
    key = ca.requested_key(platform.platform_id, csr_pem)
    check_certifiable(uow.certificates.key(key), platform.platform_id)
    if platform.certificate_serial:
        current = uow.certificates.get(platform.certificate_serial)
        renewal = current is not None and current.public_key_sha256 == key
        uow.certificates.revoke(
            platform.certificate_serial, now, reason=RevocationReason.SUPERSEDED, retire_key=not renewal
        )
    certificate = ca.issue(platform.platform_id, csr_pem, now)
    uow.certificates.add(certificate)
    # The read above may race another platform's request for the same key; the claim cannot (the key is unique).
    check_certifiable(uow.certificates.claim_key(key, platform.platform_id, now), platform.platform_id)
    platform.certificate_serial = certificate.serial
    return certificate


def _with_revision(change: StatusChange, revision: int) -> StatusChange:
    return StatusChange(
        change.from_status, change.to_status, change.actor, change.reason, change.evidence, change.at, revision
    )


def get_platform(uow: RegistryUnitOfWork, platform_id: str, now: datetime) -> PlatformView:
    with uow:
        return platform_view(uow, _platform(uow, platform_id), now)


def list_platforms(
    uow: RegistryUnitOfWork,
    *,
    after: str | None,
    limit: int,
    status: PlatformStatus | None,
    region_code: str,
    proxy_id: str,
    now: datetime,
) -> list[PlatformView]:
    with uow:
        page = uow.platforms.page(after=after, limit=limit, status=status, region_code=region_code, proxy_id=proxy_id)
        return [platform_view(uow, p, now) for p in page]


def platform_history(
    uow: RegistryUnitOfWork, platform_id: str, after: int, limit: int
) -> list[tuple[int, StatusChange]]:
    with uow:
        _platform(uow, platform_id)
        return uow.history.page(ParticipantKind.PLATFORM, platform_id, after=after, limit=limit)


def due_for_review(uow: RegistryUnitOfWork, now: datetime) -> list[PlatformView]:
    with uow:
        return [platform_view(uow, p, now) for p in uow.platforms.all() if p.due_for_review(now)]


# ---- institutions ----------------------------------------------------------------------------------------------


def _institution(uow: RegistryUnitOfWork, institution_id: str) -> Institution:
    institution = uow.institutions.get(institution_id)
    if institution is None:
        raise NotFound("ERROR_REASON_INSTITUTION_NOT_FOUND", "no such institution")  # the caller's id: not echoed
    return institution


def create_institution(
    uow: RegistryUnitOfWork,
    *,
    institution_id: str,
    display_name: str,
    licence_number: str,
    type_: InstitutionType,
    platform_id: str,
    change: ChangeInfo,
    idem: Idempotency,
    now: datetime,
) -> InstitutionView:
    with uow:
        if (done := _replay(uow, idem, "CreateInstitution")) is not None:
            return institution_view(uow, _institution(uow, done.resource_id))
        if uow.institutions.get(institution_id) is not None:
            raise AlreadyExists(
                "ERROR_REASON_ALREADY_REGISTERED",
                "an institution with that id exists",
                {"resource": f"institutions/{institution_id}"},
            )
        platform = _platform(uow, platform_id)
        institution = new_institution(
            institution_id, display_name, licence_number, type_, platform, _proxy(uow, platform), now
        )
        uow.institutions.add(institution)
        revision = uow.events.next_revision()
        uow.history.append(
            ParticipantKind.INSTITUTION,
            institution_id,
            StatusChange("", institution.status.value, change.actor, change.reason, change.evidence, now, revision),
        )
        uow.events.append(ParticipantEvent(revision, ParticipantKind.INSTITUTION, institution_id, EventType.UPSERT))
        _remember(uow, idem, "CreateInstitution", institution_id)
        uow.commit()
        return institution_view(uow, institution)


def transition_institution(
    uow: RegistryUnitOfWork,
    institution_id: str,
    action: InstitutionAction,
    change: ChangeInfo,
    idem: Idempotency,
    now: datetime,
) -> InstitutionView:
    method = f"Institution.{action.value}"
    with uow:
        institution = _institution(uow, institution_id)
        if _replay(uow, idem, method) is not None:
            return institution_view(uow, institution)
        revision = uow.events.next_revision()
        step = institution.apply(action, change, now)
        uow.institutions.save(institution)
        uow.history.append(ParticipantKind.INSTITUTION, institution_id, _with_revision(step, revision))
        kind = EventType.TOMBSTONE if institution.status is InstitutionStatus.REMOVED else EventType.UPSERT
        uow.events.append(ParticipantEvent(revision, ParticipantKind.INSTITUTION, institution_id, kind))
        _remember(uow, idem, method, institution_id)
        uow.commit()
        return institution_view(uow, institution)


def get_institution(uow: RegistryUnitOfWork, institution_id: str) -> InstitutionView:
    with uow:
        return institution_view(uow, _institution(uow, institution_id))


def list_institutions(
    uow: RegistryUnitOfWork, *, after: str | None, limit: int, platform_id: str
) -> list[InstitutionView]:
    with uow:
        return [
            institution_view(uow, i) for i in uow.institutions.page(after=after, limit=limit, platform_id=platform_id)
        ]


# ---- enterprises -----------------------------------------------------------------------------------------------


def register_enterprise(
    uow: RegistryUnitOfWork,
    *,
    platform_id: str,
    uscc: str,
    display_name: str,
    public_key: bytes,
    idem: Idempotency,
    now: datetime,
) -> Enterprise:
    """Register on a platform that has access (checked first: permission before anything about the enterprise)."""
    with uow:
        platform = uow.platforms.get(platform_id)
        if platform is None or not platform.has_access(_proxy(uow, platform)):
            raise PermissionDenied("ERROR_REASON_PERMISSION_DENIED", "only an admitted platform registers enterprises")
        if (done := _replay(uow, idem, "RegisterEnterprise")) is not None:
            return _enterprise(uow, done.resource_id)
        check = validate_uscc(uscc)
        check_public_key(public_key)
        # Before the first read of the enterprise or its parked records: waits for chunks parking records of it, and
        # holds off new ones until commit (see ingest_chunk).
        uow.records.lock_for_registration(check.code)
        if uow.enterprises.get(check.code) is not None:
            raise AlreadyExists("ERROR_REASON_ALREADY_REGISTERED", "that enterprise is already registered")
        _check_key_unheld(uow, public_key, "public_key")
        key = EnterpriseKey(key_id_of(public_key), public_key, KeyState.ACTIVE, now)
        enterprise = Enterprise(check.code, display_name, platform_id, [key], check.legacy_org_code_warning, now, now)
        uow.enterprises.add(enterprise)
        revision = uow.events.next_revision()
        uow.events.append(ParticipantEvent(revision, ParticipantKind.ENTERPRISE, check.code, EventType.UPSERT))
        # Records that arrived before the enterprise were parked; they apply now, at the same revision.
        uow.records.apply_parked(check.code, revision, now)
        _remember(uow, idem, "RegisterEnterprise", check.code)
        uow.commit()
        return enterprise


def _check_key_unheld(uow: RegistryUnitOfWork, public_key: bytes, field_name: str) -> None:
    """Refuse a key another enterprise holds or held: it would sign for both (authorizations, rotations, objections).
    Locked first: a registration, rotation or replacement adding the same key meanwhile is seen once it committed."""
    uow.enterprises.lock_key(public_key)
    if uow.enterprises.key_holder(public_key) is not None:
        raise key_already_registered(field_name)


def _enterprise(uow: RegistryUnitOfWork, uscc: str) -> Enterprise:
    enterprise = uow.enterprises.get(uscc)
    if enterprise is None:
        raise NotFound("ERROR_REASON_ENTERPRISE_NOT_FOUND", "no such enterprise")
    return enterprise


def rotate_enterprise_key(
    uow: RegistryUnitOfWork,
    *,
    uscc: str,
    new_public_key: bytes,
    signing_key_id: str,
    signed_at: datetime,
    signature: bytes,
    idem: Idempotency,
    now: datetime,
) -> Enterprise:
    with uow:
        if (done := _replay(uow, idem, "RotateEnterpriseKey")) is not None:
            return _enterprise(uow, done.resource_id)
        enterprise = _enterprise(uow, uscc)
        enterprise.rotate_key(new_public_key, signing_key_id, signed_at, signature, now)
        # Only once the enterprise's own signature verified: no one else learns whether a key is registered.
        _check_key_unheld(uow, new_public_key, "new_public_key")
        uow.enterprises.save(enterprise)
        revision = uow.events.next_revision()
        uow.events.append(ParticipantEvent(revision, ParticipantKind.ENTERPRISE, uscc, EventType.UPSERT))
        _remember(uow, idem, "RotateEnterpriseKey", uscc)
        uow.commit()
        return enterprise


def replace_enterprise_key(
    uow: RegistryUnitOfWork,
    *,
    uscc: str,
    new_public_key: bytes,
    change: ChangeInfo,
    idem: Idempotency,
    now: datetime,
) -> Enterprise:
    """The operator's replacement of a lost or refused key: every active key retired, the new one active, recorded
    with who did it on what evidence, and announced on the participant watch as a rotation is (consent and the
    gateway read an enterprise's keys from the registry for every signature they check, so the old keys sign nothing
    once this commits). Nothing the enterprise signs vouches for it, so the reason and the evidence of the offline
    identity check are required."""
    if not change.reason:
        raise InvalidArgument(
            "ERROR_REASON_INVALID_FIELD", "change.reason is required to replace a key", {"field": "change.reason"}
        )
    if not change.evidence:
        raise InvalidArgument(
            "ERROR_REASON_INVALID_FIELD",
            "change.evidence must name the identity verification (e.g. its ticket) to replace a key",
            {"field": "change.evidence"},
        )
    with uow:
        if (done := _replay(uow, idem, "ReplaceEnterpriseKey")) is not None:
            return _enterprise(uow, done.resource_id)
        enterprise = _enterprise(uow, uscc)
        check_etag(change.etag, enterprise.version)
        enterprise.replace_keys(new_public_key, now)
        _check_key_unheld(uow, new_public_key, "new_public_key")
        uow.enterprises.save(enterprise)
        revision = uow.events.next_revision()
        uow.history.append(
            ParticipantKind.ENTERPRISE,
            uscc,
            StatusChange(
                ENTERPRISE_REGISTERED, KEY_REPLACED, change.actor, change.reason, change.evidence, now, revision
            ),
        )
        uow.events.append(ParticipantEvent(revision, ParticipantKind.ENTERPRISE, uscc, EventType.UPSERT))
        _remember(uow, idem, "ReplaceEnterpriseKey", uscc)
        uow.commit()
        return enterprise


def get_enterprise(uow: RegistryUnitOfWork, uscc: str) -> Enterprise:
    with uow:
        return _enterprise(uow, uscc)


def list_enterprises(uow: RegistryUnitOfWork, *, after: str | None, limit: int, platform_id: str) -> list[Enterprise]:
    with uow:
        return uow.enterprises.page(after=after, limit=limit, platform_id=platform_id)


# ---- departments -----------------------------------------------------------------------------------------------


def create_department(
    uow: RegistryUnitOfWork,
    *,
    code: str,
    display_name: str,
    kind: DepartmentKind,
    idem: Idempotency,
    now: datetime,
) -> Department:
    with uow:
        if (done := _replay(uow, idem, "CreateDepartment")) is not None:
            return get_department_in(uow, done.resource_id)
        if uow.departments.get(code) is not None:
            raise AlreadyExists(
                "ERROR_REASON_ALREADY_REGISTERED",
                "a department with that code exists",
                {"resource": f"departments/{code}"},
            )
        department = Department(code, display_name, kind, now)
        uow.departments.add(department)
        revision = uow.events.next_revision()
        uow.events.append(ParticipantEvent(revision, ParticipantKind.DEPARTMENT, code, EventType.UPSERT))
        _remember(uow, idem, "CreateDepartment", code)
        uow.commit()
        return department


def get_department_in(uow: RegistryUnitOfWork, code: str) -> Department:
    department = uow.departments.get(code)
    if department is None:
        raise NotFound("ERROR_REASON_DEPARTMENT_NOT_FOUND", "no such department")  # the caller's code: not echoed
    return department


def get_department(uow: RegistryUnitOfWork, code: str) -> Department:
    with uow:
        return get_department_in(uow, code)


def list_departments(uow: RegistryUnitOfWork, *, after: str | None, limit: int) -> list[Department]:
    with uow:
        return uow.departments.page(after=after, limit=limit)


# ---- certificates and coverage -----------------------------------------------------------------------------------


def revocation_list(
    uow: RegistryUnitOfWork, ca: CertificateAuthority, clock: Callable[[], datetime]
) -> tuple[bytes, list[str]]:
    """A newly signed CRL and its serials. A write: each CRL takes the next CRL number, in the transaction that reads
    what it lists, so a greater number never lists less (signed after the commit, outside the number's lock). Its
    date is read under that lock too, so a greater number is never dated before a lesser one."""
    with uow:
        number = uow.certificates.next_crl_number()
        now = clock()
        revoked = uow.certificates.revoked()
        uow.commit()
    return ca.crl_der(revoked, number, now), [c.serial for c in revoked]


def _status_at(changes: list[tuple[str, StatusChange]]) -> dict[str, str]:
    status: dict[str, str] = {}
    for participant_id, change in changes:  # oldest first, so the last one wins
        status[participant_id] = change.to_status
    return status


def coverage(uow: RegistryUnitOfWork, at: datetime) -> Coverage:
    """R9's coverage counts as they stood at ``at``, rebuilt from the append-only histories."""
    with uow:
        platform_status = _status_at(uow.history.up_to(ParticipantKind.PLATFORM, at))
        institution_status = _status_at(uow.history.up_to(ParticipantKind.INSTITUTION, at))
        platforms = {p.platform_id: p for p in uow.platforms.all()}
        institutions = uow.institutions.all()
        enterprises = uow.enterprises.count_created_by(at)
        departments = uow.departments.count_created_by(at)

    def admitted(platform_id: str) -> bool:
        platform = platforms.get(platform_id)
        if platform is None or platform_status.get(platform_id) != PlatformStatus.ADMITTED.value:
            return False
        return platform.proxy_id is None or platform_status.get(platform.proxy_id) == PlatformStatus.ADMITTED.value

    by_region = Counter(p.region_code for pid, p in platforms.items() if admitted(pid))
    # Coverage of institutions means lenders: an arbitration commission or court on a platform is not one.
    connected = sum(
        1
        for i in institutions
        if i.type.lends
        and institution_status.get(i.institution_id) == InstitutionStatus.ACTIVE.value
        and admitted(i.platform_id)
    )
    return Coverage(at, dict(sorted(by_region.items())), connected, enterprises, departments)


# ---- compliance breaches ----------------------------------------------------------------------------------------


def record_breach(uow: RegistryUnitOfWork, breach: Breach) -> Breach:
    """Record a breach against an existing platform; a retry (same kind and reference) returns the first record."""
    with uow:
        _platform(uow, breach.platform_id)
        stored = uow.breaches.add(breach)
        uow.commit()
        return stored


def list_breaches(uow: RegistryUnitOfWork, platform_id: str, after: int, limit: int) -> list[tuple[int, Breach]]:
    with uow:
        if platform_id:
            _platform(uow, platform_id)
        return uow.breaches.page(platform_id, after=after, limit=limit)
