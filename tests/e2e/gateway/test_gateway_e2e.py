"""The gateway with real registry, consent and gateway processes over mTLS: the permission matrix, masking, mTLS
refusals, suspension, a gateway cut off from consent, a disclosure log writer killed, two replicas and revocation,
self-query and quotas."""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from grpc_health.v1 import health_pb2

from creditnode.consent.v1 import consent_service_pb2 as cpb
from creditnode.gateway.v1 import gateway_service_pb2 as gw
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import sharing_list_pb2 as sl
from creditnode.scoring.v1 import scoring_service_pb2 as sc
from services.gateway.client_lib import GatewayError, PlatformClient, SelfQuerySigner
from services.kit.status import error_info
from services.kit.workdays import local_date
from tests.consent_support.signing import Enterprise, now_s, rfc3339, ts
from tests.gateway_support import (
    ID_NUMBER,
    PERSON,
    PHONE,
    Caller,
    Node,
    denial_leaf,
    leaf_payloads,
    other_ca,
    report_code,
    running_node,
    signed_objection,
)
from tests.registry_helpers import change, csr_pem

ALL = ["REG_BASIC", "TAX_PAYMENT", "TAX_INVOICE", "TAX_FINANCIAL_STATEMENT"]
NON_PUBLIC = {"TAX_PAYMENT", "TAX_INVOICE", "TAX_FINANCIAL_STATEMENT"}


@pytest.fixture
def node(tmp_path: Path, database_url: str) -> Iterator[Node]:
    with running_node(tmp_path, database_url) as n:
        yield n


def report(node: Node, caller: str = "xian", **kw: object) -> gw.GetCreditReportResponse:
    req = gw.GetCreditReportRequest(
        enterprise=node.enterprise.name,
        purpose=str(kw.pop("purpose", "PRE_LOAN")),
        item_codes=list(kw.pop("items", ALL)),  # type: ignore[call-overload]
        request_id=secrets.token_hex(8),
        **kw,  # type: ignore[arg-type]
    )
    return node.callers[caller].stub.GetCreditReport(req, timeout=10)


def refused(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()
    info = error_info(err.value)
    return err.value.code(), info.reason if info else ""


def released(resp: gw.GetCreditReportResponse) -> set[str]:
    """Items released, after checking every field of every record for raw personal data."""
    raw = resp.SerializeToString()
    for secret in (ID_NUMBER, PHONE, PERSON):
        assert secret.encode() not in raw, "raw personal data left the node"
    for r in resp.records:
        if r.record.item_code == "REG_BASIC":  # the one seeded item with personal fields
            assert r.record.personal_data_masked
        assert r.record.openness not in (sl.OPENNESS_COMMERCIAL_SECRET,)
    assert resp.receipt.leaf_index >= 0
    allowed = {d.item_code for d in resp.items if d.decision == gw.DECISION_ALLOW}
    items = {r.record.item_code for r in resp.records}
    assert items <= allowed
    return items


def grant(node: Node, requester: str, caller: str = "xian", **kw: object) -> str:
    resp = node.callers[caller].stub.GrantAuthorization(
        gw.GrantAuthorizationRequest(grant=node.enterprise.grant(requester, **kw)),
        timeout=10,  # type: ignore[arg-type]
    )
    return resp.result.authorization.name


def until(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def serves(node: Node, requester: str, item: str, caller: str = "xian", **kw: object) -> bool:
    try:
        return item in released(report(node, caller, items=[item], **kw))
    except grpc.RpcError:
        return False


def test_a_refusal_carries_the_receipt_of_its_denial_leaf(node: Node, database_url: str) -> None:
    with pytest.raises(grpc.RpcError) as err:
        node.callers["xian"].stub.GetCreditReport(
            gw.GetCreditReportRequest(enterprise=node.enterprise.name, purpose="pre loan"), timeout=10
        )
    info = error_info(err.value)
    assert info is not None
    assert (err.value.code(), info.reason) == (grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD")
    payload = denial_leaf(database_url, err.value)
    assert (payload["decision"], payload["reason"], payload["caller"]) == (
        "DENY",
        "ERROR_REASON_INVALID_FIELD",
        "platforms/xian",
    )


def test_requests_malformed_before_their_use_case_starts_are_recorded_denials_too(
    node: Node, database_url: str
) -> None:
    from creditnode.objection.v1 import objection_service_pb2 as ob

    stub = node.callers["xian"].stub
    unsigned = _self_query(node)
    unsigned.signature.ClearField("signed_at")
    with pytest.raises(grpc.RpcError) as err:
        stub.SelfQuery(unsigned, timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    payload = denial_leaf(database_url, err.value)
    assert (payload["type"], payload["decision"], payload["reason"], payload["caller"]) == (
        "self_query",
        "DENY",
        "ERROR_REASON_INVALID_FIELD",
        "platforms/xian",
    )
    objection = ob.FileObjectionRequest(
        filer_kind=ob.FILER_KIND_INSTITUTION,
        filer="banks/boc-xian",
        enterprise=node.enterprise.name.removeprefix("enterprises/"),
        evaluation=f"{node.enterprise.name}/evaluations/1",
        reasons="never borrowed",
    )
    with pytest.raises(grpc.RpcError) as err:
        stub.FileObjection(gw.FileObjectionRequest(objection=objection), timeout=10)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    payload = denial_leaf(database_url, err.value)
    assert (payload["type"], payload["decision"], payload["reason"], payload["caller"]) == (
        "FileObjection",
        "DENY",
        "ERROR_REASON_INVALID_FIELD",
        "platforms/xian",
    )


def test_requests_qinxinrong_relays_and_the_gateway_refuses_are_recorded_as_the_served_platforms(
    node: Node, database_url: str
) -> None:
    # 秦信融 relays for the county: a refusal of the county's request (malformed, or naming an institution not its own)
    # is the county's, 秦信融 still its caller; one for a platform 秦信融 does not proxy stays 秦信融's own.
    from creditnode.objection.v1 import objection_service_pb2 as ob

    stub = node.callers["qinxinrong"].stub
    county = "platforms/county"

    def leaf(call: Callable[[], object]) -> tuple[str, str, str, str]:
        with pytest.raises(grpc.RpcError) as err:
            call()
        p = denial_leaf(database_url, err.value)
        return p["reason"], p["caller"], p.get("platform", ""), p.get("on_behalf_of", "")

    unsigned = _self_query(node)
    unsigned.signature.ClearField("signed_at")
    unsigned.on_behalf_of = county
    assert leaf(lambda: stub.SelfQuery(unsigned, timeout=10)) == (
        "ERROR_REASON_INVALID_FIELD", "platforms/qinxinrong", county, ""
    )  # fmt: skip
    objection = gw.FileObjectionRequest(objection=ob.FileObjectionRequest(filer_kind=7), on_behalf_of=county)
    assert leaf(lambda: stub.FileObjection(objection, timeout=10)) == (
        "ERROR_REASON_INVALID_FIELD", "platforms/qinxinrong", county, ""
    )  # fmt: skip
    assert leaf(lambda: report(node, "qinxinrong", on_behalf_of=county, institution="institutions/boc-xian")) == (
        "ERROR_REASON_INSTITUTION_NO_ACCESS", "platforms/qinxinrong", "", county
    )  # fmt: skip
    unsigned.on_behalf_of = "platforms/xian"
    assert leaf(lambda: stub.SelfQuery(unsigned, timeout=10)) == (
        "ERROR_REASON_NOT_A_PROXY", "platforms/qinxinrong", "", ""
    )  # fmt: skip


def test_permission_matrix_platform_institution_and_proxy(node: Node) -> None:
    # No authorization: public only, masked; nothing non-public; the commercial secret never.
    resp = report(node)
    assert released(resp) == {"REG_BASIC"}
    assert resp.decision == gw.DECISION_DENY
    fields = resp.records[0].record.fields
    assert fields["legal_rep_id_number"].string_value.startswith("610103")
    assert "*" in fields["legal_rep_id_number"].string_value
    assert fields["contact_phone"].string_value == "139****5678"
    assert fields["legal_representative"].string_value == "欧阳**"
    by_item = {d.item_code: d for d in resp.items}
    assert by_item["TAX_FINANCIAL_STATEMENT"].withheld_reason == gw.WITHHELD_REASON_COMMERCIAL_SECRET
    assert by_item["TAX_PAYMENT"].withheld_reason == gw.WITHHELD_REASON_NOT_AUTHORIZED

    # Active authorization naming TAX_PAYMENT only: the opt-in item stays withheld.
    auth = grant(node, "platforms/xian", items=("TAX_PAYMENT",))
    until(lambda: serves(node, "platforms/xian", "TAX_PAYMENT"), "authorized release")
    resp = report(node)
    assert released(resp) == {"REG_BASIC", "TAX_PAYMENT"}  # the opt-in item and the secret stay withheld
    resp = report(node, items=["REG_BASIC", "TAX_PAYMENT"])
    assert released(resp) == {"REG_BASIC", "TAX_PAYMENT"}
    assert resp.authorization == auth

    # Out of scope: another purpose.
    assert released(report(node, purpose="IN_LOAN", items=["TAX_PAYMENT"])) == set()

    # Opt-in operating item only when named.
    grant(node, "platforms/xian", purpose="CREDIT_EVALUATION", items=("TAX_INVOICE", "TAX_PAYMENT"))
    until(lambda: serves(node, "platforms/xian", "TAX_INVOICE", purpose="CREDIT_EVALUATION"), "opt-in release")
    got = released(report(node, purpose="CREDIT_EVALUATION"))
    assert got == {"REG_BASIC", "TAX_PAYMENT", "TAX_INVOICE"}

    # Institution of xian, authorized: derived only, never a raw non-public row.
    grant(node, "institutions/boc-xian", items=("TAX_PAYMENT",))
    resp = report(node, institution="institutions/boc-xian", items=["REG_BASIC", "TAX_PAYMENT"])
    assert released(resp) == {"REG_BASIC"}
    assert {d.item_code: d.withheld_reason for d in resp.items}["TAX_PAYMENT"] == gw.WITHHELD_REASON_DERIVED_ONLY

    # Another platform's institution: refused before anything is read, whether or not the enterprise exists.
    code, reason = refused(lambda: report(node, "baoji", institution="institutions/boc-xian"))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "ERROR_REASON_INSTITUTION_NO_ACCESS")

    # Proxied platform through 秦信融: its own authorization counts; 秦信融 cannot act for a platform it does not proxy.
    grant(node, "platforms/county", caller="qinxinrong", items=("TAX_PAYMENT",))
    until(
        lambda: serves(node, "platforms/county", "TAX_PAYMENT", caller="qinxinrong", on_behalf_of="platforms/county"),
        "proxied release",
    )
    code, reason = refused(lambda: report(node, "qinxinrong", on_behalf_of="platforms/xian"))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "ERROR_REASON_NOT_A_PROXY")
    code, reason = refused(lambda: report(node, "xian", on_behalf_of="platforms/county"))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "ERROR_REASON_NOT_A_PROXY")

    # Paused, resumed, revoked (Revoke returns only once this gateway can no longer use it).
    e: Enterprise = node.enterprise
    stub = node.callers["xian"].stub
    stub.PauseAuthorization(gw.PauseAuthorizationRequest(pause=e.pause(auth)), timeout=10)
    assert released(report(node, items=["TAX_PAYMENT"])) == set()
    stub.ResumeAuthorization(gw.ResumeAuthorizationRequest(resume=e.resume(auth)), timeout=10)
    until(lambda: serves(node, "platforms/xian", "TAX_PAYMENT"), "release after resume")
    stub.RevokeAuthorization(gw.RevokeAuthorizationRequest(revoke=e.revoke(auth)), timeout=10)
    assert released(report(node, items=["TAX_PAYMENT"])) == set()


def test_use_limit_and_expiry(node: Node) -> None:
    grant(node, "platforms/baoji", caller="baoji", items=("TAX_PAYMENT",), kind=cpb.USE_LIMIT_KIND_ONE_TIME, max_uses=1)
    until(lambda: serves(node, "platforms/baoji", "TAX_PAYMENT", caller="baoji"), "one-time release")
    resp = report(node, "baoji", items=["TAX_PAYMENT"])
    assert released(resp) == set()
    assert resp.consent_reason == cpb.DECISION_REASON_USE_LIMIT_REACHED
    # Expired: granted for a window that ended already (if consent accepts such a grant at all).
    past = now_s() - timedelta(days=3)
    with contextlib.suppress(grpc.RpcError):
        grant(node, "platforms/xian", items=("TAX_PAYMENT",), valid_from=past, validity=timedelta(days=1))
    assert released(report(node, items=["TAX_PAYMENT"])) == set()


def test_mtls_refuses_no_cert_wrong_ca_wrong_san_ca_cert_unissued_and_revoked(node: Node) -> None:
    def attempt(cert: bytes | None, key: bytes | None) -> grpc.StatusCode:
        return report_code(node.connect("x", cert, key), node.enterprise.name)

    assert attempt(None, None) in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAUTHENTICATED)
    wrong_ca, wrong_key = other_ca()
    cert, key = node.pki.issue(uri="spiffe://creditnode/platforms/xian", issuer=wrong_ca, issuer_key=wrong_key)
    assert attempt(cert, key) in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNAUTHENTICATED)
    cert, key = node.pki.issue(uri="spiffe://elsewhere/platforms/xian")
    assert attempt(cert, key) == grpc.StatusCode.UNAUTHENTICATED
    cert, key = node.pki.issue()
    assert attempt(cert, key) == grpc.StatusCode.UNAUTHENTICATED
    assert attempt(node.pki.ca_pem, node.pki.ca_key_pem()) in (
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.UNAVAILABLE,
    )
    # Signed by the node's CA for an admitted platform, but not the certificate the registry issued to it.
    cert, key = node.pki.issue(uri="spiffe://creditnode/platforms/xian")
    assert attempt(cert, key) == grpc.StatusCode.UNAUTHENTICATED
    assert attempt(node.callers["xian"].cert, node.callers["xian"].key) == grpc.StatusCode.OK
    # Revoked: re-issuing baoji's certificate revokes the old one, on every replica by the time the call returns.
    old = node.callers["baoji"]
    assert released(report(node, "baoji", items=["REG_BASIC"])) == {"REG_BASIC"}
    csr, _ = csr_pem("baoji")
    node.registry.admin.IssuePlatformCertificate(
        admin_pb.IssuePlatformCertificateRequest(name="platforms/baoji", csr_pem=csr, change=change())
    )
    for _ in range(3):
        assert attempt(old.cert, old.key) == grpc.StatusCode.UNAUTHENTICATED


def test_suspended_platform_is_refused_and_readmitted_one_is_served_again(node: Node) -> None:
    assert released(report(node, "qinxinrong", on_behalf_of="platforms/county", items=["REG_BASIC"])) == {"REG_BASIC"}
    # Suspending 秦信融 cuts off the platforms it proxies too (effective access).
    node.registry.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name="platforms/qinxinrong", change=change()))

    def refused_now() -> bool:
        try:
            report(node, "qinxinrong", on_behalf_of="platforms/county", items=["REG_BASIC"])
            return False
        except grpc.RpcError as exc:
            return exc.code() in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED)

    until(refused_now, "suspended aggregator refused")
    for _ in range(5):
        assert refused_now()
    # A direct platform suspended: refused from then on.
    node.registry.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name="platforms/xian", change=change()))
    until(lambda: not serves(node, "platforms/xian", "REG_BASIC"), "suspended platform refused")
    code, _ = refused(lambda: report(node, items=["REG_BASIC"]))
    assert code in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED)


def _refused_by(node: Node, caller: Any, codes: tuple[grpc.StatusCode, ...]) -> bool:
    """Whether the caller's very next report request is refused with one of ``codes`` (never a release)."""
    try:
        caller.stub.GetCreditReport(
            gw.GetCreditReportRequest(enterprise=node.enterprise.name, purpose="PRE_LOAN", item_codes=["REG_BASIC"]),
            timeout=10,
        )
        return False
    except grpc.RpcError as exc:
        return exc.code() in codes


SUSPENDED = (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED)


def _until_both_replicas_serve_xian(node: Node, b: Caller) -> None:
    until(lambda: serves(node, "platforms/xian", "REG_BASIC"), "replica a serves xian")
    request = gw.GetCreditReportRequest(enterprise=node.enterprise.name, purpose="PRE_LOAN", item_codes=["REG_BASIC"])
    until(lambda: "REG_BASIC" in released(b.stub.GetCreditReport(request, timeout=10)), "replica b serves xian")


def test_once_suspend_platform_returns_neither_replica_admits_the_platform(node: Node, database_url: str) -> None:
    second = node.start_gateway("gw-b", database_url)
    xian = node.callers["xian"]
    b = node.connect("platforms/xian", xian.cert, xian.key, second.address)
    try:
        _until_both_replicas_serve_xian(node, b)
        node.registry.admin.SuspendPlatform(
            admin_pb.SuspendPlatformRequest(name="platforms/xian", change=change()), timeout=30
        )
        # No waiting: the suspension returned only once both replicas applied it.
        assert _refused_by(node, xian, SUSPENDED)
        assert _refused_by(node, b, SUSPENDED)
    finally:
        b.channel.close()


def test_a_paused_replica_holds_a_suspension_until_its_lease_lapsed_and_then_fails_closed(
    node: Node, database_url: str
) -> None:
    second = node.start_gateway("gw-b", database_url)
    xian = node.callers["xian"]
    b = node.connect("platforms/xian", xian.cert, xian.key, second.address)
    try:
        _until_both_replicas_serve_xian(node, b)
        os.kill(second.proc.pid, signal.SIGSTOP)  # replica b stops acknowledging (and deciding)
        try:
            # Returns: replica b is waited for only until its lease lapsed (3 s + 0.5 s by default).
            node.registry.admin.SuspendPlatform(
                admin_pb.SuspendPlatformRequest(name="platforms/xian", change=change()), timeout=30
            )
            assert _refused_by(node, xian, SUSPENDED)
        finally:
            os.kill(second.proc.pid, signal.SIGCONT)
        # Replica b wakes up with its lease lapsed: it fails closed (or has meanwhile applied the suspension).
        assert _refused_by(node, b, (grpc.StatusCode.UNAVAILABLE, *SUSPENDED))
    finally:
        b.channel.close()


def test_gateway_cut_off_from_consent_releases_nothing_non_public(node: Node) -> None:
    grant(node, "platforms/xian", items=("TAX_PAYMENT",), max_uses=10)
    until(lambda: serves(node, "platforms/xian", "TAX_PAYMENT"), "authorized release")
    consent = next(p for p in node.procs if p.name == "consent")
    consent.kill()

    def fails_closed() -> bool:
        try:
            return "TAX_PAYMENT" not in released(report(node, items=["REG_BASIC", "TAX_PAYMENT"]))
        except grpc.RpcError as exc:
            return exc.code() == grpc.StatusCode.UNAVAILABLE

    until(fails_closed, "fail closed without consent")
    for _ in range(5):
        assert fails_closed()
    code, reason = refused(lambda: report(node, items=["TAX_PAYMENT"]))
    assert (code, reason) == (grpc.StatusCode.UNAVAILABLE, "ERROR_REASON_DEPENDENCY_UNAVAILABLE")
    # Public data needs no authorization, so it still flows, and the replica stays ready: were readiness to follow
    # consent, a consent restart would take every gateway out of its Service, public data included.
    assert released(report(node, items=["REG_BASIC"])) == {"REG_BASIC"}
    watched_until = time.monotonic() + 3.0  # readiness is re-evaluated every second (kit/server.py)
    while time.monotonic() < watched_until:
        assert node.gateway.health() == health_pb2.HealthCheckResponse.SERVING
        time.sleep(0.2)


def _spawned_children(pid: int) -> set[int]:
    """Processes ``pid`` started with multiprocessing's spawn (not its resource tracker)."""
    out = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                # The parent pid is the second field after the command name (which may hold spaces).
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if parent == pid and b"spawn_main" in (entry / "cmdline").read_bytes():
                    out.add(int(entry.name))
    return out


def test_a_killed_disclosure_log_writer_is_replaced_and_nothing_leaves_unrecorded(
    node: Node, database_url: str
) -> None:
    grant(node, "platforms/xian", items=("TAX_PAYMENT",), max_uses=10)
    until(lambda: serves(node, "platforms/xian", "TAX_PAYMENT"), "authorized release")
    gateway_pid = node.gateway.proc.pid
    (writer,) = _spawned_children(gateway_pid)  # the disclosure log's writer process
    os.kill(writer, signal.SIGKILL)
    receipts: list[gw.DisclosureReceipt] = []
    refusals: set[tuple[grpc.StatusCode, str]] = set()
    deadline = time.monotonic() + 60
    while not receipts or not refusals:
        assert time.monotonic() < deadline, "the gateway never served again after its writer died"
        try:
            resp = report(node, items=["TAX_PAYMENT"])
        except grpc.RpcError as exc:
            info = error_info(exc)
            refusals.add((exc.code(), info.reason if info else ""))
            time.sleep(0.05)  # while the writer is down no use is spent; a refused release may have spent one
            continue
        assert released(resp) == {"TAX_PAYMENT"}
        receipts.append(resp.receipt)
    assert refusals == {(grpc.StatusCode.UNAVAILABLE, "ERROR_REASON_DEPENDENCY_UNAVAILABLE")}
    (replacement,) = _spawned_children(gateway_pid)
    assert replacement != writer
    # Every release answered after the kill has its leaf, recording exactly what was released.
    payloads = leaf_payloads(database_url, [r.leaf_index for r in receipts])
    for receipt, payload in zip(receipts, payloads, strict=True):
        assert (payload["payload_sha256"], payload["released"]) == (receipt.payload_sha256, ["TAX_PAYMENT"])


def test_two_replicas_release_nothing_after_revoke_returned(node: Node, database_url: str) -> None:
    second = node.start_gateway("gw-b", database_url)
    b = node.connect("platforms/xian", node.callers["xian"].cert, node.callers["xian"].key, second.address)
    try:
        auth = grant(node, "platforms/xian", items=("TAX_PAYMENT",), max_uses=10)

        def b_serves() -> bool:
            try:
                resp = b.stub.GetCreditReport(
                    gw.GetCreditReportRequest(
                        enterprise=node.enterprise.name, purpose="PRE_LOAN", item_codes=["TAX_PAYMENT"]
                    ),
                    timeout=10,
                )
                return "TAX_PAYMENT" in released(resp)
            except grpc.RpcError:
                return False

        until(lambda: serves(node, "platforms/xian", "TAX_PAYMENT") and b_serves(), "both replicas serve")
        node.callers["xian"].stub.RevokeAuthorization(
            gw.RevokeAuthorizationRequest(revoke=node.enterprise.revoke(auth)), timeout=30
        )
        for _ in range(5):
            assert not b_serves()
            assert not serves(node, "platforms/xian", "TAX_PAYMENT")
    finally:
        b.channel.close()


def _self_query(node: Node, items: tuple[str, ...] = (), **override: object) -> gw.SelfQueryRequest:
    e = node.enterprise
    nonce = str(override.pop("nonce", secrets.token_hex(16)))
    signed_at = now_s()
    lines = [
        "creditnode.gateway.v1.SelfQuery",
        f"enterprise={e.name}",
        f"item_codes={','.join(sorted(items))}",
        f"key_id={e.key_id}",
        f"nonce={nonce}",
        f"signed_at={rfc3339(signed_at)}",
    ]
    sig = gw.EnterpriseSignature(
        key_id=e.key_id, nonce=nonce, signed_at=ts(signed_at), signature=e.key.sign("\n".join(lines).encode())
    )
    return gw.SelfQueryRequest(enterprise=e.name, item_codes=list(items), signature=sig)


def test_self_query_returns_everything_unmasked_and_who_received_what(node: Node) -> None:
    auth = grant(node, "platforms/xian", items=("TAX_PAYMENT",))
    until(lambda: serves(node, "platforms/xian", "TAX_PAYMENT"), "authorized release")
    stub = node.callers["xian"].stub
    # Through the platform client library: a signed self-query and a typed credit report.
    xian = node.callers["xian"]
    client = PlatformClient.connect(node.gateway.address, node.pki.ca_pem, xian.cert, xian.key, server_name="localhost")
    try:
        e = node.enterprise
        resp = client.self_query(SelfQuerySigner(e.name, e.key_id, e.key).sign())
        typed = client.credit_report(e.name, "PRE_LOAN", items=["REG_BASIC", "TAX_FINANCIAL_STATEMENT"])
        assert [r.item_code for r in typed.released] == ["REG_BASIC"]
        assert typed.withheld == {"TAX_FINANCIAL_STATEMENT": "WITHHELD_REASON_COMMERCIAL_SECRET"}
        with pytest.raises(GatewayError) as err:
            client.credit_report(e.name, "PRE_LOAN", items=["REG_BASIC"], institution="institutions/nope")
        assert err.value.reason == "ERROR_REASON_INSTITUTION_NO_ACCESS"
    finally:
        client.close()
    items = {r.record.item_code for r in resp.records}
    assert items == set(ALL)
    raw = resp.SerializeToString()
    assert ID_NUMBER.encode() in raw
    assert PHONE.encode() in raw
    assert resp.receipt.leaf_index >= 0
    got = [(d.requester, tuple(d.item_codes), d.authorization) for d in resp.disclosures]
    assert ("platforms/xian", ("TAX_PAYMENT",), auth) in got
    # A replayed request (same nonce) and a forged one are refused.
    req = _self_query(node)
    stub.SelfQuery(req, timeout=10)
    assert refused(lambda: stub.SelfQuery(req, timeout=10))[1] == "ERROR_REASON_NONCE_REUSED"
    forged = _self_query(node)
    forged.item_codes.append("REG_BASIC")
    assert refused(lambda: stub.SelfQuery(forged, timeout=10))[1] == "ERROR_REASON_SIGNATURE_INVALID"


def test_quota_per_platform_answers_resource_exhausted(node: Node, database_url: str) -> None:
    limited = node.start_gateway("gw-q", database_url, QUOTA_REQUESTS_PER_MINUTE="3")
    c = node.connect("platforms/xian", node.callers["xian"].cert, node.callers["xian"].key, limited.address)
    try:
        req = gw.GetCreditReportRequest(enterprise=node.enterprise.name, purpose="PRE_LOAN", item_codes=["REG_BASIC"])
        for _ in range(3):
            c.stub.GetCreditReport(req, timeout=10)
        code, reason = refused(lambda: c.stub.GetCreditReport(req, timeout=10))
        assert (code, reason) == (grpc.StatusCode.RESOURCE_EXHAUSTED, "ERROR_REASON_RESOURCE_EXHAUSTED")
    finally:
        c.channel.close()


def test_a_risk_alert_reaches_the_lender_under_monitoring_consent_with_its_receipt(
    node: Node, database_url: str
) -> None:
    from creditnode.registry.v1 import records_pb2 as rec
    from creditnode.registry.v1 import records_pb2_grpc as rec_grpc

    stub, e = node.callers["xian"].stub, node.enterprise
    monitoring = grant(
        node, "institutions/boc-xian", purpose="POST_LOAN_MONITORING", items=("COURT_ENFORCEMENT", "TAX_PAYMENT")
    )
    today = datetime.now(UTC)
    granted = today - timedelta(days=10)
    loan = sc.ReportLoanRequest(
        loan_id=f"loan-{secrets.token_hex(4)}",
        institution="institutions/boc-xian",
        enterprise=e.name,
        amount_yuan="300000.00",
        term_months=12,
        security=sc.LOAN_SECURITY_CREDIT,
        granted_on=sc.CalendarDay(year=granted.year, month=granted.month, day=granted.day),
        request_id=secrets.token_hex(8),
    )

    def loan_reported() -> bool:  # once scoring knows the enterprise
        try:
            return bool(stub.ReportLoan(gw.ReportLoanRequest(loan=loan), timeout=10).result.loan.name)
        except grpc.RpcError:
            return False

    until(loan_reported, "the loan in scoring's register", timeout=60)
    stream = stub.SubscribeRiskAlerts(gw.SubscribeRiskAlertsRequest(institution="institutions/boc-xian"), timeout=60)
    assert not next(stream).alerts
    ingested = rec_grpc.RecordIngestionServiceStub(node.registry.channel).IngestBatch(
        rec.IngestBatchRequest(
            records=[
                rec.IngestRecord(
                    sequence=1,
                    item_code="COURT_ENFORCEMENT",
                    source_record_id=f"enf-{secrets.token_hex(4)}",
                    source_version=1,
                    uscc=e.uscc,
                    event_time=ts(today - timedelta(minutes=5)),
                    fields={
                        "case_number": rec.FieldValue(string_value="(2026)陕01执99号"),
                        "filed_on": rec.FieldValue(
                            date_value=sl.CalendarDate(year=today.year, month=today.month, day=today.day)
                        ),
                        "amount_yuan": rec.FieldValue(decimal_value="200000"),
                        "status": rec.FieldValue(string_value="OPEN"),
                    },
                )
            ]
        ),
        metadata=(("x-creditnode-department", "sx-court"),),
    )
    assert ingested.results[0].outcome == rec.RECORD_OUTCOME_ACCEPTED, ingested.results[0]
    batch = next(r for r in stream if r.alerts)
    stream.cancel()
    assert len(batch.receipts) == len(batch.alerts)
    alert, receipt = next(
        (a, r) for a, r in zip(batch.alerts, batch.receipts, strict=True) if a.risk == "NEW_ENFORCEMENT"
    )
    assert alert.enterprise == e.name
    (payload,) = leaf_payloads(database_url, [receipt.leaf_index])
    assert (payload["product"], payload["requester"], payload["enterprise"], payload["authorization"]) == (
        "RiskAlert",
        "institutions/boc-xian",
        e.name,
        monitoring,
    )
    assert payload["payload_sha256"] == receipt.payload_sha256
    assert receipt.payload_sha256 == hashlib.sha256(alert.SerializeToString(deterministic=True)).hexdigest()


def derived_products_stay_inside_the_look_back(node: Node) -> None:
    """An authorization's data_since bounds derived products as it bounds reports: an indicator resting on a
    non-public record from before it shows only its points, a tag resting on one is dropped; the score stays."""
    from creditnode.registry.v1 import records_pb2 as rec
    from creditnode.registry.v1 import records_pb2_grpc as rec_grpc

    stub, e = node.callers["xian"].stub, node.enterprise
    now = datetime.now(UTC)
    old, recent = now - timedelta(days=200), now - timedelta(hours=1)
    ingest = rec_grpc.RecordIngestionServiceStub(node.registry.channel).IngestBatch
    for department, item, at, fields in (
        (
            "sx-hrss",
            "SI_ARREARS",
            old,
            {
                "period": rec.FieldValue(string_value=old.strftime("%Y-%m")),
                "amount_yuan": rec.FieldValue(decimal_value="8000.00"),
                "cleared": rec.FieldValue(bool_value=False),
            },
        ),
        (
            "sx-tax",
            "TAX_CREDIT_GRADE",
            recent,
            {"year": rec.FieldValue(int_value=now.year - 1), "grade": rec.FieldValue(string_value="A")},
        ),
    ):
        record = rec.IngestRecord(
            sequence=1,
            item_code=item,
            source_record_id=f"{item.lower()}-{secrets.token_hex(4)}",
            source_version=1,
            uscc=e.uscc,
            event_time=ts(at),
            fields=fields,
        )
        got = ingest(rec.IngestBatchRequest(records=[record]), metadata=(("x-creditnode-department", department),))
        assert got.results[0].outcome == rec.RECORD_OUTCOME_ACCEPTED, got.results[0]
    items = ("SI_ARREARS", "TAX_CREDIT_GRADE")
    grant(node, "institutions/boc-xian", purpose="IN_LOAN", items=items)  # a year back: both records inside
    grant(node, "institutions/boc-xian", purpose="CREDIT_EVALUATION", items=items, lookback=timedelta(days=30))

    def indicators(purpose: str) -> dict[str, Any]:
        # One request id per purpose: polling spends one use.
        request = gw.GetEvaluationRequest(
            enterprise=e.name, purpose=purpose, institution="institutions/boc-xian", request_id=f"evaluation-{purpose}"
        )
        try:
            return {c.indicator: c for c in stub.GetEvaluation(request, timeout=10).evaluation.contributions}
        except grpc.RpcError:
            return {}  # the grant not yet in the gateway's consent cache

    def both_explained() -> bool:
        shown = indicators("IN_LOAN")
        return all(i in shown and shown[i].HasField("value") for i in ("si_arrears_open", "tax_credit_grade"))

    until(both_explained, "the new records in the evaluation, explained under the year-long look-back", timeout=60)
    until(lambda: bool(indicators("CREDIT_EVALUATION")), "the evaluation under the 30-day look-back")
    full, bounded = indicators("IN_LOAN"), indicators("CREDIT_EVALUATION")
    # The evaluation says which Beijing day it is current for: between the day these records went in and today.
    shown = stub.GetEvaluation(
        gw.GetEvaluationRequest(
            enterprise=e.name, purpose="IN_LOAN", institution="institutions/boc-xian", request_id="evaluation-as-of"
        ),
        timeout=10,
    ).evaluation
    assert local_date(now) <= date.fromisoformat(shown.as_of) <= local_date(datetime.now(UTC))
    arrears, grade = bounded["si_arrears_open"], bounded["tax_credit_grade"]
    # The arrears record is 200 days old: before data_since, so its indicator shows only its points.
    assert (arrears.HasField("value"), arrears.bin, len(arrears.evidence)) == (False, "withheld", 0)
    assert arrears.points == full["si_arrears_open"].points
    assert full["si_arrears_open"].evidence[0].event_time.ToDatetime(UTC) < now - timedelta(days=30)
    # The grade record is an hour old: inside the look-back, explained with its event time.
    assert (grade.value, len(grade.evidence)) == (5, 1)
    assert grade.evidence[0].event_time.ToDatetime(UTC) > now - timedelta(days=1)
    portraits = {
        purpose: stub.GetPortrait(
            gw.GetPortraitRequest(enterprise=e.name, purpose=purpose, institution="institutions/boc-xian"), timeout=10
        ).portrait
        for purpose in ("IN_LOAN", "CREDIT_EVALUATION")
    }
    assert "SOCIAL_INSURANCE_ARREARS" in {t.code for t in portraits["IN_LOAN"].risk_tags}
    assert "SOCIAL_INSURANCE_ARREARS" not in {t.code for t in portraits["CREDIT_EVALUATION"].risk_tags}
    assert portraits["CREDIT_EVALUATION"].score == portraits["IN_LOAN"].score


def _scenario_model(stub: Any, scenario_id: str, version: str, weights: dict[str, float]) -> Any:
    """boc-xian's scenario model over the basic model with ``weights``, created through its platform."""
    scenario = {
        "version": version,
        "base": "basic-v1",
        "indicators": [{"code": code, "weight": weight} for code, weight in weights.items()],
        "grades": {"AAA": 950, "AA": 900, "A": 800, "BBB": 700, "BB": 600, "B": 500, "CCC": 400, "CC": 300, "C": 0},
    }
    request = sc.CreateScenarioModelRequest(
        institution="institutions/boc-xian",
        scenario_id=scenario_id,
        document=yaml.safe_dump(scenario, sort_keys=False),
        request_id=f"scenario-{scenario_id}",
    )
    return stub.CreateScenarioModel(gw.CreateScenarioModelRequest(model=request), timeout=10).result.scenario_model


def test_a_scenario_score_with_a_model_that_does_not_exist_spends_no_use_of_the_authorization(node: Node) -> None:
    # An institution's mistake (a wrong model name) spent one of the enterprise's limited uses: the use was recorded
    # before scoring answered NOT_FOUND. Here the enterprise allows one use; after the wrong name, it is still there.
    stub = node.callers["xian"].stub
    e = node.enterprise
    created = _scenario_model(stub, "one-use", "boc-one-use-v1", {"tax_credit_grade": 1.0})
    grant(node, "institutions/boc-xian", items=("TAX_PAYMENT",), kind=cpb.USE_LIMIT_KIND_ONE_TIME, max_uses=1)

    def score(model: str) -> gw.GetScenarioScoreResponse:
        request = gw.GetScenarioScoreRequest(
            enterprise=e.name,
            purpose="PRE_LOAN",
            institution="institutions/boc-xian",
            scenario_model=model,
            request_id=secrets.token_hex(8),
        )
        return stub.GetScenarioScore(request, timeout=10)

    missing = "institutions/boc-xian/scenarioModels/no-such-model"
    answers: list[tuple[grpc.StatusCode, str]] = []

    def reaches_scoring() -> bool:
        # Refused (no authorization) until the gateway's consent view has the grant; then scoring is asked.
        answers.append(refused(lambda: score(missing)))
        return answers[-1][0] != grpc.StatusCode.PERMISSION_DENIED

    until(reaches_scoring, "the wrong model name reaching scoring")
    assert answers[-1] == (grpc.StatusCode.NOT_FOUND, "ERROR_REASON_SCENARIO_MODEL_NOT_FOUND")
    scored = score(created.name)  # the one use is still there
    assert scored.receipt.leaf_index >= 0
    code, _ = refused(lambda: score(created.name))  # and it was the only one
    assert code == grpc.StatusCode.PERMISSION_DENIED


def test_relays_derived_products_loans_alerts_and_objections_with_dispute_stamp(node: Node) -> None:
    from creditnode.objection.v1 import objection_service_pb2 as ob

    stub = node.callers["xian"].stub
    e = node.enterprise
    portrait = gw.GetPortraitRequest(enterprise=e.name, purpose="PRE_LOAN", institution="institutions/boc-xian")
    # No authorization: no derived product either.
    code, _ = refused(lambda: stub.GetPortrait(portrait, timeout=10))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    grant(node, "institutions/boc-xian", items=("TAX_PAYMENT",))

    def portrait_served() -> bool:
        try:
            resp = stub.GetPortrait(portrait, timeout=10)
        except grpc.RpcError:
            return False
        assert resp.portrait.enterprise == e.name
        assert resp.receipt.leaf_index >= 0
        return True

    until(portrait_served, "the institution's portrait", timeout=60)
    derived_products_stay_inside_the_look_back(node)

    # The institution defines a scenario model through its platform and scores the enterprise with it.
    created = _scenario_model(stub, "tech-loan", "boc-tech-loan-v1", {"tax_credit_grade": 0.6, "valid_honours": 0.4})
    assert created.name == "institutions/boc-xian/scenarioModels/tech-loan"
    score_request = gw.GetScenarioScoreRequest(
        enterprise=e.name,
        purpose="PRE_LOAN",
        institution="institutions/boc-xian",
        scenario_model=created.name,
        request_id="score-1",
    )
    scored = stub.GetScenarioScore(score_request, timeout=10)
    assert 0 <= scored.evaluation.score <= 1000
    assert scored.receipt.leaf_index >= 0
    # Nobody else scores with it: not another platform, not with another institution's model.
    code, _ = refused(lambda: node.callers["baoji"].stub.GetScenarioScore(score_request, timeout=10))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    foreign = gw.GetScenarioScoreRequest()
    foreign.CopyFrom(score_request)
    foreign.scenario_model = "institutions/other-bank/scenarioModels/tech-loan"
    code, _ = refused(lambda: stub.GetScenarioScore(foreign, timeout=10))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    # Another platform may not ask for xian's institution.
    code, _ = refused(lambda: node.callers["baoji"].stub.GetPortrait(portrait, timeout=10))
    assert code == grpc.StatusCode.PERMISSION_DENIED

    # A loan of xian's institution; the platform is set by the gateway, not the caller.
    loan = sc.ReportLoanRequest(
        loan_id=f"loan-{secrets.token_hex(4)}",
        institution="institutions/boc-xian",
        enterprise=e.name,
        platform="platforms/forged",
        amount_yuan="500000.00",
        term_months=12,
        security=sc.LOAN_SECURITY_CREDIT,
        granted_on=sc.CalendarDay(year=2026, month=11, day=1),
    )
    got = stub.ReportLoan(gw.ReportLoanRequest(loan=loan), timeout=10).result.loan
    assert (got.platform, got.institution) == ("platforms/xian", "institutions/boc-xian")
    code, _ = refused(lambda: node.callers["baoji"].stub.ReportLoan(gw.ReportLoanRequest(loan=loan), timeout=10))
    assert code == grpc.StatusCode.PERMISSION_DENIED

    # The institution's alert stream opens (the first batch is at least a heartbeat) and is refused to others.
    stream = stub.SubscribeRiskAlerts(gw.SubscribeRiskAlertsRequest(institution="institutions/boc-xian"), timeout=30)
    first = next(iter(stream))
    assert first.cursor >= 0
    stream.cancel()
    other = node.callers["baoji"].stub.SubscribeRiskAlerts(
        gw.SubscribeRiskAlertsRequest(institution="institutions/boc-xian"), timeout=10
    )
    code, _ = refused(lambda: next(iter(other)))
    assert code == grpc.StatusCode.PERMISSION_DENIED
    # Scoring's refusal passes through as it is (not INTERNAL), and so does a self-query signed at an impossible time.
    bad_cursor = stub.SubscribeRiskAlerts(
        gw.SubscribeRiskAlertsRequest(institution="institutions/boc-xian", after_cursor=-1), timeout=10
    )
    assert refused(lambda: next(iter(bad_cursor)))[0] == grpc.StatusCode.INVALID_ARGUMENT
    impossible = gw.SelfQueryRequest(enterprise=e.name)
    impossible.signature.signed_at.seconds = -(2**62)
    assert refused(lambda: stub.SelfQuery(impossible, timeout=10)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_FIELD",
    )
    # The platforms' door takes at most MAX_REQUEST_BYTES (1 MiB) per request.
    oversized = gw.GetCreditReportRequest(enterprise=e.name, purpose="PRE_LOAN", request_id="x" * (2 * 1024 * 1024))
    assert refused(lambda: stub.GetCreditReport(oversized, timeout=10))[0] == grpc.StatusCode.RESOURCE_EXHAUSTED

    # An objection filed through the gateway flags the record; every later release stamps it in dispute.
    reg = report(node, items=["REG_BASIC"])
    record = reg.records[0].record
    assert not reg.records[0].in_dispute
    objection = ob.FileObjectionRequest(
        platform="platforms/forged",
        filer_kind=ob.FILER_KIND_ENTERPRISE,
        filer=e.name,
        enterprise=e.uscc,
        records=[ob.RecordTarget(record=record.name, version=record.version)],
        reasons="the registered capital is wrong",
        request_id=secrets.token_hex(8),
    )
    objection.receive_time.CopyFrom(ts(datetime.now(UTC) - timedelta(hours=1)))
    filed = stub.FileObjection(signed_objection(e, objection), timeout=10).result.objection
    assert filed.platform == "platforms/xian"
    fetched = stub.GetObjection(gw.GetObjectionRequest(name=filed.name), timeout=10).result.objection
    assert fetched.name == filed.name
    until(lambda: report(node, items=["REG_BASIC"]).records[0].in_dispute, "in-dispute stamp")
    for _ in range(3):
        assert all(r.in_dispute for r in report(node, items=["REG_BASIC"]).records)
    # So is the portrait, which rests on that record (one request id: its retries spend no further use).
    again = gw.GetPortraitRequest()
    again.CopyFrom(portrait)
    again.request_id = secrets.token_hex(8)
    until(lambda: stub.GetPortrait(again, timeout=10).portrait.disputed, "portrait stamped in dispute", timeout=60)

    # The department delivers the corrected record and answers CORRECTED: the next report carries the correction,
    # unstamped, and xian (which received the disputed version) gets a correction notice.
    from creditnode.objection.v1 import objection_service_pb2_grpc as ob_grpc
    from creditnode.registry.v1 import records_pb2 as rec
    from creditnode.registry.v1 import records_pb2_grpc as rec_grpc

    raw = (
        rec_grpc.RecordServiceStub(node.registry.channel)
        .GetRecord(rec.GetRecordRequest(name=record.name, view=rec.PERSONAL_DATA_VIEW_RAW))
        .record
    )
    corrected_fields = dict(raw.fields)
    corrected_fields["registered_capital_yuan"] = rec.FieldValue(decimal_value="2000000.00")
    delivered = (
        rec_grpc.RecordIngestionServiceStub(node.registry.channel)
        .IngestBatch(
            rec.IngestBatchRequest(
                records=[
                    rec.IngestRecord(
                        sequence=1,
                        item_code="REG_BASIC",
                        source_record_id=raw.provenance.source_record_id,
                        source_version=2,
                        uscc=e.uscc,
                        event_time=ts(datetime.now(UTC) - timedelta(minutes=5)),
                        fields=corrected_fields,
                    )
                ]
            ),
            metadata=(("x-creditnode-department", "sx-amr"),),
        )
        .results[0]
    )
    assert delivered.outcome == rec.RECORD_OUTCOME_ACCEPTED, delivered
    objection_service = next(p for p in node.procs if p.name == "objection")
    with grpc.insecure_channel(objection_service.address) as channel:
        objections = ob_grpc.ObjectionServiceStub(channel)
        answered = objections.AnswerObjection(
            ob.AnswerObjectionRequest(
                name=filed.name,
                department="departments/sx-amr",
                target=ob.Target(record=ob.RecordTarget(record=record.name, version=record.version)),
                outcome=ob.OUTCOME_CORRECTED,
                corrected_version=2,
                request_id=secrets.token_hex(8),
            ),
            timeout=20,
        ).objection
        assert answered.status == ob.OBJECTION_STATUS_RESOLVED

        def corrected_and_clear() -> bool:
            got = report(node, items=["REG_BASIC"]).records[0]
            capital = got.record.fields["registered_capital_yuan"].decimal_value
            return not got.in_dispute and got.record.version == 2 and capital.startswith("2000000")

        until(corrected_and_clear, "the corrected record, no longer in dispute, in a new report")
        notices = objections.ListCorrectionNotices(ob.ListCorrectionNoticesRequest(recipient="platforms/xian")).notices
        assert filed.name in {n.objection for n in notices}
