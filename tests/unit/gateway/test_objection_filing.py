"""Objections relayed by the gateway: an enterprise's must carry its signature over every field, checked before
anything is relayed; a refusal is recorded as every other; an institution's is relayed unsigned, as before."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from structlog.testing import capture_logs

from creditnode.objection.v1 import objection_service_pb2 as ob
from services.gateway.domain.objection_signing import Signature, SignedObjection, canonical_lines
from services.gateway.domain.quota import QuotaLimits, Quotas
from services.gateway.domain.selfquery import EnterpriseKey
from services.gateway.usecases import Gateway
from services.kit.errors import DomainError, InvalidArgument, PermissionDenied, Unauthenticated
from services.kit.protos import timestamp
from tests.unit.gateway.test_usecases import (
    E,
    FakeConsent,
    FakeConsentCache,
    FakeLog,
    FakeParticipants,
    FakeRegistry,
    FakeSharingList,
)

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)
USCC = E.removeprefix("enterprises/")
KEY = Ed25519PrivateKey.generate()


class FakeObjection:
    def __init__(self) -> None:
        self.filed: list[ob.FileObjectionRequest] = []

    def file(self, request: ob.FileObjectionRequest) -> ob.FileObjectionResponse:
        self.filed.append(request)
        return ob.FileObjectionResponse(objection=ob.Objection(name="objections/o1", platform=request.platform))


def gateway_knowing_the_key(clock: Callable[[], datetime]) -> Gateway:
    """The gateway's use cases with fakes around them; the registry knows the enterprise's key ``KEY``."""
    registry = FakeRegistry()
    keys = {USCC: [EnterpriseKey("k1", KEY.public_key().public_bytes_raw(), True)]}
    registry.enterprise_keys = keys.get  # type: ignore[attr-defined]
    return Gateway(
        participants=FakeParticipants(),  # type: ignore[arg-type]
        consent_cache=FakeConsentCache(),  # type: ignore[arg-type]
        consent=FakeConsent(),  # type: ignore[arg-type]
        registry=registry,  # type: ignore[arg-type]
        sharing_list=FakeSharingList(),  # type: ignore[arg-type]
        disclosure_log=FakeLog(),
        quotas=Quotas(QuotaLimits(), lambda: 0.0),
        clock=clock,
        objection=FakeObjection(),  # type: ignore[arg-type]
    )


@pytest.fixture
def gw() -> Gateway:
    return gateway_knowing_the_key(lambda: NOW)


def enterprise_objection(**kw: Any) -> ob.FileObjectionRequest:
    fields: dict[str, Any] = {
        "platform": "platforms/forged",
        "filer_kind": ob.FILER_KIND_ENTERPRISE,
        "filer": E,
        "enterprise": USCC,
        "records": [ob.RecordTarget(record=f"{E}/records/r1", version=1)],
        "reasons": "the registered capital is wrong",
        "attachment_sha256": ["a" * 64],
        "statement": "we registered 2 million",
        "receive_time": timestamp(NOW - timedelta(hours=1)),
        "request_id": "req-1",
    }
    fields.update(kw)
    return ob.FileObjectionRequest(**fields)


def sign(request: ob.FileObjectionRequest, key: Ed25519PrivateKey = KEY, nonce: str = "n" * 20) -> Signature:
    unsigned = SignedObjection(
        enterprise=request.enterprise,
        filer=request.filer,
        records=tuple((r.record, r.version) for r in request.records),
        evaluation=request.evaluation,
        reasons=request.reasons,
        attachment_sha256=tuple(request.attachment_sha256),
        statement=request.statement,
        receive_time=request.receive_time.ToDatetime(UTC),
        request_id=request.request_id,
        key_id="k1",
        nonce=nonce,
        signed_at=NOW,
        signature=b"",
    )
    return Signature("k1", nonce, NOW, key.sign(canonical_lines(unsigned)))


def refusal(gw: Gateway, request: ob.FileObjectionRequest, signature: Signature | None) -> DomainError:
    with capture_logs() as logs, pytest.raises(DomainError) as err:
        gw.file_objection(request, "platforms/xian", "", signature)
    assert gw.objection.filed == []  # type: ignore[union-attr]
    refused = [e for e in logs if e["event"] == "request_refused"]
    assert [(e["method"], e["reason"], e["caller"]) for e in refused] == [
        ("FileObjection", err.value.reason, "platforms/xian")
    ]
    return err.value


def test_an_enterprise_filing_without_its_signature_is_refused_recorded_and_not_relayed(gw: Gateway) -> None:
    exc = refusal(gw, enterprise_objection(), None)
    # As a self-query without a signature is answered.
    assert isinstance(exc, InvalidArgument)
    assert (exc.reason, exc.metadata["field"]) == ("ERROR_REASON_INVALID_FIELD", "signature")
    (leaf,) = gw.disclosure_log.leaves  # type: ignore[attr-defined]
    assert exc.metadata["receipt_leaf_index"] == "0"
    assert {k: leaf[k] for k in ("type", "decision", "reason", "caller", "platform", "enterprise", "request_id")} == {
        "type": "FileObjection",
        "decision": "DENY",
        "reason": "ERROR_REASON_INVALID_FIELD",
        "caller": "platforms/xian",
        "platform": "platforms/xian",
        "enterprise": E,
        "request_id": "req-1",
    }


def test_an_objection_signed_by_another_enterprises_key_is_refused(gw: Gateway) -> None:
    request = enterprise_objection()
    exc = refusal(gw, request, sign(request, key=Ed25519PrivateKey.generate()))
    assert isinstance(exc, Unauthenticated)
    assert exc.reason == "ERROR_REASON_SIGNATURE_INVALID"
    assert [leaf["decision"] for leaf in gw.disclosure_log.leaves] == ["DENY"]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "alteration",
    [
        {"reasons": "something else entirely"},
        {"statement": ""},
        {"records": [ob.RecordTarget(record=f"{E}/records/r1", version=2)]},
        {"attachment_sha256": []},
        {"receive_time": timestamp(NOW - timedelta(days=3))},
        {"request_id": "req-2"},
    ],
)
def test_an_objection_altered_after_the_enterprise_signed_is_refused(gw: Gateway, alteration: dict[str, Any]) -> None:
    signature = sign(enterprise_objection())
    exc = refusal(gw, enterprise_objection(**alteration), signature)
    assert exc.reason == "ERROR_REASON_SIGNATURE_INVALID"


def test_a_signed_enterprise_filing_is_relayed_as_the_callers_platform_once_per_nonce(gw: Gateway) -> None:
    request = enterprise_objection()
    signature = sign(request)
    gw.file_objection(request, "platforms/xian", "", signature)
    (relayed,) = gw.objection.filed  # type: ignore[union-attr]
    expected = enterprise_objection(platform="platforms/xian")
    assert relayed == expected
    # The same signed request again (a replay) is refused, as a self-query's.
    with pytest.raises(Unauthenticated) as err:
        gw.file_objection(request, "platforms/xian", "", signature)
    assert err.value.reason == "ERROR_REASON_NONCE_REUSED"
    assert len(gw.objection.filed) == 1  # type: ignore[union-attr]


def test_a_receive_time_finer_than_the_signed_seconds_is_refused(gw: Gateway) -> None:
    request = enterprise_objection()
    signature = sign(request)
    request.receive_time.nanos = 500  # below a microsecond: invisible once read as a datetime
    exc = refusal(gw, request, signature)
    assert (exc.reason, exc.metadata["field"]) == ("ERROR_REASON_INVALID_FIELD", "objection.receive_time")


def test_a_retired_key_is_refused(gw: Gateway) -> None:
    gw.registry.enterprise_keys = lambda uscc: [  # type: ignore[attr-defined]
        EnterpriseKey("k1", KEY.public_key().public_bytes_raw(), False)
    ]
    request = enterprise_objection()
    assert refusal(gw, request, sign(request)).reason == "ERROR_REASON_KEY_NOT_ACTIVE"


def test_a_platform_without_access_hears_that_before_the_signature_is_looked_at(gw: Gateway) -> None:
    with pytest.raises(PermissionDenied) as err:
        gw.file_objection(enterprise_objection(), "platforms/ghost", "", None)
    assert err.value.reason == "ERROR_REASON_PLATFORM_NOT_ADMITTED"
    assert gw.objection.filed == []  # type: ignore[union-attr]
    assert [leaf["reason"] for leaf in gw.disclosure_log.leaves] == [  # type: ignore[attr-defined]
        "ERROR_REASON_PLATFORM_NOT_ADMITTED"
    ]


def test_an_institution_files_unsigned_as_before(gw: Gateway) -> None:
    request = enterprise_objection(
        filer_kind=ob.FILER_KIND_INSTITUTION, filer="institutions/boc", statement="", request_id="req-3"
    )
    gw.file_objection(request, "platforms/xian", "", None)
    (relayed,) = gw.objection.filed  # type: ignore[union-attr]
    assert (relayed.filer, relayed.platform) == ("institutions/boc", "platforms/xian")
    assert gw.disclosure_log.leaves == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("kind", [ob.FILER_KIND_UNSPECIFIED, 7])
def test_a_filer_of_no_known_kind_is_refused_not_relayed_unsigned(gw: Gateway, kind: int) -> None:
    exc = refusal(gw, enterprise_objection(filer_kind=kind), None)
    assert (exc.reason, exc.metadata["field"]) == ("ERROR_REASON_INVALID_FIELD", "objection.filer_kind")
    assert [leaf["type"] for leaf in gw.disclosure_log.leaves] == ["FileObjection"]  # type: ignore[attr-defined]
