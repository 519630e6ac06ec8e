"""Checks the registry's APIs share: names that must hold a code, item codes, and page-token positions.

A page token is only base64 JSON bound to its query, so a client can forge one around any position: the position is
checked for the shape the list issues before it reaches a query (a NUL or an out-of-range number would otherwise fail
in the database, as INTERNAL).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from services.kit import paging, validation
from services.kit.errors import InvalidArgument
from services.registry.domain.uscc import ALPHABET

USCC_SHAPE = re.compile(f"[{ALPHABET}]{{18}}")
ITEM_CODE = re.compile(r"[A-Z][A-Z0-9_]{1,63}")  # as the sharing list names items
PARTICIPANT_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,38}[a-z0-9]")  # platform, institution and department ids
MAX_ROW_ID = 2**31 - 1  # the registry's row ids (history, breaches) are 32-bit integers
# A filter's item codes: far more than any sharing list holds. Each is a bound parameter of a read's IN, and
# PostgreSQL takes at most 65535 of them (past that the read failed as if the database were down).
MAX_ITEM_CODES = 1000


def after_key(token: str, query: object, shape: re.Pattern[str]) -> str | None:
    """The position of a token whose positions are keys of ``shape``; INVALID_PAGE_TOKEN for any other."""
    after = paging.decode_token(token, query)
    if after is not None and not shape.fullmatch(after):
        raise paging.bad_page_token()
    return after


def after_row(token: str, query: object) -> int | None:
    """The position of a token whose positions are the registry's 32-bit row ids."""
    after = paging.decode_index_token(token, query)
    if after is not None and after > MAX_ROW_ID:
        raise paging.bad_page_token()
    return after


def uscc_of(name: str, field: str) -> str:
    """The code in "enterprises/{uscc}": 18 characters of the GB 32100 code set, or INVALID_USCC naming ``field``.

    Only the shape: a code failing its check digit is never registered, so it is simply not found."""
    uscc = validation.resource_id(field, name, "enterprises")
    if not USCC_SHAPE.fullmatch(uscc):
        raise InvalidArgument(
            "ERROR_REASON_INVALID_USCC",
            f"{field} must be enterprises/{{uscc}} with an 18-character code",
            {"field": field, "problem": "shape"},
        )
    return uscc


def item_codes(codes: Iterable[str], field: str = "item_codes") -> list[str]:
    """Item codes of a filter, each one shaped like a sharing-list item code."""
    out = list(codes)
    if len(out) > MAX_ITEM_CODES:
        raise validation.invalid(field, f"at most {MAX_ITEM_CODES} item codes")
    if not all(ITEM_CODE.fullmatch(c) for c in out):
        raise validation.invalid(field, "item codes are upper-case letters, digits and underscores")
    return out
