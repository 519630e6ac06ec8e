"""Randomized requests across the permission matrix (forged identities, foreign ids, suspended and proxied
platforms, use-limited authorizations) judged by the egress oracle: zero unauthorized releases, no use over a limit."""

from __future__ import annotations

import hashlib
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
import yaml

from creditnode.consent.v1 import consent_service_pb2 as cpb
from creditnode.consent.v1 import consent_service_pb2_grpc as consent_grpc
from creditnode.gateway.v1 import gateway_service_pb2 as gw
from creditnode.scoring.v1 import scoring_service_pb2 as spb
from services.gateway.usecases import product_use_id
from services.kit.status import error_info
from tests.gateway_support import Caller, other_ca
from tests.registry_helpers import random_uscc
from tests.reliability.figures import record, reported, zero
from tests.reliability.node.conftest import SharedNode
from tests.reliability.oracle import (
    REPORT,
    Grant,
    Release,
    World,
    personal_data_in,
    unrecorded_uses,
    use_limit_violations,
)
from tests.reliability.scale import Scale
from tests.reliability.verify import disclosure_leaves

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
METHODS = {REPORT: 6, "GetEvaluation": 1.5, "GetPortrait": 1.5, "GetScenarioScore": 1}
SEED = 20261129
SUSPENDED = {"platforms/county2", "platforms/hanzhong"}
# Request ids per (who, whom, why): a few, so repeats are retries of one use while another id spends another; one
# of them shared by every product, which must still count a use per product.
RID_SLOTS = 4
# A FOCUS share of the requests is aimed at the grants, through these routes; those with at most TIGHT uses must
# have spent them all by the end.
TIGHT, FOCUS = 3, 0.25
ROUTES = {
    "platforms/xian": ("xian", "", ""),
    "platforms/baoji": ("baoji", "", ""),
    "platforms/county": ("qinxinrong", "platforms/county", ""),
    "institutions/boc-xian": ("xian", "", "institutions/boc-xian"),
    "institutions/icbc-baoji": ("baoji", "", "institutions/icbc-baoji"),
}
ONE_TIME, MAX_USES, FREQUENCY = cpb.USE_LIMIT_KIND_ONE_TIME, cpb.USE_LIMIT_KIND_MAX_USES, cpb.USE_LIMIT_KIND_FREQUENCY
SCENARIO = {
    "version": "authz-v1",
    "base": "basic-v1",
    # A public, a non-public and an opt-in indicator: the explanation depends on what the authorization covers.
    "indicators": [
        {"code": "years_in_business", "weight": 0.3},
        {"code": "tax_paid_trend", "weight": 0.4},
        {"code": "invoice_sales_trend", "weight": 0.3},
    ],
}


@dataclass
class Outcome:
    violations: list[str]
    code: grpc.StatusCode
    has_reason: bool
    released: int
    non_public: int = 0
    release: Release | None = None  # a successful answer that needed an authorization


def _grants(node: SharedNode) -> set[Grant]:
    """Authorizations given directly at consent; some name suspended platforms (they must still get nothing). One
    grant per (requester, enterprise, purpose), so each release needing one has one grant that could serve it and
    use limits are counted exactly; the first (which the gateway is awaited on) is granted last."""
    e = [x.name for x in node.c.enterprises]
    plan = [
        ("platforms/county", e[0], "PRE_LOAN", ("TAX_PAYMENT", "TAX_INVOICE"), MAX_USES, 5, 0),
        ("institutions/boc-xian", e[1], "PRE_LOAN", ("TAX_PAYMENT",), MAX_USES, 5, 0),
        ("platforms/xian", e[1], "CREDIT_EVALUATION", ("TAX_INVOICE", "TAX_PAYMENT"), MAX_USES, 5, 0),
        ("platforms/baoji", e[2], "PRE_LOAN", ("TAX_PAYMENT",), MAX_USES, 5, 0),
        ("institutions/icbc-baoji", e[2], "IN_LOAN", ("TAX_PAYMENT",), MAX_USES, 5, 0),
        ("platforms/county2", e[2], "PRE_LOAN", ("TAX_PAYMENT",), MAX_USES, 5, 0),
        ("platforms/hanzhong", e[3], "PRE_LOAN", ("TAX_PAYMENT",), MAX_USES, 5, 0),
        # Tight limits, each kind: spent within the run by the randomized requests.
        ("platforms/baoji", e[3], "IN_LOAN", ("TAX_PAYMENT",), ONE_TIME, 1, 0),
        ("platforms/county", e[1], "IN_LOAN", ("TAX_PAYMENT", "TAX_INVOICE"), ONE_TIME, 1, 0),
        ("institutions/boc-xian", e[2], "PRE_LOAN", ("TAX_PAYMENT", "TAX_INVOICE"), MAX_USES, 3, 0),
        ("platforms/xian", e[3], "CREDIT_EVALUATION", ("TAX_PAYMENT", "TAX_INVOICE"), FREQUENCY, 2, 30),
        ("institutions/icbc-baoji", e[3], "CREDIT_EVALUATION", ("TAX_PAYMENT",), FREQUENCY, 1, 30),
        # More uses than its derived products can spend under RID_SLOTS ids: scenario scores are surely served.
        ("institutions/boc-xian", e[0], "CREDIT_EVALUATION", ("TAX_PAYMENT", "TAX_INVOICE"), MAX_USES, 12, 0),
        ("platforms/xian", e[0], "PRE_LOAN", ("TAX_PAYMENT",), MAX_USES, 5, 0),
    ]
    granted: set[Grant] = set()
    by_name = {x.name: x for x in node.c.enterprises}
    with grpc.insecure_channel(node.c.services["consent"].address) as ch:
        stub = consent_grpc.ConsentServiceStub(ch)
        for requester, ent, purpose, items, kind, max_uses, period in plan:
            req = by_name[ent].grant(
                requester, purpose=purpose, items=items, kind=kind, max_uses=max_uses, period_days=period
            )
            try:
                name = stub.GrantAuthorization(req, timeout=10).authorization.name
            except grpc.RpcError as exc:
                if requester not in SUSPENDED:
                    raise AssertionError(f"grant for {requester} refused: {exc.code()} {exc.details()}") from exc
                continue  # consent may refuse requesters without access; the oracle then knows of no grant
            granted.add(Grant(requester, ent, purpose, frozenset(items), name, max_uses))
    return granted


def _scenario_models(node: SharedNode) -> dict[str, str]:
    """One scenario model for each institution, created through its own platform."""
    out: dict[str, str] = {}
    for platform, institution in (("xian", "institutions/boc-xian"), ("baoji", "institutions/icbc-baoji")):
        created = node.c.callers[platform].stub.CreateScenarioModel(
            gw.CreateScenarioModelRequest(
                model=spb.CreateScenarioModelRequest(
                    institution=institution, scenario_id="authz", document=yaml.safe_dump(SCENARIO, sort_keys=False)
                )
            ),
            timeout=20,
        )
        out[created.result.scenario_model.name] = institution
    return out


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


def _wait_until_served(node: SharedNode, world: World) -> Release:
    """The gateway's consent cache has the grants once xian's PRE_LOAN report on E0 releases TAX_PAYMENT (granted
    last). That release spends a use like any other: it is returned to be counted."""
    stub = node.c.callers["xian"].stub
    deadline = time.monotonic() + 60
    ent = node.c.enterprises[0].name
    req = gw.GetCreditReportRequest(enterprise=ent, purpose="PRE_LOAN", item_codes=ITEMS[:2], request_id="probe")
    while time.monotonic() < deadline:
        try:
            if any(r.record.item_code == "TAX_PAYMENT" for r in stub.GetCreditReport(req, timeout=10).records):
                time.sleep(1.0)  # the other grants were committed before this one's watch event
                candidates = world.serving("platforms/xian", ent, "PRE_LOAN", ["TAX_PAYMENT"])
                return Release(candidates, REPORT, req.request_id)
        except grpc.RpcError:
            pass
        time.sleep(0.1)
    raise AssertionError("the gateway never served the first authorization")


def _request_id(rng: random.Random, method: str, who: str) -> str:
    slot = rng.randrange(RID_SLOTS)
    product = "any" if slot == 0 else method
    return hashlib.sha256(f"{who}|{product}|{slot}".encode()).hexdigest()[:32]


def _who(world: World, enterprises: list[str], rng: random.Random) -> tuple[str, str, str, str, str]:
    """Caller, on_behalf_of, institution, enterprise and purpose: mostly drawn across the matrix; a share aimed at
    the grants (the matrix alone rarely reaches one), so their limits are reached and tried beyond."""
    aimed = sorted((g for g in world.grants if g.requester in ROUTES), key=lambda g: g.name)
    if aimed and rng.random() < FOCUS:
        g = rng.choice(aimed)
        caller, behalf, inst = ROUTES[g.requester]
        return caller, behalf, inst, g.enterprise, g.purpose
    caller = rng.choices(list(CALLERS), weights=list(CALLERS.values()))[0]
    return caller, rng.choice(BEHALF), rng.choice(INSTITUTIONS), rng.choice(enterprises), rng.choice(PURPOSES)


def _one(world: World, callers: dict[str, Caller], enterprises: list[str], rng: random.Random) -> Outcome:
    caller, behalf, inst, ent, purpose = _who(world, enterprises, rng)
    method = rng.choices(list(METHODS), weights=list(METHODS.values()))[0]
    # Someone's model or a foreign one (only the owning institution may score with it); the named institution's
    # own more often, or scenario scores would rarely be released at all.
    own = [m for m, owner in world.scenario_models.items() if owner == inst]
    scenario = rng.choice([*world.scenario_models, "institutions/ghost/scenarioModels/authz", *own * 3])
    stub = callers[caller].stub
    # Judged from the world built, never from the answer's own decision fields.
    requester = world.requester(caller, behalf, inst)
    rid = _request_id(rng, method, f"{caller}|{behalf}|{inst}|{ent}|{purpose}")
    release: Release | None = None
    try:
        if method == REPORT:
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
            released_items = [r.record.item_code for r in resp.records]
            bad = world.record_violations(requester, ent, purpose, released_items)
            bad += [f"{r.record.name}: another enterprise" for r in resp.records if not r.record.name.startswith(ent)]
            released = len(resp.records)
            gated = [i for i in released_items if world.openness.get(i) != "PUBLIC"]
            non_public = len(gated)
            if gated:
                release = Release(world.serving(requester, ent, purpose, gated), method, rid)
        else:
            common = {"enterprise": ent, "purpose": purpose, "institution": inst, "on_behalf_of": behalf}
            if method == "GetEvaluation":
                resp = stub.GetEvaluation(gw.GetEvaluationRequest(**common, request_id=rid), timeout=20)
                bad = world.evaluation_violations(requester, ent, purpose, resp.evaluation)
            elif method == "GetPortrait":
                resp = stub.GetPortrait(gw.GetPortraitRequest(**common, request_id=rid), timeout=20)
                bad = world.portrait_violations(requester, ent, purpose, resp.portrait)
            else:
                resp = stub.GetScenarioScore(
                    gw.GetScenarioScoreRequest(**common, scenario_model=scenario, request_id=rid), timeout=20
                )
                bad = world.evaluation_violations(requester, ent, purpose, resp.evaluation, scenario)
            released, non_public = 1, 0
            use_id = product_use_id(method, scenario if method == "GetScenarioScore" else "", rid)
            release = Release(world.serving(requester, ent, purpose), method, rid, use_id)
        # The answer's authorization is checked against the world, not taken as the reason for the release.
        named = world.authorization_violation(release, resp.authorization) if release is not None and not bad else None
        if named is not None:
            bad.append(named)
        if personal_data_in(resp.SerializeToString()):
            bad.append("raw personal data")
        return Outcome(
            [f"{caller} {behalf} {inst} {ent} {purpose} {method} {rid}: {b}" for b in bad],
            grpc.StatusCode.OK,
            True,
            released,
            non_public,
            release,
        )
    except grpc.RpcError as exc:
        info = error_info(exc)
        # A TLS handshake refusal (no certificate, another CA) has no server status to carry an ErrorInfo.
        handshake = caller == "wrong-ca" and exc.code() == grpc.StatusCode.UNAVAILABLE
        return Outcome([], exc.code(), handshake or (info is not None and bool(info.reason)), 0)


def _consent_uses(node: SharedNode, grants: set[Grant]) -> dict[str, set[str]]:
    """The request ids of the uses consent recorded under each grant (its own record, beside the gateway's)."""
    out: dict[str, set[str]] = {}
    with grpc.insecure_channel(node.c.services["consent"].address) as ch:
        stub = consent_grpc.ConsentServiceStub(ch)
        for g in grants:
            token, rids = "", set()
            while True:
                page = stub.ListAuthorizationUses(
                    cpb.ListAuthorizationUsesRequest(authorization=g.name, page_size=100, page_token=token), timeout=10
                )
                rids |= {u.request_id for u in page.uses}
                token = page.next_page_token
                if not token:
                    break
            out[g.name] = rids
    return out


def test_randomized_permission_matrix_releases_nothing_unauthorized(shared: SharedNode, scale: Scale) -> None:
    world = World(
        good_callers={"xian", "baoji", "qinxinrong"},
        proxies={"qinxinrong": {"platforms/county"}},
        institutions={"institutions/boc-xian": "platforms/xian", "institutions/icbc-baoji": "platforms/baoji"},
    )
    world.grants = _grants(shared)
    world.scenario_models = _scenario_models(shared)
    probe = _wait_until_served(shared, world)
    callers = _callers(shared)
    # Besides the registered ones: an unregistered enterprise, and an authorized one with a trailing newline (which
    # the gateway's USCC check lets through, docs/reliability.md finding 2).
    names = [e.name for e in shared.c.enterprises[:4]]
    enterprises = [*names, f"enterprises/{random_uscc()}", names[0] + "\n"]
    rngs = [random.Random(SEED + i) for i in range(scale.authz_requests)]
    started = time.monotonic()
    with ThreadPoolExecutor(6) as pool:
        outcomes = list(pool.map(lambda r: _one(world, callers, enterprises, r), rngs))
    elapsed = time.monotonic() - started
    violations = [v for o in outcomes for v in o.violations]
    unexplained = [o.code.name for o in outcomes if not o.has_reason]
    codes = Counter(o.code.name for o in outcomes)
    releases = [probe, *(o.release for o in outcomes if o.release is not None)]
    limited = {g for g in world.grants if g.max_uses <= TIGHT}
    over_limit = use_limit_violations(releases)
    # The same count from the disclosure log, and each release's use as consent recorded it.
    over_limit_logged = world.log_use_violations(disclosure_leaves(shared.c.internal()))
    unrecorded = unrecorded_uses(releases, _consent_uses(shared, world.grants))
    products = Counter(r.product for r in releases)
    record(
        zero("authz_unauthorized_releases", len(violations)),
        zero("authz_use_limit_exceeded", len(over_limit) + len(over_limit_logged)),
        zero("authz_releases_without_recorded_use", len(unrecorded)),
        reported("authz_requests", len(outcomes), "count"),
        reported(
            "authz_released_answers", sum(1 for o in outcomes if o.released and o.code == grpc.StatusCode.OK), "count"
        ),
        reported("authz_non_public_records_released", sum(o.non_public for o in outcomes), "count"),
        reported("authz_derived_products_released", len(releases) - products[REPORT], "count"),
        reported("authz_refusals", len(outcomes) - codes["OK"], "count"),
        zero("authz_errors_without_reason", len(unexplained)),
        reported("authz_rps", len(outcomes) / elapsed, "req/s"),
    )
    assert len(outcomes) >= scale.authz_requests
    assert codes["OK"] > 0, codes
    assert len(outcomes) > codes["OK"], codes
    # Every kind of derived product was released at least once, and the tight limits were reached: otherwise the
    # checks above judged nothing of them.
    assert all(products[m] > 0 for m in METHODS), products
    spent = Counter(next(iter(r.candidates)) for r in releases if len(r.candidates) == 1)
    assert all(spent[g] >= g.max_uses for g in limited), {g.name: (spent[g], g.max_uses) for g in limited}
    assert not violations, violations[:20]
    assert not over_limit, over_limit
    assert not over_limit_logged, over_limit_logged
    assert not unrecorded, unrecorded[:20]
    assert not unexplained, Counter(unexplained)
