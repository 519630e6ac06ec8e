"""Unified social credit code rules (GB 32100-2015), with the embedded organization code (GB 11714)."""

from __future__ import annotations

from dataclasses import dataclass

from stdnum.cn import uscc as stdnum_uscc

from services.kit.uscc import CODE_SET, invalid_uscc, problem

# GB 32100-2015 code set: digits and upper-case letters without I, O, S, V, Z.
ALPHABET = CODE_SET

# Registration management authority (登记管理部门) -> allowed organization type codes (机构类别).
AUTHORITY_TYPES: dict[str, str] = {
    "1": "1239",  # 机构编制: organs, public institutions, central-managed, other
    "2": "19",  # 外交
    "3": "12349",  # 司法行政: law firms, notaries, arbitration, judicial appraisal, other
    "4": "19",  # 文化
    "5": "1239",  # 民政: social groups, private non-enterprise units, foundations, other
    "6": "129",  # 旅游
    "7": "129",  # 宗教
    "8": "19",  # 工会
    "9": "123",  # 工商 (market regulation): enterprises, individual businesses, farmers' cooperatives
    "A": "19",  # 中央军委改革和编制办公室
    "N": "12349",  # 农业
    "Y": "1",  # 其他
}

_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class UsccCheck:
    """A code that passed validation; ``legacy_org_code_warning`` flags an inner GB 11714 check-digit failure."""

    code: str
    legacy_org_code_warning: bool


def org_code_check_digit(body: str) -> str:
    """GB 11714 check digit over the first eight characters of an organization code."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    digit = 11 - total % 11
    return {10: "X", 11: "0"}.get(digit, str(digit))


# The kit's findings that an 18-character code of the code set can have: reported after the authority's.
_AFTER_AUTHORITY = frozenset({"administrative division code must be six digits", "check digit"})


def _authority_problem(code: str) -> str | None:
    if code[0] not in AUTHORITY_TYPES:
        return "unknown registration authority code"
    if code[1] not in AUTHORITY_TYPES[code[0]]:
        return "organization type code not allowed for its registration authority"
    return None


def validate_uscc(raw: str) -> UsccCheck:
    """The kit's check (length, code set, region digits, check digit), then the authority and its type codes; the
    error names what is wrong, never the code."""
    code = raw.strip().upper()
    wrong = problem(code)
    if wrong is None or wrong in _AFTER_AUTHORITY:
        # A wrong authority or type code also spoils the check digit: name the cause.
        wrong = _authority_problem(code) or wrong
    if wrong is not None:
        raise invalid_uscc("uscc", wrong)
    org = code[8:17]
    warning = org_code_check_digit(org[:8]) != org[8]
    return UsccCheck(code=code, legacy_org_code_warning=warning)


def make_uscc(authority: str, kind: str, region: str, org_body: str) -> str:
    """Build a valid code from its parts (used by the demo province and tests)."""
    org = org_body + org_code_check_digit(org_body)
    first17 = authority + kind + region + org
    return first17 + stdnum_uscc.calc_check_digit(first17)
