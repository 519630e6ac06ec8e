"""The egress policy against the reference table of ARCHITECTURE.md, cell by cell."""

from __future__ import annotations

import pytest

from services.gateway.domain.policy import NO_COVERAGE, CallerKind, Coverage, Openness, Withheld, decide_item

S, P, INST = CallerKind.SELF, CallerKind.PLATFORM, CallerKind.INSTITUTION
PUB, NP, OPT, SEC = Openness.PUBLIC, Openness.NON_PUBLIC, Openness.OPERATING_OPT_IN, Openness.COMMERCIAL_SECRET

# (caller, openness, authorization covers (and names) the item) -> released? (withheld reason when not)
TABLE = {
    (S, PUB, False): None, (S, NP, False): None, (S, OPT, False): None, (S, SEC, False): None,
    (P, PUB, False): None, (P, PUB, True): None,
    (P, NP, False): Withheld.NOT_AUTHORIZED, (P, NP, True): None,
    (P, OPT, False): Withheld.NOT_AUTHORIZED, (P, OPT, True): None,
    (P, SEC, False): Withheld.COMMERCIAL_SECRET, (P, SEC, True): Withheld.COMMERCIAL_SECRET,
    (INST, PUB, False): None, (INST, PUB, True): None,
    (INST, NP, False): Withheld.DERIVED_ONLY, (INST, NP, True): Withheld.DERIVED_ONLY,
    (INST, OPT, False): Withheld.DERIVED_ONLY, (INST, OPT, True): Withheld.DERIVED_ONLY,
    (INST, SEC, False): Withheld.COMMERCIAL_SECRET, (INST, SEC, True): Withheld.COMMERCIAL_SECRET,
}  # fmt: skip


@pytest.mark.parametrize(("caller", "openness", "covered"), sorted(TABLE, key=str))
def test_egress_follows_the_reference_table(caller: CallerKind, openness: Openness, covered: bool) -> None:
    both = frozenset({"ITEM"})
    verdict = decide_item(caller, "ITEM", openness, Coverage(both, both) if covered else NO_COVERAGE)
    expected = TABLE[(caller, openness, covered)]
    assert verdict.released == (expected is None)
    assert verdict.withheld == expected
    if verdict.released:
        assert verdict.masked == (caller is not S)


def test_an_authorization_for_another_item_covers_nothing_here() -> None:
    other = frozenset({"SI_HEADCOUNT"})
    assert not decide_item(P, "TAX_PAYMENT", NP, Coverage(other, other)).released


def test_operating_data_covered_through_a_category_but_never_named_is_withheld() -> None:
    # Covered because a category was granted while the item was non-public; a later list made it operating data.
    by_category = Coverage(frozenset({"TAX_INVOICE"}), frozenset())
    assert decide_item(P, "TAX_INVOICE", OPT, by_category).withheld == Withheld.NOT_AUTHORIZED
    assert decide_item(P, "TAX_INVOICE", NP, by_category).released


def test_unknown_items_are_never_released_even_to_the_enterprise() -> None:
    for caller in CallerKind:
        nope = frozenset({"NOPE"})
        assert decide_item(caller, "NOPE", None, Coverage(nope, nope)).withheld == Withheld.UNKNOWN_ITEM
