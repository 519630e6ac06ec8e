"""The disclosure log's EvidenceLogService on the platforms' door (mTLS).

Every disclosure leaf names an enterprise, who received its data, the purpose, the items, the authorization and each
released record's SHA-256, and an inclusion proof carries its leaf whole. So on the door: the caller is identified
and admitted first (a revoked certificate or a suspended platform gets nothing), listing is refused, and a leaf's
proof goes only to the platform that connected for it or was served by it (its own receipts), or, for a release (or
an evidence package's export) listed in an enterprise's self-query history, to the platform that relayed that signed
self-query (so the enterprise can verify each entry of its history). The internal listener serves the full service
to the node's own readers."""

from __future__ import annotations

import json

import grpc

from creditnode.evidence.v1 import evidence_log_service_pb2 as pb
from services.gateway.api.identity import Identify, revoked_certificate_of
from services.gateway.usecases import Gateway, listed_in_history
from services.kit.errors import DomainError, PermissionDenied
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.servicer import EvidenceLogServicer, inclusion_response
from services.kit.evidence.store import LeafFilter


class DoorEvidenceLogServicer(EvidenceLogServicer):
    def __init__(self, log: EvidenceLog, gateway: Gateway, identify: Identify) -> None:
        super().__init__(log, self._door)
        self.gateway = gateway
        self.identify = identify

    def _caller(self, method: str, context: grpc.ServicerContext) -> str:
        connected = ""
        try:
            connected = self.identify(context)
            self.gateway.admit(connected)
        except DomainError as exc:
            self.gateway.denied(method, connected, "", exc, revoked_certificate_of=revoked_certificate_of(exc))
            raise
        return connected

    def _door(self, method: str, context: grpc.ServicerContext) -> None:
        connected = self._caller(method, context)
        if method == "ListLeaves":
            exc = PermissionDenied("ERROR_REASON_PERMISSION_DENIED", "listing the disclosure log is for supervisors")
            self.gateway.denied(method, connected, "", exc)
            raise exc

    def GetInclusionProof(
        self, request: pb.GetInclusionProofRequest, context: grpc.ServicerContext
    ) -> pb.GetInclusionProofResponse:
        connected = self._caller("GetInclusionProof", context)
        result = self.inclusion(request)
        payload = json.loads(result.leaf.payload_json)
        if connected not in (payload.get("caller"), payload.get("platform")) and not self._in_history_of(
            connected, result.leaf.index, payload
        ):
            exc = PermissionDenied("ERROR_REASON_PERMISSION_DENIED", "the leaf records another platform's request")
            self.gateway.denied("GetInclusionProof", connected, "", exc)
            raise exc
        return inclusion_response(result)

    def _in_history_of(self, connected: str, index: int, payload: dict[str, object]) -> bool:
        """Whether the leaf is a release (or an evidence package's export) the caller could be shown in an
        enterprise's self-query history: one about that enterprise, recorded before an allowed self-query the caller
        relayed (the pages of its history list every such leaf; any part of a release split over several leaves)."""
        enterprise = payload.get("enterprise")
        release = payload.get("type") == "credit_report" and bool(payload.get("released"))
        if not (release or listed_in_history(payload)) or not isinstance(enterprise, str):
            return False
        for role in ("caller", "platform"):
            # A refused self-query is a leaf of the same type: only an allowed one was given the history.
            where = LeafFilter(
                kind=LeafKind.DISCLOSURE,
                payload=(("enterprise", enterprise), ("type", "self_query"), ("decision", "ALLOW"), (role, connected)),
            )
            if self.log.list_leaves(where, index, 1):
                return True
        return False
