"""Consent as scoring needs it: does the lender hold a POST_LOAN_MONITORING authorization for these items?"""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from creditnode.consent.v1 import consent_service_pb2 as cpb
from creditnode.consent.v1 import consent_service_pb2_grpc as cgrpc
from services.kit.errors import Unavailable
from services.scoring.domain.ports import Decision

PURPOSE = "POST_LOAN_MONITORING"


class GrpcMonitoringConsent:
    """MonitoringConsent over ``creditnode.consent.v1.ConsentService.CheckAuthorization`` (no use is consumed:
    the gateway consumes a use when it relays an alert). Anything but ALLOW is DENY; no answer is UNAVAILABLE."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = cgrpc.ConsentServiceStub(channel)

    def check(self, institution_id: str, uscc: str, items: Sequence[str]) -> Decision:
        request = cpb.CheckAuthorizationRequest(
            requester=f"institutions/{institution_id}",
            enterprise=f"enterprises/{uscc}",
            purpose=PURPOSE,
            items=list(items),
            consume=False,
        )
        try:
            response = self._stub.CheckAuthorization(request)
        except grpc.RpcError as exc:
            if exc.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.NOT_FOUND):
                return Decision.DENY  # e.g. an item consent does not know: not authorized
            raise Unavailable(
                "ERROR_REASON_DEPENDENCY_UNAVAILABLE", "consent is unavailable", {"code": exc.code().name}
            ) from None
        return Decision.ALLOW if response.decision == cpb.DECISION_ALLOW else Decision.DENY
