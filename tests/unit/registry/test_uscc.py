"""GB 32100-2015 unified social credit codes, with the GB 11714 organization code inside."""

from __future__ import annotations

import pytest

from services.kit.errors import InvalidArgument
from services.registry.domain.uscc import make_uscc, org_code_check_digit, validate_uscc
from tests.conftest import SHARED_TESTDATA

PUBLISHED = [
    line.strip() for line in (SHARED_TESTDATA / "uscc" / "valid-published.txt").read_text().splitlines() if line.strip()
]
VALID = make_uscc("9", "1", "610131", "MA6TX0Q1")


def test_all_200_published_codes_pass() -> None:
    assert len(PUBLISHED) == 200
    for code in PUBLISHED:
        check = validate_uscc(code)
        assert check.code == code
        assert not check.legacy_org_code_warning


def _problem(code: str) -> str:
    with pytest.raises(InvalidArgument) as err:
        validate_uscc(code)
    assert err.value.reason == "ERROR_REASON_INVALID_USCC"
    assert not code or code not in err.value.message  # the code identifies an enterprise: never echoed
    return err.value.metadata["problem"]


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        (VALID[:17], "length must be 18"),
        (VALID + "0", "length must be 18"),
        ("", "length must be 18"),
        *[
            (VALID[:9] + bad + VALID[10:], "characters outside the GB 32100 code set (no I, O, S, V, Z)")
            for bad in "IOSVZ"
        ],
        (VALID[:5] + "-" + VALID[6:], "characters outside the GB 32100 code set (no I, O, S, V, Z)"),
        ("B" + VALID[1:], "unknown registration authority code"),
        ("94" + VALID[2:], "organization type code not allowed for its registration authority"),
        (VALID[:2] + "6A" + VALID[4:], "administrative division code must be six digits"),
    ],
)
def test_malformed_codes_name_what_is_wrong(code: str, problem: str) -> None:
    assert _problem(code) == problem


def test_every_wrong_check_digit_is_refused() -> None:
    for digit in "0123456789ABCDEFGHJKLMNPQRTUWXY":
        if digit != VALID[17]:
            assert _problem(VALID[:17] + digit) == "check digit"


def test_lower_case_and_spaces_are_normalised() -> None:
    assert validate_uscc(f"  {VALID.lower()} ").code == VALID


def test_legacy_code_failing_only_the_inner_check_is_accepted_with_a_warning() -> None:
    body = "MA6TX0Q1"
    wrong_inner = "0" if org_code_check_digit(body) != "0" else "1"
    first17 = "91610131" + body + wrong_inner
    from stdnum.cn import uscc

    code = first17 + uscc.calc_check_digit(first17)
    check = validate_uscc(code)
    assert check.legacy_org_code_warning


def test_org_code_check_digit_matches_gb11714_examples() -> None:
    # Each published code embeds an organization code whose ninth character is its GB 11714 check digit.
    for code in PUBLISHED[:50]:
        assert org_code_check_digit(code[8:16]) == code[16]
