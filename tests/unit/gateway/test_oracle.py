"""The reliability suite's egress oracle judges derived products as the policy does: an authorization that covers
no non-public item authorizes no evaluation or portrait."""

from __future__ import annotations

from tests.reliability.oracle import Grant, World

E = "enterprises/91610100MA6TG1234E"


def _world(*items: str) -> World:
    world = World(good_callers={"xian"}, proxies={}, institutions={"institutions/boc": "platforms/xian"})
    world.grants = {Grant("institutions/boc", E, "PRE_LOAN", frozenset(items))}
    return world


def test_a_derived_product_under_an_authorization_of_public_items_only_is_a_violation() -> None:
    assert _world("REG_BASIC").derived_violation("institutions/boc", E, "PRE_LOAN") is not None


def test_a_derived_product_under_an_authorization_covering_non_public_data_is_allowed() -> None:
    world = _world("REG_BASIC", "TAX_PAYMENT")
    assert world.derived_violation("institutions/boc", E, "PRE_LOAN") is None
    assert world.derived_violation("institutions/boc", E, "IN_LOAN") is not None  # another purpose
    assert world.derived_violation(None, E, "PRE_LOAN") is not None  # a refused caller
