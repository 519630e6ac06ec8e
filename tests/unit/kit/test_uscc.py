"""The kit's USCC check, the one the gateway, objection, consent and scoring apply (the registry adds authorities)."""

from __future__ import annotations

import pytest

from services.kit import uscc
from services.kit.errors import InvalidArgument
from tests.conftest import SHARED_TESTDATA

PUBLISHED = [
    line.strip() for line in (SHARED_TESTDATA / "uscc" / "valid-published.txt").read_text().splitlines() if line.strip()
]
GOOD = next(code for code in PUBLISHED if not code[8:].isdigit())  # letters to lower-case


def test_published_codes_pass_and_match_the_shape() -> None:
    assert len(PUBLISHED) == 200
    for code in PUBLISHED:
        assert uscc.problem(code) is None
        assert uscc.SHAPE.fullmatch(code)


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        (GOOD[:17], "length must be 18"),
        (GOOD + "1", "length must be 18"),
        ("I" + GOOD[1:], "characters outside the GB 32100 code set (no I, O, S, V, Z)"),
        (GOOD.lower(), "characters outside the GB 32100 code set (no I, O, S, V, Z)"),
        (GOOD[:2] + "A" + GOOD[3:], "administrative division code must be six digits"),
        (GOOD[:2] + "\u0663" + GOOD[3:], "characters outside the GB 32100 code set (no I, O, S, V, Z)"),
    ],
)
def test_malformed_codes_name_what_is_wrong_and_are_never_echoed(code: str, problem: str) -> None:
    assert uscc.problem(code) == problem
    with pytest.raises(InvalidArgument) as err:
        uscc.check(code, "enterprise")
    assert (err.value.reason, err.value.metadata) == (
        "ERROR_REASON_INVALID_USCC",
        {"field": "enterprise", "problem": problem},
    )
    assert code not in err.value.message


def test_every_wrong_check_digit_is_refused() -> None:
    wrong = [c for c in uscc.CODE_SET if c != GOOD[17]]
    assert len(wrong) == 30
    assert {uscc.problem(GOOD[:17] + c) for c in wrong} == {"check digit"}


def test_an_enterprise_name_must_carry_its_collection() -> None:
    assert uscc.enterprise_code(f"enterprises/{GOOD}") == GOOD
    for name in (GOOD, f"enterprise/{GOOD}", f"enterprises/{GOOD[:17]}X"[:-1] + "!"):
        with pytest.raises(InvalidArgument) as err:
            uscc.enterprise_code(name, "name")
        assert err.value.metadata["field"] == "name"
