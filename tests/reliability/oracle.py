"""The egress oracle (ARCHITECTURE.md's table, services/gateway/domain/policy.py): was a release authorized?"""

from __future__ import annotations

from dataclasses import dataclass, field

import yaml

from services.registry.domain.sharing_list import DEFAULT_SHARING_LIST_PATH
from tests.gateway_support import ID_NUMBER, PERSON, PHONE

PERSONAL = (ID_NUMBER.encode(), PHONE.encode(), PERSON.encode())


def openness_by_item() -> dict[str, str]:
    """Each item's data class, read from the sharing list itself (not from the gateway's answer)."""
    doc = yaml.safe_load(DEFAULT_SHARING_LIST_PATH.read_text(encoding="utf-8"))
    return {i["code"]: i["openness"] for i in doc["items"]}


@dataclass(frozen=True)
class Grant:
    requester: str
    enterprise: str
    purpose: str
    items: frozenset[str]


@dataclass
class World:
    """Who may do what: admitted direct platforms with valid certificates, proxies, institutions, authorizations."""

    good_callers: set[str]  # platform ids with a valid, unrevoked certificate and access
    proxies: dict[str, set[str]]  # aggregator -> platforms it may act for (admitted ones only)
    institutions: dict[str, str]  # institution name -> its platform name (active ones only)
    grants: set[Grant] = field(default_factory=set)
    openness: dict[str, str] = field(default_factory=openness_by_item)

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

    def covered(self, requester: str, enterprise: str, purpose: str, item: str | None = None) -> bool:
        return any(
            g.requester == requester
            and g.enterprise == enterprise
            and g.purpose == purpose
            and (item is None or item in g.items)
            for g in self.grants
        )

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
        gated = [i for i, kind in self.openness.items() if kind in ("NON_PUBLIC", "OPERATING_OPT_IN")]
        if not any(self.covered(requester, enterprise, purpose, item) for item in gated):
            return "derived product without an authorization covering non-public data"
        return None


def personal_data_in(raw: bytes) -> bool:
    """Raw personal data (the seeded ID number, mobile number or name) anywhere in a serialized answer."""
    return any(p in raw for p in PERSONAL)
