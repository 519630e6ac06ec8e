"""Unified social credit code rules (GB 32100-2015), with the embedded organization code (GB 11714)."""

from __future__ import annotations

from dataclasses import dataclass

from stdnum.cn import uscc as stdnum_uscc

from services.kit.errors import InvalidArgument

# GB 32100-2015 code set: digits and upper-case letters without I, O, S, V, Z.
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

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


def _invalid(problem: str) -> InvalidArgument:
    # Never echo the code itself: it identifies an enterprise.
    return InvalidArgument(
        "ERROR_REASON_INVALID_USCC",
        f"invalid unified social credit code: {problem}",
        {"field": "uscc", "problem": problem},
    )


def org_code_check_digit(body: str) -> str:
    """GB 11714 check digit over the first eight characters of an organization code."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    digit = 11 - total % 11
    return {10: "X", 11: "0"}.get(digit, str(digit))


def validate_uscc(raw: str) -> UsccCheck:
    """Check length, code set, authority and type codes, region digits and the check digit; name what is wrong."""
    code = raw.strip().upper()
    if len(code) != 18:
        raise _invalid("length must be 18")
    bad = sorted({c for c in code if c not in ALPHABET})
    if bad:
        raise _invalid("characters outside the GB 32100 code set (no I, O, S, V, Z)")
    authority, kind = code[0], code[1]
    if authority not in AUTHORITY_TYPES:
        raise _invalid("unknown registration authority code")
    if kind not in AUTHORITY_TYPES[authority]:
        raise _invalid("organization type code not allowed for its registration authority")
    if not code[2:8].isdigit():
        raise _invalid("administrative division code must be six digits")
    if code[17] != stdnum_uscc.calc_check_digit(code[:17]):
        raise _invalid("check digit")
    org = code[8:17]
    warning = org_code_check_digit(org[:8]) != org[8]
    return UsccCheck(code=code, legacy_org_code_warning=warning)


def make_uscc(authority: str, kind: str, region: str, org_body: str) -> str:
    """Build a valid code from its parts (used by the demo province and tests)."""
    org = org_body + org_code_check_digit(org_body)
    first17 = authority + kind + region + org
    return first17 + stdnum_uscc.calc_check_digit(first17)
