"""Consent as scoring needs it: does the lender hold a POST_LOAN_MONITORING authorization for these items?"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

import grpc

from creditnode.consent.v1 import consent_service_pb2 as cpb
from creditnode.consent.v1 import consent_service_pb2_grpc as cgrpc
from services.kit.errors import Unavailable
from services.scoring.domain.ports import Decision, MonitoringDecision

PURPOSE = "POST_LOAN_MONITORING"


class GrpcMonitoringConsent:
    """MonitoringConsent over ``creditnode.consent.v1.ConsentService.CheckAuthorization`` (no use is consumed:
    the gateway consumes a use when it relays an alert). Anything but ALLOW is DENY; no answer is UNAVAILABLE. An
    ALLOW carries the authorization's ``data_since``, the look-back the alert's records are held to."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = cgrpc.ConsentServiceStub(channel)

    def check(self, institution_id: str, uscc: str, items: Sequence[str]) -> MonitoringDecision:
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
                return MonitoringDecision(Decision.DENY)  # e.g. an item consent does not know: not authorized
            raise Unavailable(
                "ERROR_REASON_DEPENDENCY_UNAVAILABLE", "consent is unavailable", {"code": exc.code().name}
            ) from None
        if response.decision != cpb.DECISION_ALLOW:
            return MonitoringDecision(Decision.DENY)
        since = response.data_since.ToDatetime(tzinfo=UTC) if response.HasField("data_since") else None
        return MonitoringDecision(Decision.ALLOW, since)
