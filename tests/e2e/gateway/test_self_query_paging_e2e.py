"""The self-query's disclosure history, paged, through real services: every page signed by the enterprise, the walk
lists each release once in log order, tokens cannot be moved, and the relaying platform proves what it was shown."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import grpc
import pytest

from creditnode.evidence.v1 import evidence_log_service_pb2 as epb
from creditnode.evidence.v1 import evidence_log_service_pb2_grpc as epb_grpc
from creditnode.gateway.v1 import gateway_service_pb2 as gw
from services.gateway.client_lib import GatewayError, PlatformClient, SelfQuerySigner
from services.kit import paging
from services.kit.status import error_info
from tests.e2e.gateway.test_gateway_e2e import refused, report
from tests.gateway_support import Node, running_node


@pytest.fixture
def node(tmp_path: Path, database_url: str) -> Iterator[Node]:
    with running_node(tmp_path, database_url, full=False) as n:
        yield n


class _Releasing:
    """The enterprise's signer; ``between`` runs after each page was signed but one (releases landing mid-walk)."""

    def __init__(self, signer: SelfQuerySigner, between: Callable[[], None]) -> None:
        self.signer, self.between, self.signed = signer, between, 0

    def sign(self, item_codes: Sequence[str] = (), *, page_size: int = 0, page_token: str = "") -> gw.SelfQueryRequest:
        self.signed += 1
        if self.signed == 2:
            self.between()
        return self.signer.sign(item_codes, page_size=page_size, page_token=page_token)


def _signer(node: Node) -> SelfQuerySigner:
    e = node.enterprise
    return SelfQuerySigner(e.name, e.key_id, e.key)


def test_a_paged_self_query_lists_every_release_once_in_order_and_the_relay_proves_each(node: Node) -> None:
    baoji = PlatformClient(node.callers["baoji"].channel)
    _, before = baoji.self_query_history(_signer(node))
    mine = [report(node, "xian", items=["REG_BASIC"]).receipt.leaf_index for _ in range(5)]
    landed: list[int] = []

    def release_two() -> None:
        landed.extend(report(node, "xian", items=["REG_BASIC"]).receipt.leaf_index for _ in range(2))

    pages = list(baoji.self_query_pages(_Releasing(_signer(node), release_two), page_size=2))
    walked = [d.leaf_index for page in pages for d in page.disclosures]
    assert walked == [d.leaf_index for d in before] + mine + landed
    assert all(len(page.disclosures) <= 2 for page in pages)
    assert len(pages) >= 4
    assert [bool(page.records) for page in pages] == [True] + [False] * (len(pages) - 1)  # records once
    receipts = [page.receipt.leaf_index for page in pages]
    assert receipts == sorted(set(receipts))  # each page a self-query of its own, recorded
    # A release listed on a later page only (recorded after the first page's self-query) is proven to the relay.
    stub = epb_grpc.EvidenceLogServiceStub(node.callers["baoji"].channel)
    proof = stub.GetInclusionProof(epb.GetInclusionProofRequest(leaf_index=landed[-1]), timeout=10)
    assert json.loads(proof.leaf.payload_json)["requester"] == "platforms/xian"
    assert landed[-1] > receipts[0]


def test_page_tokens_and_sizes_are_checked_and_a_token_cannot_be_moved(node: Node) -> None:
    for _ in range(3):
        report(node, "xian", items=["REG_BASIC"])
    stub = node.callers["baoji"].stub
    signer = _signer(node)
    first = stub.SelfQuery(signer.sign(page_size=1), timeout=10)
    assert len(first.disclosures) == 1
    assert first.next_page_token
    # The relay swaps the token the enterprise signed for another position: the signature no longer verifies.
    moved = signer.sign(page_size=1, page_token=first.next_page_token)
    moved.page_token = paging.encode_token(str(first.disclosures[0].leaf_index + 100), ["self-query-history", "x"])
    assert refused(lambda: stub.SelfQuery(moved, timeout=10)) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "ERROR_REASON_SIGNATURE_INVALID",
    )
    # Another enterprise's token (or a damaged one), even signed by this enterprise, continues nothing.
    foreign = paging.encode_token("0", ["self-query-history", "enterprises/91610100MA6TG5678X"])
    for token in (foreign, "bm90IGEgdG9rZW4="):
        with pytest.raises(grpc.RpcError) as err:
            stub.SelfQuery(signer.sign(page_size=1, page_token=token), timeout=10)
        info = error_info(err.value)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert info is not None
        assert (info.reason, info.metadata["field"]) == (
            "ERROR_REASON_INVALID_PAGE_TOKEN",
            "page_token",
        )
    with pytest.raises(GatewayError) as negative:
        PlatformClient(node.callers["baoji"].channel).self_query(signer.sign(page_size=-1))
    assert (negative.value.code, negative.value.reason) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_FIELD",
    )
    # Above the maximum is taken as the maximum; the signed token continues where the first page stopped.
    rest = stub.SelfQuery(signer.sign(page_size=5000, page_token=first.next_page_token), timeout=10)
    assert rest.disclosures[0].leaf_index > first.disclosures[0].leaf_index
    assert not rest.next_page_token
    assert not rest.records
