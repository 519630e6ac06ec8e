"""Small input checks shared by every API: required text, lengths, identifiers. Errors name the field."""

from __future__ import annotations

import re

from services.kit.errors import InvalidArgument
from services.kit.evidence.entries import holds_personal_number

_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$")


def invalid(field: str, problem: str) -> InvalidArgument:
    return InvalidArgument("ERROR_REASON_INVALID_FIELD", f"{field}: {problem}", {"field": field, "problem": problem})


def text(field: str, value: str, *, max_len: int, required: bool = True) -> str:
    """Trimmed text within ``max_len`` characters; no control characters."""
    value = value.strip()
    if required and not value:
        raise invalid(field, "is required")
    if len(value) > max_len:
        raise invalid(field, f"longer than {max_len} characters")
    if _controls(value, allowed="\n\t"):
        raise invalid(field, "contains control characters")
    return value


def _controls(value: str, allowed: str = "") -> bool:
    """Whether ``value`` holds a C0 control (but ``allowed``), DEL or a C1 control (U+0080-U+009F: NEL, CSI...)."""
    return any((ord(c) < 32 and c not in allowed) or 0x7F <= ord(c) <= 0x9F for c in value)


def identifier(field: str, value: str) -> str:
    """2-40 lower-case letters, digits and dashes, not starting or ending with a dash."""
    if not _ID.fullmatch(value):
        raise invalid(field, "must be 2-40 lower-case letters, digits and dashes")
    return value


def resource_id(field: str, name: str, collection: str) -> str:
    """The id in ``{collection}/{id}``; INVALID_ARGUMENT if the name has another shape."""
    prefix = f"{collection}/"
    if not name.startswith(prefix):
        raise invalid(field, f"must look like {collection}/{{id}}")
    return name[len(prefix) :]


def request_id(value: str) -> str:
    """A caller's retry key, stored as given: PostgreSQL cannot store a NUL, and no id holds a control character.
    Evidence leaves record it, and refuse a payload holding a resident ID or mobile number: such an id is refused here,
    before anything is read or spent, not when the release it names is about to be recorded."""
    if len(value) > 64:
        raise invalid("request_id", "longer than 64 characters")
    if _controls(value):
        raise invalid("request_id", "contains control characters")
    if holds_personal_number(value):
        raise invalid("request_id", "looks like a personal number; use a token of your own")
    return value
