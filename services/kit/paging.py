"""Opaque page tokens bound to the query they came from, so a token cannot be replayed against another query."""

from __future__ import annotations

import base64
import hashlib
import json
import re

from services.kit.errors import InvalidArgument

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# A position that is a row id or a log index: ASCII digits only (int() also takes other scripts' digits and signs).
_INDEX = re.compile(r"[0-9]{1,18}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A position is a key of the list (an id, a time and an id): never longer than this.
MAX_POSITION_CHARS = 512


def page_size(requested: int) -> int:
    if requested < 0:
        raise InvalidArgument("ERROR_REASON_INVALID_FIELD", "page_size must not be negative", {"field": "page_size"})
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def bad_page_token() -> InvalidArgument:
    return InvalidArgument("ERROR_REASON_INVALID_PAGE_TOKEN", "page_token is not valid", {"field": "page_token"})


def index_position(after: str) -> int:
    """A position that is a number (a row id, a log index, a time in microseconds); INVALID_PAGE_TOKEN otherwise."""
    if not _INDEX.fullmatch(after):
        raise bad_page_token()
    return int(after)


def _fingerprint(query: object) -> str:
    return hashlib.sha256(json.dumps(query, sort_keys=True, default=str).encode()).hexdigest()[:16]


def encode_token(after: str, query: object) -> str:
    """A token meaning "continue after ``after`` for this ``query``"."""
    raw = json.dumps({"a": after, "q": _fingerprint(query)}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def decode_token(token: str, query: object) -> str | None:
    """The key to continue after, or None for the first page; INVALID_ARGUMENT for a foreign or damaged token."""
    if not token:
        return None
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        after, fingerprint = data["a"], data["q"]
    except (ValueError, KeyError, TypeError):
        raise bad_page_token() from None
    if fingerprint != _fingerprint(query) or not isinstance(after, str):
        raise InvalidArgument(
            "ERROR_REASON_INVALID_PAGE_TOKEN", "page_token belongs to a different query", {"field": "page_token"}
        )
    if len(after) > MAX_POSITION_CHARS or _CONTROL.search(after):
        # No list issues such a position: it was forged, and a NUL would fail in PostgreSQL as INTERNAL.
        raise bad_page_token()
    return after


def decode_index_token(token: str, query: object) -> int | None:
    """``decode_token`` for a position that is a number (a row id, a log index); INVALID_ARGUMENT if it is not one."""
    after = decode_token(token, query)
    return None if after is None else index_position(after)
