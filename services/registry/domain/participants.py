"""Participants and their lifecycles: platforms ("有进有出"), institutions, enterprises with keys, departments."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.kit.ed25519_keys import WEAK_KEY_REFUSED, is_signing_key
from services.kit.errors import Aborted, FailedPrecondition, InvalidArgument, PermissionDenied
from services.kit.workdays import local_date, start_of_day

AGGREGATOR_ID = "qinxinrong"  # 秦信融, the provincial aggregator
SIGNATURE_WINDOW = timedelta(minutes=5)


class PlatformKind(StrEnum):
    CITY = "CITY"
    COUNTY = "COUNTY"
    AGGREGATOR = "AGGREGATOR"


class Docking(StrEnum):
    DIRECT = "DIRECT"
    PROXIED = "PROXIED"


class PlatformStatus(StrEnum):
    APPLIED = "APPLIED"
    UNDER_REVIEW = "UNDER_REVIEW"
    ADMITTED = "ADMITTED"
    REJECTED = "REJECTED"
    SUSPENDED = "SUSPENDED"
    REMOVED = "REMOVED"
    EXITED = "EXITED"


FINAL_PLATFORM_STATUSES = frozenset({PlatformStatus.REJECTED, PlatformStatus.REMOVED, PlatformStatus.EXITED})


class PlatformAction(StrEnum):
    START_REVIEW = "START_REVIEW"
    ADMIT = "ADMIT"
    REJECT = "REJECT"
    SUSPEND = "SUSPEND"
    READMIT = "READMIT"
    REMOVE = "REMOVE"
    EXIT = "EXIT"


# action -> (statuses it may start from, status it leads to)
PLATFORM_ACTIONS: dict[PlatformAction, tuple[frozenset[PlatformStatus], PlatformStatus]] = {
    PlatformAction.START_REVIEW: (frozenset({PlatformStatus.APPLIED}), PlatformStatus.UNDER_REVIEW),
    PlatformAction.ADMIT: (frozenset({PlatformStatus.UNDER_REVIEW}), PlatformStatus.ADMITTED),
    PlatformAction.REJECT: (frozenset({PlatformStatus.UNDER_REVIEW}), PlatformStatus.REJECTED),
    PlatformAction.SUSPEND: (frozenset({PlatformStatus.ADMITTED}), PlatformStatus.SUSPENDED),
    PlatformAction.READMIT: (frozenset({PlatformStatus.SUSPENDED}), PlatformStatus.ADMITTED),
    PlatformAction.REMOVE: (frozenset({PlatformStatus.ADMITTED, PlatformStatus.SUSPENDED}), PlatformStatus.REMOVED),
    PlatformAction.EXIT: (
        frozenset(
            {PlatformStatus.APPLIED, PlatformStatus.UNDER_REVIEW, PlatformStatus.ADMITTED, PlatformStatus.SUSPENDED}
        ),
        PlatformStatus.EXITED,
    ),
}


class AssessmentKind(StrEnum):
    SECURITY = "SECURITY"
    AUTHORIZATION = "AUTHORIZATION"


class AssessmentResult(StrEnum):
    PASSED = "PASSED"
    FAILED = "FAILED"


class InstitutionType(StrEnum):
    BANK = "BANK"
    GUARANTEE = "GUARANTEE"
    MICROLOAN = "MICROLOAN"
    OTHER = "OTHER"
    # Arbitration bodies and courts lend nothing: they may only request evidence packages for disputes.
    ARBITRATION = "ARBITRATION"
    COURT = "COURT"

    @property
    def lends(self) -> bool:
        """A financial institution (R9's 接入机构 coverage counts only these), not an arbiter."""
        return self not in (InstitutionType.ARBITRATION, InstitutionType.COURT)


class InstitutionStatus(StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"
    REMOVED = "REMOVED"


class InstitutionAction(StrEnum):
    SUSPEND = "SUSPEND"
    REACTIVATE = "REACTIVATE"
    REMOVE = "REMOVE"


INSTITUTION_ACTIONS: dict[InstitutionAction, tuple[frozenset[InstitutionStatus], InstitutionStatus]] = {
    InstitutionAction.SUSPEND: (frozenset({InstitutionStatus.ACTIVE}), InstitutionStatus.SUSPENDED),
    InstitutionAction.REACTIVATE: (frozenset({InstitutionStatus.SUSPENDED}), InstitutionStatus.ACTIVE),
    InstitutionAction.REMOVE: (
        frozenset({InstitutionStatus.ACTIVE, InstitutionStatus.SUSPENDED}),
        InstitutionStatus.REMOVED,
    ),
}


class DepartmentKind(StrEnum):
    GOVERNMENT = "GOVERNMENT"
    UTILITY = "UTILITY"


class KeyState(StrEnum):
    ACTIVE = "ACTIVE"
    RETIRED = "RETIRED"


@dataclass(frozen=True)
class ChangeInfo:
    """Who asks for a change, why, on what evidence, and (optionally) against which version."""

    actor: str
    reason: str = ""
    evidence: tuple[str, ...] = ()
    etag: str = ""


@dataclass(frozen=True)
class StatusChange:
    """One entry of a participant's append-only history."""

    from_status: str
    to_status: str
    actor: str
    reason: str
    evidence: tuple[str, ...]
    at: datetime
    revision: int = 0


@dataclass(frozen=True)
class Assessment:
    """A security or authorization assessment; a passed one counts until it expires."""

    kind: AssessmentKind
    assessor: str
    assessed_on: datetime
    result: AssessmentResult
    findings: str
    expires_on: datetime

    def counts_at(self, now: datetime) -> bool:
        return self.result is AssessmentResult.PASSED and self.expires_on > now


def check_etag(etag: str, version: int) -> None:
    """An etag, when given, must match the version read; otherwise another change won (ABORTED)."""
    if etag and etag != str(version):
        raise Aborted(
            "ERROR_REASON_CONCURRENT_MODIFICATION", "the resource changed since it was read; re-read and retry"
        )


@dataclass
class Platform:
    """A financing credit service platform and its onboarding state."""

    platform_id: str
    display_name: str
    kind: PlatformKind
    region_code: str
    docking: Docking
    proxy_id: str | None
    status: PlatformStatus
    created_at: datetime
    updated_at: datetime
    assessments: dict[AssessmentKind, Assessment] = field(default_factory=dict)
    certificate_serial: str = ""
    version: int = 1

    @property
    def name(self) -> str:
        return f"platforms/{self.platform_id}"

    def admission_blockers(self, now: datetime) -> list[AssessmentKind]:
        """The assessment kinds that do not (yet, or any more) count towards admission."""
        return [k for k in AssessmentKind if not (k in self.assessments and self.assessments[k].counts_at(now))]

    def due_for_review(self, now: datetime) -> bool:
        return self.status is PlatformStatus.ADMITTED and bool(self.admission_blockers(now))

    def record_assessment(self, assessment: Assessment, now: datetime) -> None:
        if self.status in FINAL_PLATFORM_STATUSES:
            raise FailedPrecondition(
                "ERROR_REASON_ILLEGAL_TRANSITION",
                f"platform is {self.status.value}; assessments are closed",
                {"from": self.status.value},
            )
        # An assessment that has not concluded yet would count towards admission at once. Compared by Asia/Shanghai
        # day, not instant: an operator's clock a little ahead of ours (creditctl dates it "now") still records today's.
        # Compared with tomorrow's start, not by the assessment's own day: the last hours of 9999 in UTC have none.
        if assessment.assessed_on >= start_of_day(local_date(now) + timedelta(days=1)):
            raise InvalidArgument(
                "ERROR_REASON_INVALID_FIELD",
                "assessment.assessed_on must not be after today",
                {"field": "assessment.assessed_on"},
            )
        if assessment.expires_on <= assessment.assessed_on:
            raise InvalidArgument(
                "ERROR_REASON_INVALID_FIELD",
                "assessment.expires_on must be after assessed_on",
                {"field": "assessment.expires_on"},
            )
        self.assessments[assessment.kind] = assessment
        self.updated_at = now

    def apply(self, action: PlatformAction, change: ChangeInfo, now: datetime, proxy: Platform | None) -> StatusChange:
        """Move through the lifecycle, or explain why not. ``proxy`` is 秦信融 for a proxied platform."""
        check_etag(change.etag, self.version)
        allowed_from, target = PLATFORM_ACTIONS[action]
        if self.status not in allowed_from:
            raise FailedPrecondition(
                "ERROR_REASON_ILLEGAL_TRANSITION",
                f"cannot {action.value.lower().replace('_', ' ')} a platform that is {self.status.value}",
                {"from": self.status.value, "to": target.value, "action": action.value},
            )
        if target is PlatformStatus.ADMITTED:
            missing = self.admission_blockers(now)
            if missing:
                raise FailedPrecondition(
                    "ERROR_REASON_ASSESSMENT_MISSING",
                    "admission needs a passed, unexpired security and authorization assessment",
                    {"missing": ",".join(k.value for k in missing)},
                )
            if self.docking is Docking.PROXIED and (proxy is None or proxy.status is not PlatformStatus.ADMITTED):
                raise FailedPrecondition(
                    "ERROR_REASON_PARENT_NOT_ADMITTED", "a proxied platform is admitted only while 秦信融 is admitted"
                )
        before = self.status
        self.status = target
        self.updated_at = now
        return StatusChange(before.value, target.value, change.actor, change.reason, change.evidence, now)

    def has_access(self, proxy: Platform | None) -> bool:
        """Effective access: own status, and 秦信融's for a proxied platform."""
        if self.status is not PlatformStatus.ADMITTED:
            return False
        if self.docking is Docking.PROXIED:
            return proxy is not None and proxy.status is PlatformStatus.ADMITTED
        return True


_REGION_CODE = re.compile(r"[0-9]{6}")  # ASCII digits only: str.isdigit() also takes fullwidth and other scripts'


def check_region_code(region_code: str) -> str:
    """A six-digit administrative division code (GB/T 2260), e.g. "610100"."""
    if not _REGION_CODE.fullmatch(region_code):
        raise InvalidArgument(
            "ERROR_REASON_INVALID_FIELD",
            "region_code must be six digits",
            {"field": "region_code", "problem": "must be six digits"},
        )
    return region_code


def new_platform(
    platform_id: str,
    display_name: str,
    kind: PlatformKind,
    region_code: str,
    docking: Docking,
    proxy: Platform | None,
    now: datetime,
) -> Platform:
    """A platform's application; a proxied platform must name 秦信融 (an aggregator) as its proxy."""
    check_region_code(region_code)
    if kind is PlatformKind.AGGREGATOR and docking is not Docking.DIRECT:
        raise InvalidArgument("ERROR_REASON_INVALID_FIELD", "an aggregator docks directly", {"field": "docking"})
    if docking is Docking.PROXIED:
        if proxy is None or proxy.kind is not PlatformKind.AGGREGATOR:
            raise FailedPrecondition(
                "ERROR_REASON_NOT_AN_AGGREGATOR", "a proxied platform must name the aggregator (秦信融) as its proxy"
            )
    elif proxy is not None:
        raise InvalidArgument("ERROR_REASON_INVALID_FIELD", "only a proxied platform names a proxy", {"field": "proxy"})
    return Platform(
        platform_id=platform_id,
        display_name=display_name,
        kind=kind,
        region_code=region_code,
        docking=docking,
        proxy_id=proxy.platform_id if proxy else None,
        status=PlatformStatus.APPLIED,
        created_at=now,
        updated_at=now,
    )


@dataclass
class Institution:
    """A connected financial institution acting through one platform."""

    institution_id: str
    display_name: str
    licence_number: str
    type: InstitutionType
    platform_id: str
    status: InstitutionStatus
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def name(self) -> str:
        return f"institutions/{self.institution_id}"

    def apply(self, action: InstitutionAction, change: ChangeInfo, now: datetime) -> StatusChange:
        check_etag(change.etag, self.version)
        allowed_from, target = INSTITUTION_ACTIONS[action]
        if self.status not in allowed_from:
            raise FailedPrecondition(
                "ERROR_REASON_ILLEGAL_TRANSITION",
                f"cannot {action.value.lower()} an institution that is {self.status.value}",
                {"from": self.status.value, "to": target.value, "action": action.value},
            )
        before = self.status
        self.status = target
        self.updated_at = now
        return StatusChange(before.value, target.value, change.actor, change.reason, change.evidence, now)

    def has_access(self, platform: Platform | None, proxy: Platform | None) -> bool:
        return self.status is InstitutionStatus.ACTIVE and platform is not None and platform.has_access(proxy)


def new_institution(
    institution_id: str,
    display_name: str,
    licence_number: str,
    type_: InstitutionType,
    platform: Platform,
    proxy: Platform | None,
    now: datetime,
) -> Institution:
    """An institution may only be registered under a platform that currently has access."""
    if not platform.has_access(proxy):
        raise FailedPrecondition(
            "ERROR_REASON_PARENT_NOT_ADMITTED", "institutions are registered only under an admitted platform"
        )
    return Institution(
        institution_id, display_name, licence_number, type_, platform.platform_id, InstitutionStatus.ACTIVE, now, now
    )


def key_id_of(public_key: bytes) -> str:
    return hashlib.sha256(public_key).hexdigest()[:16]


def check_public_key(public_key: bytes, field_name: str = "public_key") -> None:
    """A raw 32-byte Ed25519 public key: the canonical encoding of a point of the prime-order subgroup.

    A small-order point decodes, but signatures "by" it can be made by anyone (for the neutral point, (s·B, s) verifies
    for every message), so it would prove nothing an enterprise signs; a non-canonical encoding would register a point
    again under another key id."""
    try:
        if not is_signing_key(public_key):
            raise ValueError
        Ed25519PublicKey.from_public_bytes(public_key)
    except ValueError:
        raise InvalidArgument(
            "ERROR_REASON_INVALID_KEY", f"{field_name} must be a raw 32-byte Ed25519 public key", {"field": field_name}
        ) from None


@dataclass
class EnterpriseKey:
    key_id: str
    public_key: bytes
    state: KeyState
    created_at: datetime
    retired_at: datetime | None = None


def rotation_message(uscc: str, signing_key_id: str, new_public_key: bytes, signed_at: datetime) -> bytes:
    """The canonical bytes an enterprise signs to rotate its key (documented in the proto)."""
    stamp = signed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = ["creditnode.registry.v1.RotateEnterpriseKey", uscc, signing_key_id, new_public_key.hex(), stamp]
    return "\n".join(lines).encode()


@dataclass
class Enterprise:
    """An SME registered on a platform; its keys sign authorizations and self-queries."""

    uscc: str
    display_name: str
    platform_id: str
    keys: list[EnterpriseKey]
    legacy_org_code_warning: bool
    created_at: datetime
    updated_at: datetime
    version: int = 1

    @property
    def name(self) -> str:
        return f"enterprises/{self.uscc}"

    def active_key(self, key_id: str) -> EnterpriseKey | None:
        return next((k for k in self.keys if k.key_id == key_id and k.state is KeyState.ACTIVE), None)

    def rotate_key(
        self, new_public_key: bytes, signing_key_id: str, signed_at: datetime, signature: bytes, now: datetime
    ) -> EnterpriseKey:
        """Add ``new_public_key`` and retire the signing key, if an active key of ours signed exactly this."""
        check_public_key(new_public_key, "new_public_key")
        signer = self.active_key(signing_key_id)
        if signer is None:
            raise FailedPrecondition(
                "ERROR_REASON_KEY_NOT_ACTIVE", "the signing key is not an active key of this enterprise"
            )
        if abs(now - signed_at) > SIGNATURE_WINDOW:
            raise PermissionDenied("ERROR_REASON_PERMISSION_DENIED", "signed_at is outside the accepted time window")
        try:
            Ed25519PublicKey.from_public_bytes(signer.public_key).verify(
                signature, rotation_message(self.uscc, signing_key_id, new_public_key, signed_at)
            )
        except InvalidSignature:
            raise PermissionDenied("ERROR_REASON_PERMISSION_DENIED", "the signature does not verify") from None
        if not is_signing_key(signer.public_key):
            # Registered before registration checked keys: its signature proves nothing, whoever made it.
            raise FailedPrecondition("ERROR_REASON_KEY_NOT_ACTIVE", WEAK_KEY_REFUSED)
        new_id = key_id_of(new_public_key)
        if any(k.key_id == new_id for k in self.keys):
            raise FailedPrecondition(
                "ERROR_REASON_KEY_NOT_ACTIVE", "that key was already registered; keys are never reused"
            )
        signer.state = KeyState.RETIRED
        signer.retired_at = now
        return self._add_active(new_id, new_public_key, now)

    def replace_keys(self, new_public_key: bytes, now: datetime) -> EnterpriseKey:
        """Retire every active key and add ``new_public_key``, with no signature by any of them: the operator's
        answer to a lost or refused key, once the enterprise's identity was verified offline (the caller checks the
        change's evidence and that no other enterprise holds the key)."""
        check_public_key(new_public_key, "new_public_key")
        new_id = key_id_of(new_public_key)
        if any(k.key_id == new_id for k in self.keys):
            raise key_already_registered()
        for key in self.keys:
            if key.state is KeyState.ACTIVE:
                key.state = KeyState.RETIRED
                key.retired_at = now
        return self._add_active(new_id, new_public_key, now)

    def _add_active(self, key_id: str, public_key: bytes, now: datetime) -> EnterpriseKey:
        key = EnterpriseKey(key_id, public_key, KeyState.ACTIVE, now)
        self.keys.append(key)
        self.updated_at = now
        return key


# An enterprise has no lifecycle status: its history (and the registry's log) records a key replacement as a step
# from REGISTERED to KEY_REPLACED.
ENTERPRISE_REGISTERED = "REGISTERED"
KEY_REPLACED = "KEY_REPLACED"


def key_already_registered(field_name: str = "new_public_key") -> InvalidArgument:
    # Whose key it is is not told: the caller may not know that enterprise, and a key id would name it.
    return InvalidArgument(
        "ERROR_REASON_INVALID_KEY",
        f"{field_name} was already registered to an enterprise; keys are never reused",
        {"field": field_name},
    )


@dataclass
class Department:
    """A government department or public utility that provides data."""

    code: str
    display_name: str
    kind: DepartmentKind
    created_at: datetime

    @property
    def name(self) -> str:
        return f"departments/{self.code}"


class BreachKind(StrEnum):
    OBJECTION_FORWARDED_LATE = "OBJECTION_FORWARDED_LATE"
    SUPERVISION_FINDING = "SUPERVISION_FINDING"


@dataclass(frozen=True)
class Breach:
    """A compliance breach recorded against a platform; visible to supervision and never rewritten."""

    platform_id: str
    kind: BreachKind
    reference: str
    detail: str
    occurred_at: datetime
    recorded_at: datetime
