"""Scoring, as the objection service needs it: evaluation lookups, evaluation dispute flags and re-evaluation."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import grpc
import structlog

from creditnode.scoring.v1 import scoring_service_pb2 as sc
from creditnode.scoring.v1 import scoring_service_pb2_grpc as sc_grpc
from services.kit.errors import Unavailable
from services.kit.status import error_info
from services.objection.clients.refusals import delivery_failure, unavailable
from services.objection.domain import EvaluationInfo

log = structlog.get_logger("objection.scoring")

DONE = "DONE"
PARKED = "PARKED"

_OUTCOMES = {
    "CORRECTED": sc.EVALUATION_DISPUTE_OUTCOME_CORRECTED,
    "UPHELD": sc.EVALUATION_DISPUTE_OUTCOME_UPHELD,
}


def _unavailable(exc: grpc.RpcError, what: str) -> Unavailable:
    return Unavailable(
        "ERROR_REASON_DEPENDENCY_UNAVAILABLE", f"scoring's {what} is unavailable", {"code": exc.code().name}
    )


class ScoringEvaluationLookup:
    """EvaluationLookup over ``ScoringService.GetEvaluationByName``; an evaluation id is scoring's evaluation name."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = sc_grpc.ScoringServiceStub(channel)

    def evaluation(self, evaluation_id: str) -> EvaluationInfo | None:
        try:
            response: sc.GetEvaluationByNameResponse = self._stub.GetEvaluationByName(
                sc.GetEvaluationByNameRequest(name=evaluation_id)
            )
        except grpc.RpcError as exc:
            # Scoring says NOT_FOUND for an unknown id and INVALID_ARGUMENT for a name of another shape: both mean
            # "no such evaluation" here, and the domain words the refusal (never a guess on UNAVAILABLE).
            if exc.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                return None
            raise _unavailable(exc, "evaluation lookup") from None
        return EvaluationInfo(
            evaluation_id=response.evaluation.name,
            enterprise=response.evaluation.enterprise.removeprefix("enterprises/"),
        )


def _request_id(objection_id: str, what: str) -> str:
    """A stable request_id per effect, so a redelivered event is a replay at scoring."""
    return "obj-" + hashlib.sha256(f"{objection_id}\x1f{what}".encode()).hexdigest()[:40]


def _evaluation(payload: Mapping[str, Any]) -> str | None:
    target = payload.get("target")
    if isinstance(target, Mapping) and "evaluation_id" in target:
        return str(target["evaluation_id"])
    return None


class ScoringDisputes:
    """Idempotent outbox handlers for evaluation targets: dispute flags, statements and re-evaluation in scoring.

    Scoring keys each effect by (enterprise, objection), so a redelivery, or a flag arriving after its outcome, changes
    nothing; a statement that arrives before its dispute was recorded is retried.
    """

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = sc_grpc.ScoringServiceStub(channel)

    def _call(self, method: str, request: Any, *, not_yet: str = "") -> Any:
        """Call ``method``; a refusal for the reason ``not_yet`` is retried (the consumer expects it to pass later)."""
        try:
            return getattr(self._stub, method)(request)
        except grpc.RpcError as exc:
            info = error_info(exc)
            if not_yet and info is not None and info.reason == not_yet:
                raise unavailable(exc, f"scoring's {method}") from None
            raise delivery_failure(exc, f"scoring's {method}") from None

    def _reevaluate(self, payload: Mapping[str, Any]) -> None:
        # One request_id per objection: the CORRECTED clear and ReevaluationRequested share one re-evaluation.
        objection_id = str(payload["objection_id"])
        request = sc.ReEvaluateRequest(
            enterprise=f"enterprises/{payload['enterprise']}",
            objection=f"objections/{objection_id}",
            request_id=_request_id(objection_id, "ReEvaluate"),
        )
        try:
            self._stub.ReEvaluate(request)
        except grpc.RpcError as exc:
            if exc.code() is grpc.StatusCode.NOT_FOUND:
                # Scoring does not follow this enterprise (yet): its first evaluation will read the current records.
                log.warning("reevaluation_skipped", objection=objection_id, reason="enterprise unknown to scoring")
                return
            raise delivery_failure(exc, "scoring's ReEvaluate") from None

    def flag_raised(self, payload: Mapping[str, Any]) -> str:
        name = _evaluation(payload)
        if name is None:
            return PARKED
        self._call(
            "SetEvaluationDispute",
            sc.SetEvaluationDisputeRequest(
                name=name,
                objection=f"objections/{payload['objection_id']}",
                request_id=_request_id(str(payload["objection_id"]), "SetEvaluationDispute"),
            ),
        )
        return DONE

    def flag_cleared(self, payload: Mapping[str, Any]) -> str:
        name = _evaluation(payload)
        if name is None:
            return PARKED
        if payload["outcome"] == "CORRECTED":
            # Re-evaluate first, so the enterprise's current evaluation is the corrected one before the flag goes:
            # nobody is shown the disputed evaluation as if it were settled.
            self._reevaluate(payload)
        self._call(
            "ClearEvaluationDispute",
            sc.ClearEvaluationDisputeRequest(
                name=name,
                objection=f"objections/{payload['objection_id']}",
                outcome=_OUTCOMES[str(payload["outcome"])],
                request_id=_request_id(str(payload["objection_id"]), "ClearEvaluationDispute"),
            ),
        )
        return DONE

    def marked_unverifiable(self, payload: Mapping[str, Any]) -> str:
        name = _evaluation(payload)
        if name is None:
            return PARKED
        self._call(
            "ClearEvaluationDispute",
            sc.ClearEvaluationDisputeRequest(
                name=name,
                objection=f"objections/{payload['objection_id']}",
                outcome=sc.EVALUATION_DISPUTE_OUTCOME_UNVERIFIABLE,
                statement=payload.get("statement") or "",
                request_id=_request_id(str(payload["objection_id"]), "ClearEvaluationDispute"),
            ),
        )
        return DONE

    def statement_attached(self, payload: Mapping[str, Any]) -> str:
        name = _evaluation(payload)
        if name is None:
            return PARKED
        self._call(
            "AttachEvaluationStatement",
            sc.AttachEvaluationStatementRequest(
                name=name,
                objection=f"objections/{payload['objection_id']}",
                statement=str(payload["statement"]),
                # a replaced statement is a new effect (the outbox keys it by time as well)
                request_id=_request_id(str(payload["objection_id"]), f"AttachEvaluationStatement\x1f{payload['at']}"),
            ),
            # Scoring says so until the dispute is recorded (its flag or outcome may still be on the way).
            not_yet="ERROR_REASON_EVALUATION_DISPUTE_NOT_FOUND",
        )
        return DONE

    def reevaluation_requested(self, payload: Mapping[str, Any]) -> str:
        self._reevaluate(payload)
        log.info("reevaluation_requested", objection=payload["objection_id"])
        return DONE
