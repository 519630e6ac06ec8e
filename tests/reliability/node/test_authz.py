"""Randomized requests across the permission matrix (forged identities, foreign ids, suspended and proxied
platforms) judged by the egress oracle: zero unauthorized releases."""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc

from creditnode.consent.v1 import consent_service_pb2_grpc as consent_grpc
from creditnode.gateway.v1 import gateway_service_pb2 as gw
from services.kit.status import error_info
from tests.gateway_support import Caller, other_ca
from tests.registry_helpers import random_uscc
from tests.reliability.figures import record, reported, zero
from tests.reliability.node.conftest import SharedNode
from tests.reliability.oracle import Grant, World, personal_data_in
from tests.reliability.scale import Scale

ITEMS = ["REG_BASIC", "TAX_PAYMENT", "TAX_INVOICE", "TAX_FINANCIAL_STATEMENT"]
PURPOSES = ["PRE_LOAN", "IN_LOAN", "CREDIT_EVALUATION"]
CALLERS = {"xian": 4, "baoji": 2, "qinxinrong": 3, "hanzhong": 1, "ghost": 1, "wrong-ca": 0.5, "wrong-san": 1}
BEHALF = [
    "",
    "",
    "",
    "",
    "platforms/county",
    "platforms/county",
    "platforms/county2",
    "platforms/xian",
    "platforms/ghost",
]
INSTITUTIONS = ["", "", "", "institutions/boc-xian", "institutions/icbc-baoji", "institutions/ghost"]
SEED = 20261129
SUSPENDED = {"platforms/county2", "platforms/hanzhong"}


@dataclass
class Outcome:
    violations: list[str]
    code: grpc.StatusCode
    has_reason: bool
    released: int
    non_public: int = 0


def _grants(node: SharedNode) -> set[Grant]:
    """Authorizations given directly at consent; some name suspended platforms (they must still get nothing)."""
    e = [x.name for x in node.c.enterprises]
    plan = [
        ("platforms/xian", e[0], "PRE_LOAN", ("TAX_PAYMENT",)),
        ("platforms/county", e[0], "PRE_LOAN", ("TAX_PAYMENT", "TAX_INVOICE")),
        ("institutions/boc-xian", e[1], "PRE_LOAN", ("TAX_PAYMENT",)),
        ("platforms/xian", e[1], "CREDIT_EVALUATION", ("TAX_INVOICE", "TAX_PAYMENT")),
        ("platforms/baoji", e[2], "PRE_LOAN", ("TAX_PAYMENT",)),
        ("institutions/icbc-baoji", e[2], "IN_LOAN", ("TAX_PAYMENT",)),
        ("platforms/county2", e[2], "PRE_LOAN", ("TAX_PAYMENT",)),
        ("platforms/hanzhong", e[3], "PRE_LOAN", ("TAX_PAYMENT",)),
    ]
    granted: set[Grant] = set()
    by_name = {x.name: x for x in node.c.enterprises}
    with grpc.insecure_channel(node.c.services["consent"].address) as ch:
        stub = consent_grpc.ConsentServiceStub(ch)
        for requester, ent, purpose, items in plan:
            try:
                stub.GrantAuthorization(
                    by_name[ent].grant(requester, purpose=purpose, items=items, max_uses=5), timeout=10
                )
            except grpc.RpcError as exc:
                if requester not in SUSPENDED:
                    raise AssertionError(f"grant for {requester} refused: {exc.code()} {exc.details()}") from exc
                continue  # consent may refuse requesters without access; the oracle then knows of no grant
            granted.add(Grant(requester, ent, purpose, frozenset(items)))
    return granted


def _callers(node: SharedNode) -> dict[str, Caller]:
    c = node.c
    assert c.pki is not None
    ca, ca_key = other_ca()
    forged = {
        "wrong-ca": c.pki.issue(uri="spiffe://creditnode/platforms/xian", issuer=ca, issuer_key=ca_key),
        "wrong-san": c.pki.issue(uri="spiffe://elsewhere/platforms/xian"),
    }
    out = {name: c.callers[name] for name in ("xian", "baoji", "qinxinrong")}
    for name, (cert, key) in {**node.extra_certs, **forged}.items():
        out[name] = c.connect(cert, key)
    return out


def _wait_until_served(node: SharedNode) -> None:
    """The gateway's consent cache has the platform grants once xian's PRE_LOAN report on E0 releases TAX_PAYMENT."""
    stub = node.c.callers["xian"].stub
    deadline = time.monotonic() + 60
    req = gw.GetCreditReportRequest(enterprise=node.c.enterprises[0].name, purpose="PRE_LOAN", item_codes=ITEMS[:2])
    while time.monotonic() < deadline:
        try:
            if any(r.record.item_code == "TAX_PAYMENT" for r in stub.GetCreditReport(req, timeout=10).records):
                time.sleep(1.0)  # the other grants were committed before this one's watch event
                return
        except grpc.RpcError:
            pass
        time.sleep(0.1)
    raise AssertionError("the gateway never served the first authorization")


def _one(world: World, callers: dict[str, Caller], enterprises: list[str], rng: random.Random) -> Outcome:
    caller = rng.choices(list(CALLERS), weights=list(CALLERS.values()))[0]
    behalf, inst = rng.choice(BEHALF), rng.choice(INSTITUTIONS)
    ent, purpose = rng.choice(enterprises), rng.choice(PURPOSES)
    method = rng.choices(["report", "evaluation", "portrait"], weights=[7, 1.5, 1.5])[0]
    stub = callers[caller].stub
    requester = world.requester(caller, behalf, inst)
    # One request id per (who, whom, why): consent records one use and answers the rest as retries (uses are capped).
    rid = hashlib.sha256(f"{caller}|{behalf}|{inst}|{ent}|{purpose}".encode()).hexdigest()[:32]
    try:
        if method == "report":
            items = rng.sample(ITEMS, rng.randint(1, len(ITEMS)))
            resp = stub.GetCreditReport(
                gw.GetCreditReportRequest(
                    enterprise=ent,
                    purpose=purpose,
                    item_codes=items,
                    institution=inst,
                    on_behalf_of=behalf,
                    request_id=rid,
                ),
                timeout=20,
            )
            bad = world.record_violations(requester, ent, purpose, [r.record.item_code for r in resp.records])
            bad += [f"{r.record.name}: another enterprise" for r in resp.records if not r.record.name.startswith(ent)]
            released = len(resp.records)
            non_public = sum(world.openness.get(r.record.item_code) != "PUBLIC" for r in resp.records)
        else:
            call = stub.GetEvaluation if method == "evaluation" else stub.GetPortrait
            cls = gw.GetEvaluationRequest if method == "evaluation" else gw.GetPortraitRequest
            resp = call(
                cls(enterprise=ent, purpose=purpose, institution=inst, on_behalf_of=behalf, request_id=rid), timeout=20
            )
            v = world.derived_violation(requester, ent, purpose)
            bad, released, non_public = ([v] if v else []), 1, 0
        if personal_data_in(resp.SerializeToString()):
            bad.append("raw personal data")
        return Outcome(
            [f"{caller} {behalf} {inst} {ent} {purpose} {method}: {b}" for b in bad],
            grpc.StatusCode.OK,
            True,
            released,
            non_public,
        )
    except grpc.RpcError as exc:
        info = error_info(exc)
        # A TLS handshake refusal (no certificate, another CA) has no server status to carry an ErrorInfo.
        handshake = caller == "wrong-ca" and exc.code() == grpc.StatusCode.UNAVAILABLE
        return Outcome([], exc.code(), handshake or (info is not None and bool(info.reason)), 0)


def test_randomized_permission_matrix_releases_nothing_unauthorized(shared: SharedNode, scale: Scale) -> None:
    world = World(
        good_callers={"xian", "baoji", "qinxinrong"},
        proxies={"qinxinrong": {"platforms/county"}},
        institutions={"institutions/boc-xian": "platforms/xian", "institutions/icbc-baoji": "platforms/baoji"},
    )
    world.grants = _grants(shared)
    _wait_until_served(shared)
    callers = _callers(shared)
    # Besides the registered ones: an unregistered enterprise, and an authorized one with a trailing newline (which
    # the gateway's USCC check lets through, docs/reliability.md finding 2).
    names = [e.name for e in shared.c.enterprises]
    enterprises = [*names, f"enterprises/{random_uscc()}", names[0] + "\n"]
    rngs = [random.Random(SEED + i) for i in range(scale.authz_requests)]
    started = time.monotonic()
    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(lambda r: _one(world, callers, enterprises, r), rngs))
    elapsed = time.monotonic() - started
    violations = [v for o in outcomes for v in o.violations]
    unexplained = [o.code.name for o in outcomes if not o.has_reason]
    codes = Counter(o.code.name for o in outcomes)
    record(
        zero("authz_unauthorized_releases", len(violations)),
        reported("authz_requests", len(outcomes), "count"),
        reported(
            "authz_released_answers", sum(1 for o in outcomes if o.released and o.code == grpc.StatusCode.OK), "count"
        ),
        reported("authz_non_public_records_released", sum(o.non_public for o in outcomes), "count"),
        reported("authz_refusals", len(outcomes) - codes["OK"], "count"),
        zero("authz_errors_without_reason", len(unexplained)),
        reported("authz_rps", len(outcomes) / elapsed, "req/s"),
    )
    assert len(outcomes) >= scale.authz_requests
    assert codes["OK"] > 0, codes
    assert len(outcomes) > codes["OK"], codes
    assert not violations, violations[:20]
    assert not unexplained, Counter(unexplained)
