"""The self-query's history with fakes: paged by leaf index, each page signed, bounded reads, exports listed."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from stdnum.cn.uscc import calc_check_digit

from services.gateway import usecases
from services.gateway.domain.selfquery import EnterpriseKey, SignedSelfQuery, canonical_lines
from services.gateway.usecases import Gateway, SelfReport
from services.kit import paging
from services.kit.errors import DomainError, InvalidArgument
from tests.unit.gateway.test_usecases import E, gw  # noqa: F401  (the fixture)

KEY = Ed25519PrivateKey.generate()
OTHER = "enterprises/91610100MA6TG5678" + calc_check_digit("91610100MA6TG5678")


@pytest.fixture
def node(gw: Gateway) -> Gateway:  # noqa: F811
    public = KEY.public_key().public_bytes_raw()
    gw.registry.enterprise_keys = lambda uscc: [EnterpriseKey("k1", public, True)]  # type: ignore[attr-defined]
    return gw


def _signed(node: Gateway, page_size: int = 0, page_token: str = "", enterprise: str = E) -> SignedSelfQuery:
    at = node.clock().replace(microsecond=0)
    items = ("REG_BASIC",)  # the fake registry holds a record of each item asked for
    unsigned = SignedSelfQuery(enterprise, items, "k1", secrets.token_hex(10), at, b"", page_size, page_token)
    return SignedSelfQuery(
        enterprise, items, "k1", unsigned.nonce, at, KEY.sign(canonical_lines(unsigned)), page_size, page_token
    )


def _release(node: Gateway, enterprise: str = E, **extra: Any) -> int:
    payload = {"type": "credit_report", "decision": "ALLOW", "enterprise": enterprise, "released": ["REG_BASIC"]}
    return node.disclosure_log.record({**payload, **extra})


def _leaves(page: SelfReport) -> list[int]:
    return [index for index, _, _ in page.disclosures]


def test_paging_walks_the_whole_history_once_in_order_while_releases_land_between_pages(node: Gateway) -> None:
    listed = [_release(node)]
    _release(node, OTHER)  # another enterprise's
    node.disclosure_log.record({"type": "credit_report", "decision": "DENY", "enterprise": E, "released": []})
    listed.append(_release(node, part=1, parts=2))
    _release(node, part=2, parts=2)  # the same release's second leaf: listed once
    listed.append(_release(node))
    package = {"type": "evidence_package", "enterprise": E, "requester": "institutions/arb", "payload_sha256": "ab"}
    listed.append(node.disclosure_log.record({**package, "decision": "ALLOW"}))
    node.disclosure_log.record({**package, "decision": "DENY"})  # a refused export released nothing

    seen: list[int] = []
    pages: list[SelfReport] = []
    token = ""
    while True:
        page = node.self_query(_signed(node, 2, token), "platforms/xian")
        pages.append(page)
        seen += _leaves(page)
        if len(pages) == 1:  # new releases land between the pages of a walk
            listed += [_release(node), _release(node)]
        token = page.next_page_token
        if not token:
            break
    listed.append(_release(node))  # after the walk's last page: a later walk's
    assert seen == listed[:-1]
    assert all(len(_leaves(p)) <= 2 for p in pages)
    # Records go with the first page only, read once.
    assert [bool(p.records) for p in pages] == [True] + [False] * (len(pages) - 1)
    assert len(node.registry.reads) == 1  # type: ignore[attr-defined]
    # Each page is a self-query of its own in the log, with its own receipt.
    logged = [i for i, p in enumerate(node.disclosure_log.leaves) if p["type"] == "self_query"]  # type: ignore[attr-defined]
    assert [p.leaf_index for p in pages] == logged
    assert "history_after" not in node.disclosure_log.leaves[logged[0]]  # type: ignore[attr-defined]
    assert node.disclosure_log.leaves[logged[1]]["history_after"] == seen[1]  # type: ignore[attr-defined]


def test_a_token_of_another_enterprise_or_a_damaged_one_is_refused_and_recorded(node: Gateway) -> None:
    _release(node)
    _release(node, OTHER)
    foreign = paging.encode_token("0", ["self-query-history", OTHER])
    for token in (foreign, "bm90IGEgdG9rZW4=", "a token", "x\nnonce=n"):
        with pytest.raises(InvalidArgument) as err:
            node.self_query(_signed(node, 10, token), "platforms/xian")
        assert (err.value.reason, err.value.metadata["field"]) == ("ERROR_REASON_INVALID_PAGE_TOKEN", "page_token")
        assert node.disclosure_log.leaves[-1]["decision"] == "DENY"  # type: ignore[attr-defined]
    own = node.self_query(_signed(node, 10, paging.encode_token("0", ["self-query-history", E])), "platforms/xian")
    assert _leaves(own) == []  # continues after leaf 0: nothing of OTHER's


def test_the_token_is_signed_so_a_relaying_platform_cannot_swap_it(node: Gateway) -> None:
    first, second, third = _release(node), _release(node), _release(node)
    page = node.self_query(_signed(node, 1), "platforms/xian")
    assert _leaves(page) == [first]
    signed = _signed(node, 1, page.next_page_token)
    # The enterprise signed "one more after leaf 0": another position, no token, or another size does not verify.
    elsewhere = paging.encode_token(str(second), ["self-query-history", E])
    for size, token in ((1, elsewhere), (1, ""), (0, ""), (1000, signed.page_token)):
        swapped = SignedSelfQuery(
            E, ("REG_BASIC",), "k1", signed.nonce, signed.signed_at, signed.signature, size, token
        )
        with pytest.raises(DomainError) as err:
            node.self_query(swapped, "platforms/xian")
        assert err.value.reason == "ERROR_REASON_SIGNATURE_INVALID"
    assert _leaves(node.self_query(signed, "platforms/xian")) == [second]
    assert third > second


def test_page_size_defaults_to_100_is_capped_at_1000_and_never_negative(node: Gateway) -> None:
    for _ in range(1001):
        _release(node)
    assert len(node.self_query(_signed(node), "platforms/xian").disclosures) == 100
    big = node.self_query(_signed(node, 5000), "platforms/xian")
    assert len(big.disclosures) == 1000
    assert big.next_page_token
    with pytest.raises(InvalidArgument) as err:
        node.self_query(_signed(node, -1), "platforms/xian")
    assert err.value.metadata["field"] == "page_size"


def test_a_page_reads_a_bounded_stretch_of_the_log_and_may_come_back_short(
    node: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(usecases, "HISTORY_SCAN_PER_PAGE", 300)
    first = _release(node)
    for _ in range(700):  # the enterprise's own self-queries and refusals are about it too, and never listed
        node.disclosure_log.record({"type": "self_query", "decision": "DENY", "enterprise": E})
    last = _release(node)
    node.disclosure_log.reads.clear()  # type: ignore[attr-defined]
    seen, token, pages = [], "", 0
    while True:
        page = node.self_query(_signed(node, 50, token), "platforms/xian")
        seen += _leaves(page)
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert seen == [first, last]
    assert pages >= 3  # short (empty) pages with a token rather than one unbounded read
    reads = node.disclosure_log.reads  # type: ignore[attr-defined]
    assert max(reads) <= 300
    assert sum(reads) <= 300 * pages
