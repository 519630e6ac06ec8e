"""How the outbox handlers read a consumer's error: retried later, or refused for good (the dispatcher parks it)."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from services.kit.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from services.objection.clients.registry import RegistryBreaches, RegistryDisputes
from services.objection.clients.scoring import ScoringDisputes
from tests.rpc_refusals import Refused

RECORD = {"record_id": "enterprises/91610000MA6TG0001A/records/r-1", "version": 1}
EVALUATION = {"evaluation_id": "enterprises/91610000MA6TG0001A/evaluations/7"}


class _Stub:
    """Every method fails with ``error``."""

    def __init__(self, error: grpc.RpcError) -> None:
        self.error = error

    def __getattr__(self, method: str) -> Any:
        def call(request: Any, **kw: Any) -> Any:
            raise self.error

        return call


def _handlers(error: grpc.RpcError) -> list[tuple[Any, dict[str, Any]]]:
    registry = RegistryDisputes.__new__(RegistryDisputes)
    registry._stub = _Stub(error)
    scoring = ScoringDisputes.__new__(ScoringDisputes)
    scoring._stub = _Stub(error)
    breaches = RegistryBreaches.__new__(RegistryBreaches)
    breaches._stub = _Stub(error)
    base = {"objection_id": "o-1", "enterprise": "91610000MA6TG0001A", "at": "2025-03-11T09:00:00+08:00"}
    return [
        (registry.flag_raised, {**base, "type": "DisputeFlagRaised", "target": RECORD}),
        (registry.flag_cleared, {**base, "type": "DisputeFlagCleared", "target": RECORD, "outcome": "UPHELD"}),
        (registry.marked_unverifiable, {**base, "type": "TargetMarkedUnverifiable", "target": RECORD}),
        (scoring.flag_raised, {**base, "type": "DisputeFlagRaised", "target": EVALUATION}),
        (scoring.flag_cleared, {**base, "type": "DisputeFlagCleared", "target": EVALUATION, "outcome": "CORRECTED"}),
        (scoring.reevaluation_requested, {**base, "type": "ReevaluationRequested"}),
        (
            breaches.forwarding_breached,
            {**base, "type": "ForwardingBreached", "platform": "platforms/xian", "forwarded_at": base["at"]},
        ),
    ]


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (grpc.StatusCode.INVALID_ARGUMENT, InvalidArgument),
        (grpc.StatusCode.FAILED_PRECONDITION, FailedPrecondition),
        (grpc.StatusCode.OUT_OF_RANGE, InvalidArgument),
    ],
)
def test_a_permanent_refusal_is_said_as_such_with_the_consumers_code_and_reason(
    code: grpc.StatusCode, kind: type
) -> None:
    for handler, payload in _handlers(Refused(code, "ERROR_REASON_INVALID_FIELD")):
        with pytest.raises(kind) as err:
            handler(payload)
        assert err.value.reason == "ERROR_REASON_INVALID_FIELD", payload["type"]
        assert err.value.metadata["code"] == code.name


def test_a_record_or_enterprise_the_consumer_does_not_know_is_a_permanent_refusal() -> None:
    handlers = _handlers(Refused(grpc.StatusCode.NOT_FOUND, "ERROR_REASON_RECORD_NOT_FOUND"))
    for handler, payload in handlers:
        if payload["type"] == "ReevaluationRequested":
            continue  # an enterprise scoring does not follow is skipped: its first evaluation reads the records
        with pytest.raises(NotFound) as err:
            handler(payload)
        assert err.value.reason == "ERROR_REASON_RECORD_NOT_FOUND"


@pytest.mark.parametrize(
    "code",
    [
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNIMPLEMENTED,
    ],
)
def test_other_failures_stay_retryable(code: grpc.StatusCode) -> None:
    for handler, payload in _handlers(Refused(code, "ERROR_REASON_UNSPECIFIED")):
        with pytest.raises(Unavailable) as err:
            handler(payload)
        assert err.value.metadata["code"] == code.name


def test_a_statement_before_scoring_recorded_its_dispute_stays_retryable() -> None:
    # Scoring answers NOT_FOUND EVALUATION_DISPUTE_NOT_FOUND until the dispute exists; its README promises a retry.
    scoring = ScoringDisputes.__new__(ScoringDisputes)
    scoring._stub = _Stub(Refused(grpc.StatusCode.NOT_FOUND, "ERROR_REASON_EVALUATION_DISPUTE_NOT_FOUND"))
    payload = {"objection_id": "o-1", "type": "StatementAttached", "target": EVALUATION, "statement": "s", "at": "t"}
    with pytest.raises(Unavailable):
        scoring.statement_attached(payload)


def test_a_flag_the_registry_never_had_ends_a_clearing_but_refuses_a_statement() -> None:
    # The objection's raising was refused, so the record carries no flag of it: clearing has nothing left to do, but
    # a statement delivered as done would be lost without anyone seeing it.
    registry = RegistryDisputes.__new__(RegistryDisputes)
    registry._stub = _Stub(Refused(grpc.StatusCode.NOT_FOUND, "ERROR_REASON_DISPUTE_NOT_FOUND"))
    base = {"objection_id": "o-1", "enterprise": "91610000MA6TG0001A", "at": "2025-03-11T09:00:00+08:00"}
    cleared = {**base, "type": "DisputeFlagCleared", "target": RECORD, "outcome": "UPHELD"}
    assert registry.flag_cleared(cleared) == "DONE"
    with pytest.raises(NotFound) as err:
        registry.statement_attached({**base, "type": "StatementAttached", "target": RECORD, "statement": "s"})
    assert err.value.reason == "ERROR_REASON_DISPUTE_NOT_FOUND"
