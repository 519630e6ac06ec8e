"""The unified social credit code (GB 32100-2015): its code set, its shape and its check digit, checked alike by every
service (the registry adds the authority and type codes it registers under)."""

from __future__ import annotations

import re

from stdnum.cn.uscc import calc_check_digit

from services.kit.errors import InvalidArgument

# Digits and upper-case letters without I, O, S, V, Z.
CODE_SET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Two code-set characters (authority, type), six region digits, nine of the organization code and the check digit.
SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")
_CODE_SET = frozenset(CODE_SET)


def problem(code: str) -> str | None:
    """What makes ``code`` no USCC (length, code set, region digits, check digit), or None when it is one."""
    if len(code) != 18:
        return "length must be 18"
    if not set(code) <= _CODE_SET:
        return "characters outside the GB 32100 code set (no I, O, S, V, Z)"
    if not code[2:8].isdigit():
        return "administrative division code must be six digits"
    if code[17] != calc_check_digit(code[:17]):
        return "check digit"
    return None


def invalid_uscc(field: str, problem: str) -> InvalidArgument:
    # Never echo the code itself: it identifies an enterprise.
    return InvalidArgument(
        "ERROR_REASON_INVALID_USCC",
        f"{field}: invalid unified social credit code: {problem}",
        {"field": field, "problem": problem},
    )


def check(code: str, field: str) -> str:
    """``code`` when it is a USCC; INVALID_ARGUMENT ``ERROR_REASON_INVALID_USCC`` naming ``field`` otherwise."""
    wrong = problem(code)
    if wrong is not None:
        raise invalid_uscc(field, wrong)
    return code


def enterprise_code(name: str, field: str = "enterprise") -> str:
    """The USCC in an ``enterprises/{uscc}`` name, checked in full."""
    if not name.startswith("enterprises/"):
        raise invalid_uscc(field, "must be enterprises/{uscc}")
    return check(name.removeprefix("enterprises/"), field)
