"""The onboarding lifecycle ("有进有出"), effective access, institutions and enterprise keys: pure rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.kit.errors import Aborted, FailedPrecondition, InvalidArgument, PermissionDenied
from services.registry.domain.participants import (
    PLATFORM_ACTIONS,
    Assessment,
    AssessmentKind,
    AssessmentResult,
    ChangeInfo,
    Docking,
    Enterprise,
    EnterpriseKey,
    InstitutionStatus,
    InstitutionType,
    KeyState,
    Platform,
    PlatformAction,
    PlatformKind,
    PlatformStatus,
    key_id_of,
    new_institution,
    new_platform,
    rotation_message,
)

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
WHO = ChangeInfo(actor="operator")

# The reference table from the issue: (from, action) -> to. Everything else is illegal.
LEGAL = {
    (PlatformStatus.APPLIED, PlatformAction.START_REVIEW): PlatformStatus.UNDER_REVIEW,
    (PlatformStatus.UNDER_REVIEW, PlatformAction.ADMIT): PlatformStatus.ADMITTED,
    (PlatformStatus.UNDER_REVIEW, PlatformAction.REJECT): PlatformStatus.REJECTED,
    (PlatformStatus.ADMITTED, PlatformAction.SUSPEND): PlatformStatus.SUSPENDED,
    (PlatformStatus.SUSPENDED, PlatformAction.READMIT): PlatformStatus.ADMITTED,
    (PlatformStatus.SUSPENDED, PlatformAction.REMOVE): PlatformStatus.REMOVED,
    (PlatformStatus.ADMITTED, PlatformAction.REMOVE): PlatformStatus.REMOVED,
    **{
        (s, PlatformAction.EXIT): PlatformStatus.EXITED
        for s in (
            PlatformStatus.APPLIED,
            PlatformStatus.UNDER_REVIEW,
            PlatformStatus.ADMITTED,
            PlatformStatus.SUSPENDED,
        )
    },
}


def _passed(kind: AssessmentKind, expires: datetime = NOW + timedelta(days=365)) -> Assessment:
    return Assessment(kind, "测评中心", NOW - timedelta(days=1), AssessmentResult.PASSED, "", expires)


def _platform(status: PlatformStatus, docking: Docking = Docking.DIRECT, proxy: str | None = None) -> Platform:
    p = Platform("xian", "西安", PlatformKind.CITY, "610100", docking, proxy, status, NOW, NOW)
    p.assessments = {k: _passed(k) for k in AssessmentKind}
    return p


@pytest.mark.parametrize("status", list(PlatformStatus))
@pytest.mark.parametrize("action", list(PlatformAction))
def test_every_transition_follows_the_reference_table(status: PlatformStatus, action: PlatformAction) -> None:
    platform = _platform(status)
    expected = LEGAL.get((status, action))
    if expected is None:
        with pytest.raises(FailedPrecondition) as err:
            platform.apply(action, WHO, NOW, None)
        assert err.value.reason == "ERROR_REASON_ILLEGAL_TRANSITION"
        assert err.value.metadata["from"] == status.value
        assert platform.status is status
    else:
        step = platform.apply(action, WHO, NOW, None)
        assert platform.status is expected
        assert (step.from_status, step.to_status) == (status.value, expected.value)


def test_the_table_in_code_is_the_reference_table() -> None:
    derived = {(s, a): to for a, (froms, to) in PLATFORM_ACTIONS.items() for s in froms}
    assert derived == LEGAL


@pytest.mark.parametrize("missing", list(AssessmentKind))
def test_admission_needs_each_assessment_passed_and_unexpired(missing: AssessmentKind) -> None:
    for broken in (
        None,
        Assessment(missing, "x", NOW, AssessmentResult.FAILED, "", NOW + timedelta(days=9)),
        _passed(missing, expires=NOW - timedelta(seconds=1)),
    ):
        platform = _platform(PlatformStatus.UNDER_REVIEW)
        if broken is None:
            del platform.assessments[missing]
        else:
            platform.assessments[missing] = broken
        with pytest.raises(FailedPrecondition) as err:
            platform.apply(PlatformAction.ADMIT, WHO, NOW, None)
        assert err.value.reason == "ERROR_REASON_ASSESSMENT_MISSING"
        assert err.value.metadata["missing"] == missing.value


@pytest.mark.parametrize(
    ("later", "refused"),
    [
        (timedelta(hours=5, minutes=59), False),  # 23:59 Asia/Shanghai, still today there
        (timedelta(hours=6), True),  # 00:00 Asia/Shanghai tomorrow
        (timedelta(days=30), True),
    ],
)
def test_an_assessment_dated_after_today_is_refused_and_does_not_count(later: timedelta, refused: bool) -> None:
    # NOW is 18:00 in Asia/Shanghai. An assessment that has not concluded yet was recorded and counted towards
    # admission at once. Days, not instants: an operator's clock a little ahead of ours still records today's.
    platform = _platform(PlatformStatus.UNDER_REVIEW)
    del platform.assessments[AssessmentKind.SECURITY]
    future = _passed(AssessmentKind.SECURITY)
    future = Assessment(future.kind, future.assessor, NOW + later, future.result, "", NOW + timedelta(days=365))
    if not refused:
        platform.record_assessment(future, NOW)
        assert platform.assessments[AssessmentKind.SECURITY] == future
        return
    with pytest.raises(InvalidArgument) as err:
        platform.record_assessment(future, NOW)
    assert err.value.reason == "ERROR_REASON_INVALID_FIELD"
    assert err.value.metadata["field"] == "assessment.assessed_on"
    assert platform.admission_blockers(NOW) == [AssessmentKind.SECURITY]


def test_expired_assessment_makes_an_admitted_platform_due_for_review() -> None:
    platform = _platform(PlatformStatus.ADMITTED)
    assert not platform.due_for_review(NOW)
    assert platform.due_for_review(NOW + timedelta(days=366))


def test_stale_etag_is_aborted() -> None:
    platform = _platform(PlatformStatus.ADMITTED)
    platform.version = 7
    with pytest.raises(Aborted):
        platform.apply(PlatformAction.SUSPEND, ChangeInfo(actor="op", etag="6"), NOW, None)
    platform.apply(PlatformAction.SUSPEND, ChangeInfo(actor="op", etag="7"), NOW, None)


def test_proxied_platform_access_follows_the_aggregator() -> None:
    aggregator = Platform(
        "qinxinrong",
        "秦信融",
        PlatformKind.AGGREGATOR,
        "610000",
        Docking.DIRECT,
        None,
        PlatformStatus.ADMITTED,
        NOW,
        NOW,
    )
    child = _platform(PlatformStatus.ADMITTED, Docking.PROXIED, "qinxinrong")
    assert child.has_access(aggregator)
    aggregator.status = PlatformStatus.SUSPENDED
    assert not child.has_access(aggregator)
    assert child.status is PlatformStatus.ADMITTED  # the child's own status is not rewritten
    under_review = _platform(PlatformStatus.UNDER_REVIEW, Docking.PROXIED, "qinxinrong")
    with pytest.raises(FailedPrecondition) as err:
        under_review.apply(PlatformAction.ADMIT, WHO, NOW, aggregator)
    assert err.value.reason == "ERROR_REASON_PARENT_NOT_ADMITTED"


def test_a_proxied_platform_must_name_an_aggregator() -> None:
    city = _platform(PlatformStatus.ADMITTED)
    with pytest.raises(FailedPrecondition):
        new_platform("zhouzhi", "周至", PlatformKind.COUNTY, "610124", Docking.PROXIED, city, NOW)
    with pytest.raises(FailedPrecondition):
        new_platform("zhouzhi", "周至", PlatformKind.COUNTY, "610124", Docking.PROXIED, None, NOW)
    with pytest.raises(InvalidArgument):
        new_platform("zhouzhi", "周至", PlatformKind.COUNTY, "6101", Docking.DIRECT, None, NOW)


def test_institution_access_needs_its_own_and_its_platforms_status() -> None:
    platform = _platform(PlatformStatus.ADMITTED)
    inst = new_institution("xa-bank", "西安银行", "B1", InstitutionType.BANK, platform, None, NOW)
    assert inst.has_access(platform, None)
    platform.status = PlatformStatus.SUSPENDED
    assert not inst.has_access(platform, None)
    assert inst.status is InstitutionStatus.ACTIVE
    with pytest.raises(FailedPrecondition) as err:
        new_institution("other", "其他", "B2", InstitutionType.BANK, platform, None, NOW)
    assert err.value.reason == "ERROR_REASON_PARENT_NOT_ADMITTED"


def _raw(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def test_key_rotation_rules() -> None:
    old = Ed25519PrivateKey.generate()
    new = Ed25519PrivateKey.generate()
    old_id = key_id_of(_raw(old))
    enterprise = Enterprise(
        "USCC", "公司", "xian", [EnterpriseKey(old_id, _raw(old), KeyState.ACTIVE, NOW)], False, NOW, NOW
    )
    message = rotation_message("USCC", old_id, _raw(new), NOW)
    with pytest.raises(PermissionDenied):  # signed by someone else
        enterprise.rotate_key(_raw(new), old_id, NOW, Ed25519PrivateKey.generate().sign(message), NOW)
    with pytest.raises(PermissionDenied):  # replayed long after signing
        enterprise.rotate_key(_raw(new), old_id, NOW, old.sign(message), NOW + timedelta(minutes=6))
    with pytest.raises(PermissionDenied):  # signature over other content
        enterprise.rotate_key(_raw(new), old_id, NOW, old.sign(message + b"x"), NOW)
    with pytest.raises(FailedPrecondition):
        enterprise.rotate_key(_raw(new), "0000000000000000", NOW, old.sign(message), NOW)
    enterprise.rotate_key(_raw(new), old_id, NOW, old.sign(message), NOW)
    assert [k.state for k in enterprise.keys] == [KeyState.RETIRED, KeyState.ACTIVE]
    assert enterprise.keys[0].public_key == _raw(old)  # kept for old signatures
