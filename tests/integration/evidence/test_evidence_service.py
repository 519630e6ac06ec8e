"""EvidenceLogService on a real server and port, over the log in a real database: what a supervisor sees."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from creditnode.evidence.v1 import evidence_log_service_pb2 as pb
from creditnode.evidence.v1 import evidence_log_service_pb2_grpc as pb_grpc
from services.kit.errors import PermissionDenied
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.heads import NodeKey
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.receipts import verify_consistency
from services.kit.evidence.servicer import SERVICE_NAME, head_from_proto, register_evidence_log_service
from services.kit.evidence.verify import run
from services.kit.server import RunningServer, ServerSpec
from services.kit.status import error_info
from tests.integration.evidence.conftest import EvidenceDb, StepClock

ORIGIN = "creditnode/gateway"


def _deny_leaves_to_non_supervisors(method: str, context: grpc.ServicerContext) -> None:
    roles = dict(context.invocation_metadata()).get("x-role")
    if method == "ListLeaves" and roles != "supervisor":
        raise PermissionDenied("ERROR_REASON_PERMISSION_DENIED", "only supervisors list leaves")


class Node:
    """A server with the evidence service registered, as a service's composition root would do it."""

    def __init__(self, evidence_db: EvidenceDb) -> None:
        self.key = NodeKey.generate()
        self.clock = StepClock()
        self.log = EvidenceLog(
            evidence_db.engine, evidence_db.models, origin=ORIGIN, key=self.key, publish_interval=0, clock=self.clock
        ).start()
        spec = ServerSpec(
            name="evidence-test",
            listen_addr="127.0.0.1:0",
            register=lambda server: register_evidence_log_service(server, self.log, _deny_leaves_to_non_supervisors),
            readiness=[self.log.healthy],
            on_stop=[self.log.close],
        )
        self.server = RunningServer(spec)
        self.channel = grpc.insecure_channel(self.server.address)
        self.stub = pb_grpc.EvidenceLogServiceStub(self.channel)

    def close(self) -> None:
        self.channel.close()
        self.server.stop(1)


@pytest.fixture
def node(evidence_db: EvidenceDb) -> Iterator[Node]:
    n = Node(evidence_db)
    yield n
    n.close()


SUPERVISOR = (("x-role", "supervisor"),)


def _fail(call: object, request: object, **kw: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        call(request, timeout=10, **kw)  # type: ignore[operator]
    info = error_info(err.value)
    assert info is not None
    return err.value.code(), info.reason


def _fill(node: Node, n: int) -> None:
    for i in range(n):
        kind = LeafKind.DISCLOSURE if i % 3 else LeafKind.CONSENT_EVENT
        node.log.append(kind, {"request": f"req-{i}", "requester": "platforms/xian"})
        node.clock.advance(10)


def test_the_service_is_registered_with_health_and_reflection(node: Node) -> None:
    assert SERVICE_NAME == "creditnode.evidence.v1.EvidenceLogService"
    assert SERVICE_NAME in node.server.service_names


def test_inclusion_receipts_from_the_wire_verify_with_the_offline_command(node: Node, tmp_path: Path) -> None:
    _fill(node, 11)
    got = node.stub.GetInclusionProof(pb.GetInclusionProofRequest(leaf_index=4), timeout=10)
    assert got.leaf.index == 4
    assert got.leaf.kind == pb.LEAF_KIND_DISCLOSURE
    assert json.loads(got.leaf.payload_json) == {"request": "req-4", "requester": "platforms/xian"}
    assert got.tree_size == got.tree_head.tree_size == 11
    assert got.tree_head.key_id == node.key.key_id
    receipt = tmp_path / "receipt.json"
    receipt.write_text(got.receipt_json)
    key = tmp_path / "node.pub"
    key.write_text(node.key.public_pem())
    assert run(["receipt", str(receipt), "--public-key", str(key), "--origin", ORIGIN])[0] == 0
    at_size = node.stub.GetInclusionProof(pb.GetInclusionProofRequest(leaf_index=4, tree_size=7), timeout=10)
    assert at_size.tree_size == 7
    assert len(at_size.proof) == 3
    assert not at_size.HasField("tree_head")  # no head of size 7 was signed
    assert at_size.receipt_json == ""


def test_consistency_between_heads_fetched_over_the_wire(node: Node) -> None:
    _fill(node, 5)
    old = node.stub.GetSignedTreeHead(pb.GetSignedTreeHeadRequest(fresh=True), timeout=10).tree_head
    _fill(node, 9)
    stale = node.stub.GetSignedTreeHead(pb.GetSignedTreeHeadRequest(), timeout=10).tree_head
    assert stale.tree_size == 5  # without fresh, the latest signed head
    new = node.stub.GetSignedTreeHead(pb.GetSignedTreeHeadRequest(fresh=True), timeout=10).tree_head
    assert new.tree_size == 14
    got = node.stub.GetConsistencyProof(pb.GetConsistencyProofRequest(from_tree_size=5), timeout=10)
    assert (got.from_tree_size, got.to_tree_size) == (5, 14)
    keys = {node.key.key_id: node.key.public_bytes}
    verify_consistency(head_from_proto(old).to_obj(), head_from_proto(new).to_obj(), json.loads(got.proof_json), keys)
    assert [base64.b64encode(p).decode() for p in got.proof] == json.loads(got.proof_json)["proof"]
    keys_listed = node.stub.ListPublicKeys(pb.ListPublicKeysRequest(), timeout=10).public_keys
    assert [(k.key_id, k.public_key) for k in keys_listed] == [(node.key.key_id, node.key.public_bytes)]
    assert not keys_listed[0].HasField("retire_time")


def test_a_page_of_large_leaves_fits_a_default_client_whatever_page_size_asks(node: Node) -> None:
    # A leaf carries its payload twice: a thousand large ones are far beyond gRPC's default 4 MiB receive limit.
    for i in range(300):
        notes = {f"note_{c}": c * 2_000 for c in "abcdefg"}  # ~14 KB, near a payload's 16 KiB
        node.log.append(LeafKind.DISCLOSURE, {"request": f"req-{i}", **notes})
    seen: list[int] = []
    token = ""
    while True:
        page = node.stub.ListLeaves(
            pb.ListLeavesRequest(page_size=1000, page_token=token), timeout=30, metadata=SUPERVISOR
        )
        assert page.leaves, "a page made no progress"
        seen += [leaf.index for leaf in page.leaves]
        token = page.next_page_token
        if not token:
            break
    assert seen == list(range(300))


def test_supervisors_page_through_leaves_by_kind_and_time(node: Node) -> None:
    _fill(node, 12)
    seen: list[int] = []
    token = ""
    while True:
        page = node.stub.ListLeaves(
            pb.ListLeavesRequest(page_size=2, page_token=token, kind=pb.LEAF_KIND_DISCLOSURE),
            timeout=10,
            metadata=SUPERVISOR,
        )
        seen += [leaf.index for leaf in page.leaves]
        assert all(leaf.kind == pb.LEAF_KIND_DISCLOSURE for leaf in page.leaves)
        token = page.next_page_token
        if not token:
            break
    assert seen == [1, 2, 4, 5, 7, 8, 10, 11]
    start, end = Timestamp(), Timestamp()
    first = node.log.store.leaf(0).created_at
    start.FromDatetime(first + timedelta(seconds=30))
    end.FromDatetime(first + timedelta(seconds=60))
    window = node.stub.ListLeaves(pb.ListLeavesRequest(start_time=start, end_time=end), timeout=10, metadata=SUPERVISOR)
    assert [leaf.index for leaf in window.leaves] == [3, 4, 5]
    entry = json.loads(window.leaves[0].entry_json)
    assert entry["kind"] == "CONSENT_EVENT"
    first_page = node.stub.ListLeaves(pb.ListLeavesRequest(page_size=1), timeout=10, metadata=SUPERVISOR)
    other_query = pb.ListLeavesRequest(page_size=1, page_token=first_page.next_page_token, kind=pb.LEAF_KIND_DISCLOSURE)
    for bad in (other_query, pb.ListLeavesRequest(page_token="not-a-token")):
        assert _fail(node.stub.ListLeaves, bad, metadata=SUPERVISOR) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "ERROR_REASON_INVALID_PAGE_TOKEN",
        )


def test_supervisors_filter_leaves_by_payload_fields_across_pages(node: Node) -> None:
    for i in range(9):
        requester = "institutions/boc_x%" if i % 3 == 0 else "institutions/bocxx"
        node.log.append(LeafKind.DISCLOSURE, {"requester": requester, "enterprise": f"e{i % 2}"})
    # A nested object with the same field must not match: only top-level payload fields count.
    node.log.append(LeafKind.OBJECTION_STEP, {"target": {"requester": "institutions/boc_x%"}, "enterprise": "e0"})
    seen: list[int] = []
    token = ""
    query = {"requester": "institutions/boc_x%", "enterprise": "e0"}
    while True:
        page = node.stub.ListLeaves(
            pb.ListLeavesRequest(page_size=1, page_token=token, payload_equals=query), timeout=10, metadata=SUPERVISOR
        )
        seen += [leaf.index for leaf in page.leaves]
        token = page.next_page_token
        if not token:
            break
    # "_" and "%" are literal characters, not LIKE wildcards: "bocxx" never matches "boc_x%".
    assert seen == [0, 6]
    for bad, field in (({"Bad-Field": "x"}, "payload_equals"), ({"a": "", "b": "x"}, "payload_equals")):
        request = pb.ListLeavesRequest(payload_equals=bad)
        assert _fail(node.stub.ListLeaves, request, metadata=SUPERVISOR) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "ERROR_REASON_INVALID_FIELD",
        ), field


def test_errors_carry_evidence_reasons(node: Node) -> None:
    _fill(node, 4)
    stub = node.stub
    assert _fail(stub.GetInclusionProof, pb.GetInclusionProofRequest(leaf_index=4)) == (
        grpc.StatusCode.NOT_FOUND,
        "ERROR_REASON_EVIDENCE_LEAF_NOT_FOUND",
    )
    assert _fail(stub.GetInclusionProof, pb.GetInclusionProofRequest(leaf_index=1, tree_size=9)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_EVIDENCE_TREE_SIZE_OUT_OF_RANGE",
    )
    assert _fail(stub.GetConsistencyProof, pb.GetConsistencyProofRequest(from_tree_size=3, to_tree_size=2)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_EVIDENCE_TREE_SIZE_OUT_OF_RANGE",
    )
    assert _fail(stub.GetInclusionProof, pb.GetInclusionProofRequest(leaf_index=-1)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_FIELD",
    )
    start, end = Timestamp(seconds=2_000_000_000), Timestamp(seconds=1_000_000_000)
    assert _fail(stub.ListLeaves, pb.ListLeavesRequest(start_time=start, end_time=end), metadata=SUPERVISOR) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_FIELD",
    )
    assert _fail(stub.ListLeaves, pb.ListLeavesRequest()) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "ERROR_REASON_PERMISSION_DENIED",
    )


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (pb.ListLeavesRequest(kind=999), "kind"),  # proto3 keeps a number the enum does not define
        (pb.ListLeavesRequest(start_time=Timestamp(seconds=2**62)), "start_time"),
        (pb.ListLeavesRequest(end_time=Timestamp(seconds=-(2**62))), "end_time"),
        (pb.ListLeavesRequest(start_time=Timestamp(seconds=1, nanos=-5)), "start_time"),
        (pb.ListLeavesRequest(end_time=Timestamp(seconds=1, nanos=2_000_000_000)), "end_time"),
    ],
)
def test_a_leaf_filter_the_proto_rules_out_is_invalid_naming_its_field(
    node: Node, request_: pb.ListLeavesRequest, field: str
) -> None:
    with pytest.raises(grpc.RpcError) as err:
        node.stub.ListLeaves(request_, timeout=10, metadata=SUPERVISOR)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    info = error_info(err.value)
    assert info is not None
    assert (info.reason, info.metadata["field"]) == ("ERROR_REASON_INVALID_FIELD", field)


@pytest.mark.parametrize(
    "payload",
    [
        {"enterprise": "e\x00"},  # the indexed subject column: PostgreSQL refuses a NUL in a bound parameter
        {"requester": "institutions/boc\x00"},
        {"enterprise": "e\x1b[2J"},
    ],
)
def test_a_payload_value_with_control_characters_is_invalid_not_a_database_failure(
    node: Node, payload: dict[str, str]
) -> None:
    _fill(node, 2)
    request = pb.ListLeavesRequest(payload_equals=payload)
    assert _fail(node.stub.ListLeaves, request, metadata=SUPERVISOR) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_FIELD",
    )
