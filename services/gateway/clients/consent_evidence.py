"""Consent's side of an evidence package: an authorization's receipts and the consent-log proofs of each."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

import grpc

from creditnode.consent.v1 import consent_service_pb2 as pb
from creditnode.consent.v1 import consent_service_pb2_grpc as pb_grpc
from creditnode.evidence.v1 import evidence_log_service_pb2 as epb
from creditnode.evidence.v1 import evidence_log_service_pb2_grpc as epb_grpc
from services.gateway.clients.errors import relayed
from services.kit.evidence.entries import format_time
from services.kit.evidence.heads import b64encode

PAGE = 1000


def receipt_obj(r: pb.Receipt) -> dict[str, Any]:
    """A consent receipt in the package's JSON: exactly the fields its canonical lines (and digest) cover."""
    return {
        "name": r.name,
        "authorization": r.authorization,
        "event_type": pb.EventType.Name(r.event_type).removeprefix("EVENT_TYPE_"),
        "revision": r.revision,
        "record_time": format_time(r.record_time.ToDatetime(UTC)),
        "signed_payload": b64encode(r.signed_payload),
        "signature": r.signature.hex(),
        "signing_key_id": r.signing_key_id,
        "previous_digest": r.previous_digest.hex(),
        "digest": r.digest.hex(),
    }


class ConsentEvidence:
    """Reads consent's authorizations and its evidence log (same address as the consent service)."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.consent = pb_grpc.ConsentServiceStub(channel)
        self.log = epb_grpc.EvidenceLogServiceStub(channel)

    def authorizations(self, enterprise: str, requester: str) -> list[str]:
        """Names of every authorization ``requester`` holds or held over ``enterprise``."""
        names: list[str] = []
        token = ""
        try:
            while True:
                page = self.consent.ListAuthorizations(
                    pb.ListAuthorizationsRequest(
                        enterprise=enterprise, requester=requester, page_size=PAGE, page_token=token
                    )
                )
                names += [a.name for a in page.authorizations]
                token = page.next_page_token
                if not token:
                    return names
        except grpc.RpcError as exc:
            raise relayed(exc, "consent") from None

    def evidence(self, authorization: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The authorization's receipts (oldest first) and receipts of their consent-log leaves at one fresh head."""
        receipts: list[dict[str, Any]] = []
        leaves: list[dict[str, Any]] = []
        token = ""
        try:
            while True:
                events = self.consent.ListAuthorizationEvents(
                    pb.ListAuthorizationEventsRequest(authorization=authorization, page_size=PAGE, page_token=token)
                )
                receipts += [receipt_obj(e.receipt) for e in events.events]
                token = events.next_page_token
                if not token:
                    break
            head = self.log.GetSignedTreeHead(epb.GetSignedTreeHeadRequest(fresh=True)).tree_head
            while True:
                page = self.log.ListLeaves(
                    epb.ListLeavesRequest(
                        kind=epb.LEAF_KIND_CONSENT_EVENT,
                        payload_equals={"authorization": authorization},
                        page_size=PAGE,
                        page_token=token,
                    )
                )
                for leaf in page.leaves:
                    if leaf.index < head.tree_size:
                        proof = self.log.GetInclusionProof(
                            epb.GetInclusionProofRequest(leaf_index=leaf.index, tree_size=head.tree_size)
                        )
                        leaves.append(json.loads(proof.receipt_json))
                token = page.next_page_token
                if not token:
                    return receipts, leaves
        except grpc.RpcError as exc:
            raise relayed(exc, "consent") from None
