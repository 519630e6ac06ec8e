"""The disclosure log on the platforms' door (mTLS): a platform proves its own receipts there, and nothing else.

Every leaf names an enterprise, the institution or platform that received its data, the purpose, the items, the
authorization and each released record's SHA-256: an inclusion proof carries the whole leaf, so it is given only to
the platform that connected for it or was served by it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from creditnode.evidence.v1 import evidence_log_service_pb2 as epb
from creditnode.evidence.v1 import evidence_log_service_pb2_grpc as epb_grpc
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from services.kit.evidence.receipts import verify_receipt
from services.kit.status import error_info
from tests.e2e.gateway.test_gateway_e2e import _self_query, refused, report, until
from tests.gateway_support import Node, running_node
from tests.registry_helpers import change


@pytest.fixture
def node(tmp_path: Path, database_url: str) -> Iterator[Node]:
    with running_node(tmp_path, database_url, full=False) as n:
        yield n


def _proof(node: Node, caller: str, leaf: int) -> epb.GetInclusionProofResponse:
    stub = epb_grpc.EvidenceLogServiceStub(node.callers[caller].channel)
    response: epb.GetInclusionProofResponse = stub.GetInclusionProof(
        epb.GetInclusionProofRequest(leaf_index=leaf), timeout=10
    )
    return response


def _refusal(node: Node, caller: str, leaf: int) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        _proof(node, caller, leaf)
    info = error_info(err.value)
    return err.value.code(), info.reason if info else ""


def test_a_platform_gets_inclusion_proofs_of_its_own_leaves_only(node: Node) -> None:
    mine = report(node, "xian", items=["REG_BASIC"]).receipt.leaf_index
    proxied = report(node, "qinxinrong", on_behalf_of="platforms/county", items=["REG_BASIC"]).receipt.leaf_index

    own = _proof(node, "xian", mine)
    assert json.loads(own.leaf.payload_json)["requester"] == "platforms/xian"
    assert json.loads(own.receipt_json)["leaf_index"] == mine
    # 秦信融 connected for county's release: it holds that receipt.
    assert json.loads(_proof(node, "qinxinrong", proxied).leaf.payload_json)["platform"] == "platforms/county"

    # Another platform learns nothing of who asked about which enterprise, under which authorization.
    for caller, leaf in (("baoji", mine), ("baoji", proxied), ("xian", proxied), ("qinxinrong", mine)):
        code, _ = _refusal(node, caller, leaf)
        assert code == grpc.StatusCode.PERMISSION_DENIED, (caller, leaf)

    # A suspended platform is refused before anything is read, its own receipts included.
    node.registry.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name="platforms/xian", change=change()))

    def refused_now() -> bool:
        try:
            _proof(node, "xian", mine)
            return False
        except grpc.RpcError as exc:
            return exc.code() in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED)

    until(refused_now, "suspended platform refused its proofs")
    # (Suspension may also revoke its certificate: refused at authentication then.)
    assert _refusal(node, "xian", mine) in (
        (grpc.StatusCode.PERMISSION_DENIED, "ERROR_REASON_PLATFORM_NOT_ADMITTED"),
        (grpc.StatusCode.UNAUTHENTICATED, "ERROR_REASON_CERTIFICATE_REVOKED"),
    )


def test_listing_the_disclosure_log_stays_refused_on_the_door(node: Node) -> None:
    stub = epb_grpc.EvidenceLogServiceStub(node.callers["xian"].channel)
    with pytest.raises(grpc.RpcError) as err:
        stub.ListLeaves(epb.ListLeavesRequest(page_size=10), timeout=10)
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    # The log's head and keys (no leaf content) stay open to admitted platforms, to check receipts offline.
    assert stub.GetSignedTreeHead(epb.GetSignedTreeHeadRequest(), timeout=10).tree_head.origin
    assert stub.ListPublicKeys(epb.ListPublicKeysRequest(), timeout=10).public_keys


def test_the_platform_relaying_a_signed_self_query_proves_each_release_its_history_lists(node: Node) -> None:
    earlier = report(node, "xian", items=["REG_BASIC"]).receipt.leaf_index
    baoji = node.callers["baoji"].stub
    assert _refusal(node, "baoji", earlier)[0] == grpc.StatusCode.PERMISSION_DENIED
    # A self-query the enterprise did not sign is recorded as a self-query too, refused: it shows no history.
    forged = _self_query(node)
    forged.item_codes.append("REG_BASIC")
    assert refused(lambda: baoji.SelfQuery(forged, timeout=10))[1] == "ERROR_REASON_SIGNATURE_INVALID"
    assert _refusal(node, "baoji", earlier)[0] == grpc.StatusCode.PERMISSION_DENIED

    history = {d.leaf_index: d for d in baoji.SelfQuery(_self_query(node), timeout=10).disclosures}
    assert history[earlier].requester == "platforms/xian"
    # The enterprise checks that entry through the platform that relayed its self-query: the leaf is the one listed,
    # and its receipt verifies against the gateway's key.
    proof = _proof(node, "baoji", earlier)
    leaf = json.loads(proof.leaf.payload_json)
    assert (leaf["requester"], leaf["payload_sha256"]) == ("platforms/xian", history[earlier].payload_sha256)
    keys = {
        k.key_id: k.public_key
        for k in epb_grpc.EvidenceLogServiceStub(node.callers["baoji"].channel)
        .ListPublicKeys(epb.ListPublicKeysRequest(), timeout=10)
        .public_keys
    }
    assert verify_receipt(json.loads(proof.receipt_json), keys).leaf_index == earlier

    # A release after that self-query was in no history baoji was given.
    later = report(node, "xian", items=["REG_BASIC"]).receipt.leaf_index
    assert _refusal(node, "baoji", later)[0] == grpc.StatusCode.PERMISSION_DENIED
