"""The generic ``EvidenceLogService`` servicer: any service registers it on its server over its own ``EvidenceLog``.

Wire it in the composition root's ``ServerSpec.register``::

    register=lambda server: [*register_own(server), *register_evidence_log_service(server, evidence)]

``authorize`` is called first in every method with the method name and the call context; it raises
``PermissionDenied`` to refuse (for example, ``ListLeaves`` only for supervisors on an external listener).
Without it every caller that reaches the listener is served, which suits internal listeners only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from creditnode.evidence.v1 import evidence_log_service_pb2 as pb
from creditnode.evidence.v1 import evidence_log_service_pb2_grpc as pb_grpc
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.heads import SignedTreeHead
from services.kit.evidence.log import EvidenceLog, InclusionResult
from services.kit.evidence.store import LeafFilter, PublicKeyRecord, StoredLeaf
from services.kit.paging import decode_index_token, encode_token, page_size
from services.kit.protos import from_proto_enum, from_timestamp
from services.kit.validation import invalid

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["EvidenceLogService"].full_name
# A page of leaves stays under gRPC's default 4 MiB receive limit, whatever page_size asked for (a leaf carries its
# payload twice, up to 16 KiB each: a thousand of them can be 30 MiB).
PAGE_BYTES = 3 * 1024 * 1024

Authorize = Callable[[str, grpc.ServicerContext], None]
_PAYLOAD_FIELD = re.compile(r"^[a-z_]{1,32}$")
# No payload value holds a control character; an enterprise value is bound as is (the indexed subject column), and
# PostgreSQL refuses a NUL there as INTERNAL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _timestamp(at: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(at.astimezone(UTC))
    return ts


def head_to_proto(head: SignedTreeHead) -> pb.SignedTreeHead:
    ts = Timestamp()
    ts.FromMilliseconds(head.timestamp_ms)
    return pb.SignedTreeHead(
        origin=head.origin,
        tree_size=head.tree_size,
        root_hash=head.root_hash,
        timestamp=ts,
        key_id=head.key_id,
        signature=head.signature,
    )


def head_from_proto(msg: pb.SignedTreeHead) -> SignedTreeHead:
    """The head a client received, ready for ``receipts`` verification."""
    return SignedTreeHead(
        msg.origin, msg.tree_size, msg.root_hash, msg.timestamp.ToMilliseconds(), msg.key_id, msg.signature
    )


def leaf_to_proto(leaf: StoredLeaf) -> pb.Leaf:
    return pb.Leaf(
        index=leaf.index,
        kind=f"LEAF_KIND_{leaf.kind.value}",
        create_time=_timestamp(leaf.created_at),
        payload_json=leaf.payload_json,
        entry_json=leaf.entry_json,
        leaf_hash=leaf.leaf_hash,
    )


def _key_to_proto(key: PublicKeyRecord) -> pb.PublicKey:
    msg = pb.PublicKey(key_id=key.key_id, public_key=key.public_key, add_time=_timestamp(key.added_at))
    if key.retired_at is not None:
        msg.retire_time.CopyFrom(_timestamp(key.retired_at))
    return msg


def inclusion_response(result: InclusionResult) -> pb.GetInclusionProofResponse:
    """A proof on the wire: the leaf, its audit path and, when the log has signed a head that size, the receipt."""
    response = pb.GetInclusionProofResponse(
        leaf=leaf_to_proto(result.leaf), tree_size=result.tree_size, proof=result.proof
    )
    receipt = result.receipt()
    if result.tree_head is not None and receipt is not None:
        response.tree_head.CopyFrom(head_to_proto(result.tree_head))
        response.receipt_json = receipt.to_json()
    return response


def _not_negative(field: str, value: int) -> int:
    if value < 0:
        raise invalid(field, "must not be negative")
    return value


def _query(where: LeafFilter) -> list[str | None]:
    """What a page token is bound to: the same filter must come back with it."""
    return [
        where.kind.value if where.kind else None,
        where.start.isoformat() if where.start else None,
        where.end.isoformat() if where.end else None,
        *(f"{k}={v}" for k, v in where.payload),
    ]


def _after(token: str, where: LeafFilter) -> int | None:
    return decode_index_token(token, _query(where))


def _leaf_filter(request: pb.ListLeavesRequest) -> LeafFilter:
    kind = None
    if request.kind != pb.LEAF_KIND_UNSPECIFIED:
        kind = from_proto_enum(pb.LeafKind, "LEAF_KIND", request.kind, LeafKind, "kind")
    start = from_timestamp(request.start_time, "start_time", required=False)
    end = from_timestamp(request.end_time, "end_time", required=False)
    if start is not None and end is not None and end <= start:
        raise invalid("end_time", "must be after start_time")
    payload = tuple(sorted(request.payload_equals.items()))
    if len(payload) > 4:
        raise invalid("payload_equals", "at most 4 fields")
    for key, value in payload:
        if not _PAYLOAD_FIELD.fullmatch(key):
            raise invalid("payload_equals", "field names are 1-32 of a-z and _")
        if not value or len(value) > 200:
            raise invalid("payload_equals", "values are 1-200 characters")
        if _CONTROL.search(value):
            raise invalid("payload_equals", "values hold no control characters")
    return LeafFilter(kind=kind, start=start, end=end, payload=payload)


class EvidenceLogServicer(pb_grpc.EvidenceLogServiceServicer):
    """Thin: proto in, ``EvidenceLog`` call, proto out; errors are domain errors the server interceptor maps."""

    def __init__(self, log: EvidenceLog, authorize: Authorize | None = None) -> None:
        self.log = log
        self.authorize = authorize

    def _allow(self, method: str, context: grpc.ServicerContext) -> None:
        if self.authorize is not None:
            self.authorize(method, context)

    def GetSignedTreeHead(
        self, request: pb.GetSignedTreeHeadRequest, context: grpc.ServicerContext
    ) -> pb.GetSignedTreeHeadResponse:
        self._allow("GetSignedTreeHead", context)
        head = self.log.signed_tree_head(fresh=request.fresh)
        return pb.GetSignedTreeHeadResponse(tree_head=head_to_proto(head))

    def GetInclusionProof(
        self, request: pb.GetInclusionProofRequest, context: grpc.ServicerContext
    ) -> pb.GetInclusionProofResponse:
        self._allow("GetInclusionProof", context)
        return inclusion_response(self.inclusion(request))

    def inclusion(self, request: pb.GetInclusionProofRequest) -> InclusionResult:
        """The proof a request asks for, its sizes checked."""
        index = _not_negative("leaf_index", request.leaf_index)
        return self.log.inclusion(index, _not_negative("tree_size", request.tree_size))

    def GetConsistencyProof(
        self, request: pb.GetConsistencyProofRequest, context: grpc.ServicerContext
    ) -> pb.GetConsistencyProofResponse:
        self._allow("GetConsistencyProof", context)
        first = _not_negative("from_tree_size", request.from_tree_size)
        doc = self.log.consistency(first, _not_negative("to_tree_size", request.to_tree_size))
        return pb.GetConsistencyProofResponse(
            from_tree_size=doc.from_tree_size,
            to_tree_size=doc.to_tree_size,
            proof=list(doc.proof),
            proof_json=doc.to_json(),
        )

    def ListLeaves(self, request: pb.ListLeavesRequest, context: grpc.ServicerContext) -> pb.ListLeavesResponse:
        self._allow("ListLeaves", context)
        size = page_size(request.page_size)
        where = _leaf_filter(request)
        leaves = self.log.list_leaves(where, _after(request.page_token, where), size + 1)
        page: list[pb.Leaf] = []
        budget = PAGE_BYTES
        for leaf in leaves[:size]:
            message = leaf_to_proto(leaf)
            budget -= message.ByteSize()
            if page and budget < 0:  # a page a client's default 4 MiB limit takes: the rest on the next page
                break
            page.append(message)
        more = len(page) < len(leaves)
        token = encode_token(str(page[-1].index), _query(where)) if more else ""
        return pb.ListLeavesResponse(leaves=page, next_page_token=token)

    def ListPublicKeys(
        self, request: pb.ListPublicKeysRequest, context: grpc.ServicerContext
    ) -> pb.ListPublicKeysResponse:
        self._allow("ListPublicKeys", context)
        return pb.ListPublicKeysResponse(public_keys=[_key_to_proto(k) for k in self.log.public_keys()])


def register_evidence_log_service(
    server: grpc.Server, log: EvidenceLog, authorize: Authorize | None = None
) -> Sequence[str]:
    """Add the servicer to ``server``; returns the service name for health and reflection (``ServerSpec.register``)."""
    pb_grpc.add_EvidenceLogServiceServicer_to_server(EvidenceLogServicer(log, authorize), server)
    return [SERVICE_NAME]
