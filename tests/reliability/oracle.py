"""The egress oracle (ARCHITECTURE.md's table, services/gateway/domain/policy.py): was a release authorized?"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache

import yaml

from creditnode.scoring.v1 import scoring_service_pb2 as spb
from services.registry.domain.sharing_list import DEFAULT_SHARING_LIST_PATH
from services.scoring.data import model_text
from services.scoring.domain.model import load_model
from tests.gateway_support import ID_NUMBER, PERSON, PHONE

PERSONAL = (ID_NUMBER.encode(), PHONE.encode(), PERSON.encode())
REPORT = "GetCreditReport"
GATED = ("NON_PUBLIC", "OPERATING_OPT_IN")
# An indicator's bin labels that say nothing of its value.
NO_DETAIL_BINS = ("", "missing", "withheld")


def openness_by_item() -> dict[str, str]:
    """Each item's data class, read from the sharing list itself (not from the gateway's answer)."""
    doc = yaml.safe_load(DEFAULT_SHARING_LIST_PATH.read_text(encoding="utf-8"))
    return {i["code"]: i["openness"] for i in doc["items"]}


@cache
def _model_items() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    model = load_model(model_text())
    indicators = {code: x.items for code, x in model.extractions.items()}
    tags: dict[str, frozenset[str]] = {}
    for tag in model.tags:
        behind: set[str] = set()
        for cond in tag.conditions:
            # A condition on something the model does not extract rests on nothing the oracle can clear.
            behind |= indicators.get(cond.signal, frozenset({f"?{cond.signal}"}))
        tags[tag.code] = frozenset(behind)
    return indicators, tags


def indicator_items() -> dict[str, frozenset[str]]:
    """The items each indicator (and signal) reads, from scoring's own model document, not from the answer."""
    return dict(_model_items()[0])


def tag_items() -> dict[str, frozenset[str]]:
    """The items each portrait tag's conditions read, from scoring's own model document."""
    return dict(_model_items()[1])


@dataclass(frozen=True)
class Grant:
    """An authorization the test gave at consent. ``items`` are named explicitly (no categories), so they are also
    what opt-in (operating) data needs; ``max_uses`` 0 means the oracle knows of no limit."""

    requester: str
    enterprise: str
    purpose: str
    items: frozenset[str]
    name: str = ""  # consent's name for it, from consent's answer to the grant (not the gateway's)
    max_uses: int = 0  # per validity (ONE_TIME, MAX_USES) or per period (FREQUENCY; a run fits in one period)


@dataclass(frozen=True)
class Release:
    """A successful answer that needed an authorization: the grants of the world that could have served it, the
    product, and the request id (a retry of one product under one id is the same use; another product is not)."""

    candidates: frozenset[Grant]
    product: str
    request_id: str
    use_id: str = ""  # the id consent records the use under, when not the request id (derived products)


@dataclass
class World:
    """Who may do what: admitted direct platforms with valid certificates, proxies, institutions, authorizations."""

    good_callers: set[str]  # platform ids with a valid, unrevoked certificate and access
    proxies: dict[str, set[str]]  # aggregator -> platforms it may act for (admitted ones only)
    institutions: dict[str, str]  # institution name -> its platform name (active ones only)
    grants: set[Grant] = field(default_factory=set)
    openness: dict[str, str] = field(default_factory=openness_by_item)
    scenario_models: dict[str, str] = field(default_factory=dict)  # scenario model name -> owning institution
    indicators: dict[str, frozenset[str]] = field(default_factory=indicator_items)
    tags: dict[str, frozenset[str]] = field(default_factory=tag_items)

    def requester(self, caller: str, on_behalf_of: str, institution: str) -> str | None:
        """The party a release would go to, or None when the call must be refused outright."""
        if caller not in self.good_callers:
            return None
        platform = f"platforms/{caller}"
        if on_behalf_of and on_behalf_of != platform:  # acting for itself is being itself
            if on_behalf_of not in self.proxies.get(caller, set()):
                return None
            platform = on_behalf_of
        if institution:
            return institution if self.institutions.get(institution) == platform else None
        return platform

    def grants_of(self, requester: str, enterprise: str, purpose: str) -> list[Grant]:
        return [
            g for g in self.grants if g.requester == requester and g.enterprise == enterprise and g.purpose == purpose
        ]

    def covered(self, requester: str, enterprise: str, purpose: str, item: str | None = None) -> bool:
        return any(item is None or item in g.items for g in self.grants_of(requester, enterprise, purpose))

    def _clears(self, grant: Grant, item: str) -> bool:
        """Whether a grant lets a derived figure resting on this item show more than its points."""
        kind = self.openness.get(item)
        return kind == "PUBLIC" or (kind in GATED and item in grant.items)

    def _gates(self, grant: Grant) -> bool:
        return any(self.openness.get(i) in GATED for i in grant.items)

    def record_violations(self, requester: str | None, enterprise: str, purpose: str, items: list[str]) -> list[str]:
        """Why each released record was not allowed (empty: every release was authorized)."""
        if requester is None:
            return [f"{i}: released to a refused caller" for i in items]
        bad: list[str] = []
        for item in items:
            kind = self.openness.get(item, "UNKNOWN")
            if kind == "PUBLIC":
                continue
            if kind == "COMMERCIAL_SECRET":
                bad.append(f"{item}: commercial secret")
            elif requester.startswith("institutions/"):
                bad.append(f"{item}: raw non-public row to an institution")
            elif not self.covered(requester, enterprise, purpose, item):
                bad.append(f"{item}: non-public without a covering authorization")
        return bad

    def derived_violation(self, requester: str | None, enterprise: str, purpose: str) -> str | None:
        """A derived product (evaluation, portrait) is made from non-public data: it needs an authorization of the
        requester for the purpose covering some item that needs one, not just any authorization (one naming public
        items only authorizes nothing non-public)."""
        if requester is None:
            return "derived product to a refused caller"
        if not any(self._gates(g) for g in self.grants_of(requester, enterprise, purpose)):
            return "derived product without an authorization covering non-public data"
        return None

    def serving(
        self, requester: str | None, enterprise: str, purpose: str, items: Iterable[str] = ()
    ) -> frozenset[Grant]:
        """The grants that could have served a release: of this requester, enterprise and purpose, covering every
        gated item released (a derived product, ``items`` empty: covering some gated item)."""
        if requester is None:
            return frozenset()
        gated = {i for i in items if self.openness.get(i) != "PUBLIC"}
        return frozenset(
            g for g in self.grants_of(requester, enterprise, purpose) if (gated <= g.items if gated else self._gates(g))
        )

    def _detail_violations(
        self, requester: str, enterprise: str, purpose: str, details: dict[str, set[str]]
    ) -> list[str]:
        """Details (an indicator's value, bin or records; a tag) leave only when one authorization the derived
        product could have been released under clears every item behind each of them; one resting on no record
        is withheld too (nothing to check it against)."""
        bad = [f"{what}: shown resting on no record" for what, items in details.items() if not items]
        shown = {what: items for what, items in details.items() if items}
        best: list[str] | None = None
        for g in self.serving(requester, enterprise, purpose):
            uncovered = [
                f"{what}: rests on {sorted(i for i in items if not self._clears(g, i))} not covered"
                for what, items in shown.items()
                if not all(self._clears(g, i) for i in items)
            ]
            if best is None or len(uncovered) < len(best):
                best = uncovered
        return bad + (best or [])

    def evaluation_violations(
        self, requester: str | None, enterprise: str, purpose: str, evaluation: spb.Evaluation, scenario_model: str = ""
    ) -> list[str]:
        """An evaluation (basic or under a scenario model) released: the requester must hold an authorization
        covering non-public data; an indicator shows more than its points only when that authorization clears
        every item behind it, those being the items the model says it reads and any its record references name."""
        v = self.derived_violation(requester, enterprise, purpose)
        if v is not None or requester is None:
            return [v or "derived product to a refused caller"]
        bad: list[str] = []
        if scenario_model and self.scenario_models.get(scenario_model) != requester:
            bad.append(f"scenario score under {scenario_model}, not a model of {requester}")
        if evaluation.enterprise != enterprise:
            bad.append(f"evaluation of {evaluation.enterprise!r}, another enterprise")
        details: dict[str, set[str]] = {}
        for c in evaluation.contributions:
            if c.HasField("value") or c.bin not in NO_DETAIL_BINS or len(c.evidence) > 0:
                behind = {e.item_code for e in c.evidence}
                model = self.indicators.get(c.indicator, frozenset({f"?{c.indicator}"}))
                details[f"indicator {c.indicator}"] = (behind | model) if behind else set()
        return bad + self._detail_violations(requester, enterprise, purpose, details)

    def portrait_violations(
        self, requester: str | None, enterprise: str, purpose: str, portrait: spb.Portrait
    ) -> list[str]:
        """A portrait released: as an evaluation; each tag says something of the records behind it, so it leaves
        only when that authorization clears the items its conditions read and its evidence names."""
        v = self.derived_violation(requester, enterprise, purpose)
        if v is not None or requester is None:
            return [v or "derived product to a refused caller"]
        bad: list[str] = []
        if portrait.enterprise != enterprise:
            bad.append(f"portrait of {portrait.enterprise!r}, another enterprise")
        details: dict[str, set[str]] = {}
        for tag in [*portrait.positive_tags, *portrait.risk_tags]:
            behind = {e.item_code for e in tag.evidence}
            model = self.tags.get(tag.code, frozenset({f"?{tag.code}"}))
            details[f"tag {tag.code}"] = (behind | model) if behind else set()
        return bad + self._detail_violations(requester, enterprise, purpose, details)

    def authorization_violation(self, release: Release, named: str) -> str | None:
        """The answer's own ``authorization`` must be one the world gave that could serve the release."""
        names = {g.name for g in release.candidates}
        if named not in names:
            return f"released under {named!r}, not one of the grants that could serve it {sorted(names)}"
        return None

    def log_use_violations(self, leaves: Mapping[int, Mapping[str, object]]) -> list[str]:
        """The disclosure log's releases under each grant: for that grant's requester, enterprise and purpose, and
        no more (per product and request id) than its limit. A credit report counts when it released an item
        needing an authorization: one releasing public rows only spends no use (its leaf names one only when a use
        was spent: a platform asked for items needing one that had no records)."""
        by_name = {g.name: g for g in self.grants if g.name}
        served: dict[str, set[tuple[str, str]]] = {}
        bad: list[str] = []
        for index, leaf in sorted(leaves.items()):
            name = str(leaf.get("authorization") or "")
            if leaf.get("decision") != "ALLOW" or name not in by_name:
                continue
            product = str(leaf.get("product") or REPORT)
            released = leaf.get("released")
            items = [str(i) for i in released] if isinstance(released, list) else []
            if product == REPORT and all(self.openness.get(i) == "PUBLIC" for i in items):
                continue
            g = by_name[name]
            if (leaf.get("requester"), leaf.get("enterprise"), leaf.get("purpose")) != (
                g.requester,
                g.enterprise,
                g.purpose,
            ):
                bad.append(f"leaf {index}: released under {name} to {leaf.get('requester')} {leaf.get('purpose')}")
            # Parts of one long report share their request id; a leaf without one is a use of its own.
            served.setdefault(name, set()).add((product, str(leaf.get("request_id") or f"#{index}")))
        for name, keys in sorted(served.items()):
            limit = by_name[name].max_uses
            if limit > 0 and len(keys) > limit:
                bad.append(f"{name}: {len(keys)} releases in the log over a limit of {limit}: {sorted(keys)[:8]}")
        return bad


def _key(release: Release, n: int) -> tuple[str, str]:
    # Without a request id every release is a use of its own.
    return (release.product, release.request_id or f"#{n}")


def use_limit_violations(releases: Iterable[Release]) -> list[str]:
    """No set of limited grants serves more releases than their limits add up to. Each release counts against
    the grants that could have served it (one, when the world gives a requester one grant per enterprise and
    purpose); counted per (product, request id), so a retry is one use and another product under a reused id
    another."""
    listed = [r for r in releases if r.candidates]
    bad: list[str] = []
    for group in sorted({r.candidates for r in listed}, key=lambda k: sorted(g.name for g in k)):
        if any(g.max_uses <= 0 for g in group):
            continue  # a grant without a known limit could have served them all
        served = {_key(r, n) for n, r in enumerate(listed) if r.candidates <= group}
        limit = sum(g.max_uses for g in group)
        if len(served) > limit:
            names = sorted(g.name for g in group)
            bad.append(f"{names}: {len(served)} releases over a limit of {limit}: {sorted(served)[:8]}")
    return bad


def unrecorded_uses(releases: Iterable[Release], recorded: Mapping[str, set[str]]) -> list[str]:
    """Each release that only one grant could have served had its use recorded at consent under its request id
    (``recorded``: authorization name -> request ids of its uses, as consent lists them)."""
    bad: list[str] = []
    for r in releases:
        if len(r.candidates) != 1 or not r.request_id:
            continue
        (g,) = r.candidates
        if g.name in recorded and (r.use_id or r.request_id) not in recorded[g.name]:
            bad.append(f"{r.product} {r.request_id} released under {g.name} without a use recorded at consent")
    return bad


def personal_data_in(raw: bytes) -> bool:
    """Raw personal data (the seeded ID number, mobile number or name) anywhere in a serialized answer."""
    return any(p in raw for p in PERSONAL)
