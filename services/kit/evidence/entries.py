"""Leaf entries: what a leaf records, the payload rule (ids and hashes, never personal data) and canonical JSON.

The payload rule: a payload names things by id (``platforms/xian``, ``authorizations/…``, request ids) and binds
content by hash (``sha256:…`` of the released fields), never by value. It must never hold raw personal data: no
names of people, resident ID numbers, mobile numbers, addresses or released record values. ``check_payload``
enforces what can be checked mechanically (types, sizes, key shapes, identifier- and phone-shaped keys and values,
looked for in the NFKC form of each string with other scripts' decimal digits read as ASCII ones, with the usual
single space or hyphen between groups, and in the decimal text of each integer); the rest is the calling service's
duty, because a leaf can never be deleted once appended.

Canonical JSON: UTF-8, keys sorted, no insignificant spaces, no floats (their text form is not portable), integers
within +-(2**53 - 1), ASCII keys. Any JSON library re-serializing a parsed entry this way gets the same bytes.
Readers refuse what would let the text shown differ from the text hashed: a repeated key in an object
(``loads_strict``), NaN or Infinity, times with other than ASCII digits, and an entry whose parsed object is not
exactly its canonical form (``1.0`` or ``true`` for the version, say).
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from stdnum.cn import ric, uscc

from services.kit import merkle
from services.kit.errors import InvalidArgument

ENTRY_VERSION = 1
MAX_PAYLOAD_BYTES = 16 * 1024
MAX_DEPTH = 6
MAX_STRING = 2048
MAX_SAFE_INT = 2**53 - 1

_REASON = "ERROR_REASON_EVIDENCE_PAYLOAD_REJECTED"
_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
# Keys that can only mean personal data; "name" stays allowed because resource names are ids.
_PERSONAL_KEYS = frozenset(
    {
        "id_number",
        "id_card",
        "identity_number",
        "phone",
        "mobile",
        "telephone",
        "person_name",
        "legal_representative",
        "legal_person",
        "contact_name",
        "address",
        "email",
    }
)
# Personal numbers are looked for in the NFKC form of a string (full-width digits, letters, '＋' and separators become
# ASCII), bounded by letters too, so digit runs inside hex digests and ids like "ID110101..." do not trip them. The
# usual written groups may be separated by one space or hyphen: 110101 19900101 1234, 138-0013-8000, +86 138 0013 8000.
_SEP = "[ \\-]?"
_ID_NUMBER = re.compile(
    rf"(?<![0-9A-Za-z])\d{{6}}{_SEP}(?:19|20)\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]){_SEP}\d{{3}}[\dXx]"
    r"(?![0-9A-Za-z])"
)
# The country code as +86, 0086 or 86: glued on, the number is preceded by a digit the bounds above would stop at.
_MOBILE = re.compile(rf"(?<![0-9A-Za-z])(?:(?:\+|00)?86{_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?![0-9A-Za-z])")
# Either of the two in one scan; which one it was is asked only on a hit.
_PERSONAL_VALUE = re.compile(f"(?P<id>{_ID_NUMBER.pattern})|{_MOBILE.pattern}")
# A decimal digit other than ASCII's.
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")
# The smallest integer whose decimal text can be a mobile number (11 digits).
_MIN_MOBILE_INT = 10**10
# ASCII digits only: \d (and strptime) also take other Unicode digits, text that is not what the leaf hash covers.
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")


class LeafKind(StrEnum):
    """What a leaf records; the names match ``creditnode.evidence.v1.LeafKind`` without the prefix."""

    DISCLOSURE = "DISCLOSURE"
    CONSENT_EVENT = "CONSENT_EVENT"
    OBJECTION_STEP = "OBJECTION_STEP"
    STATUS_CHANGE = "STATUS_CHANGE"
    RECORD_CHANGE = "RECORD_CHANGE"
    KEY_ROTATION = "KEY_ROTATION"


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        # Readers disagree on which value counts (Python keeps the last, others the first or refuse): a document
        # with a repeated key can show a person one thing while another is hashed or signed.
        raise ValueError("a JSON object repeats a key")
    return out


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads_strict(text: str | bytes) -> Any:
    """``json.loads`` refusing what JSON readers disagree on: repeated keys in an object, NaN and Infinity.
    ValueError otherwise."""
    return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_no_constant)


def canonical_json(value: Any) -> str:
    """The one text form that is hashed: sorted keys, no spaces, UTF-8 characters kept as they are."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def _reject(path: str, problem: str) -> InvalidArgument:
    # The message names the field and the problem, never the value (it may be the very personal data refused).
    return InvalidArgument(_REASON, f"{path}: {problem}", {"field": path, "problem": problem})


class _Refused(Exception):
    """A problem found deep in a payload; each level adds its step to the path while the exception unwinds, so a
    good payload (every call on the hot path) never pays for building paths."""

    def __init__(self, problem: str, step: str = "") -> None:
        self.problem = problem
        self.steps = [step] if step else []  # innermost first; reversed once at the top

    def at(self, step: str) -> _Refused:
        self.steps.append(step)
        return self


def _scan(text: str) -> None:
    """Refuse ``text`` if it holds a resident ID or mobile number; one regex pass when it holds neither."""
    if _PERSONAL_VALUE.search(text) is None:
        return
    for match in _PERSONAL_VALUE.finditer(text):
        if match.group("id") is None:
            raise _Refused("looks like a mobile number")
        if _is_personal_id(match.group("id")):
            raise _Refused("looks like a resident ID number")


def _digit(m: re.Match[str]) -> str:
    return str(unicodedata.decimal(m.group()))


def _scanned_form(text: str) -> str:
    """``text`` as it is scanned: ASCII is its own form; anything else is taken in NFKC (full-width digits, letters,
    '＋' and separators become ASCII) with every other script's decimal digits as ASCII digits, which NFKC leaves
    alone though int() and \\d read them (١٣٨…, १३८…)."""
    if text.isascii():
        return text
    return _OTHER_DIGIT.sub(_digit, unicodedata.normalize("NFKC", text))


def holds_personal_number(text: str) -> bool:
    """Whether a payload would be refused for holding ``text`` (a resident ID or mobile number in it)."""
    try:
        _scan(_scanned_form(text))
    except _Refused:
        return True
    return False


@functools.lru_cache(maxsize=4096)
def _is_personal_id(text: str) -> bool:
    """Whether an ID-shaped match is to be refused. An enterprise's unified social credit code (USCC) has the same
    shape (2 digits, a 6-digit division, then 10 more) and enterprises are named by it, so a match is let through
    only when it is a valid USCC and not a valid resident ID; anything else ID-shaped is refused. Cached: the same
    enterprises appear in leaf after leaf."""
    return ric.is_valid(text) or not uscc.is_valid(text)


def _check_scalar(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INT:
            raise _Refused("integer outside +-(2**53 - 1)")
        if abs(value) >= _MIN_MOBILE_INT:  # 13800138000 is a mobile number whether quoted or not
            _scan(str(value))
        return value
    if isinstance(value, float):
        raise _Refused("floats are not allowed; use an integer or a string")
    if isinstance(value, str):
        if len(value) > MAX_STRING:
            raise _Refused(f"string longer than {MAX_STRING} characters")
        _scan(_scanned_form(value))  # so full-width or other scripts' digits cannot hide a number
        return value
    raise _Refused(f"type {type(value).__name__} is not JSON")


def _check(value: Any, depth: int) -> Any:
    if depth > MAX_DEPTH:
        raise _Refused(f"nested deeper than {MAX_DEPTH} levels")
    if value is None:
        return None
    if isinstance(value, str):  # the common case first
        return _check_scalar(value)
    if isinstance(value, list | tuple):
        out_list = []
        for i, v in enumerate(value):
            try:
                out_list.append(_check(v, depth + 1))
            except _Refused as refused:
                raise refused.at(f"[{i}]") from None
        return out_list
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, v in value.items():
            if not isinstance(key, str) or not _KEY.fullmatch(key):
                raise _Refused("keys must be 1-64 ASCII letters, digits, '_', '.' or '-', not starting with a digit")
            if key.lower() in _PERSONAL_KEYS:
                raise _Refused("this key can only hold personal data", f".{key}")
            try:
                _scan(key)  # a key is kept in the leaf as much as a value is
            except _Refused as refused:
                # the path stops at the object: the key itself is the personal number
                raise _Refused(f"a key {refused.problem}") from None
            try:
                out[key] = _check(v, depth + 1)
            except _Refused as refused:
                raise refused.at(f".{key}") from None
        return out
    return _check_scalar(value)


def check_payload(payload: Mapping[str, Any]) -> dict[str, Any]:
    """A validated, plain copy of ``payload``; INVALID_ARGUMENT (EVIDENCE_PAYLOAD_REJECTED) names the bad field."""
    if not isinstance(payload, Mapping):
        raise _reject("payload", "must be a JSON object")
    try:
        checked: dict[str, Any] = _check(payload, 0)
    except _Refused as refused:
        raise _reject("payload" + "".join(reversed(refused.steps)), refused.problem) from None
    if len(canonical_json(checked).encode()) > MAX_PAYLOAD_BYTES:
        raise _reject("payload", f"larger than {MAX_PAYLOAD_BYTES} bytes as canonical JSON")
    return checked


SUBJECT_KEY = "enterprise"
MAX_SUBJECT_CHARS = 200


def leaf_subject(payload: Mapping[str, Any]) -> str | None:
    """Whom a leaf is about, kept in an indexed column so one enterprise's leaves are found without a scan: the
    payload's top-level ``enterprise`` when it is a string of at most MAX_SUBJECT_CHARS (a longer one, only ever
    malformed input that was refused, is found by scanning)."""
    value = payload.get(SUBJECT_KEY)
    return value if isinstance(value, str) and len(value) <= MAX_SUBJECT_CHARS else None


def format_time(at: datetime) -> str:
    """RFC 3339 in UTC with exactly six fractional digits, as hashed."""
    if at.tzinfo is None:
        raise ValueError("evidence times must be timezone-aware")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str) -> datetime:
    """The inverse of ``format_time``; anything else is ValueError."""
    if not isinstance(text, str) or not _TIME.fullmatch(text):
        raise ValueError("time is not RFC 3339 UTC with six fractional digits")
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class Entry:
    """One leaf's content; its canonical JSON is exactly what the leaf hash covers."""

    kind: LeafKind
    created_at: datetime
    payload: dict[str, Any]

    def to_obj(self) -> dict[str, Any]:
        return {
            "created_at": format_time(self.created_at),
            "kind": self.kind.value,
            "payload": self.payload,
            "v": ENTRY_VERSION,
        }

    def to_json(self) -> str:
        return canonical_json(self.to_obj())

    def leaf_hash(self) -> bytes:
        return merkle.leaf_hash(self.to_json().encode())

    @classmethod
    def from_obj(cls, obj: Any) -> Entry:
        """Parse an entry object (from a receipt or the store); ValueError says what is wrong."""
        if not isinstance(obj, Mapping) or set(obj) != {"created_at", "kind", "payload", "v"}:
            raise ValueError("an entry has exactly the keys created_at, kind, payload and v")
        if type(obj["v"]) is not int or obj["v"] != ENTRY_VERSION:  # not True, not 1.0
            raise ValueError(f"entry version must be {ENTRY_VERSION}")
        try:
            kind = LeafKind(obj["kind"])
        except ValueError:
            raise ValueError("unknown leaf kind") from None
        try:
            payload = check_payload(obj["payload"])
        except InvalidArgument as exc:
            raise ValueError(f"payload rejected: {exc.message}") from None
        entry = cls(kind=kind, created_at=parse_time(obj["created_at"]), payload=payload)
        # What is hashed is the entry's canonical text, so the object read must be exactly what that text says
        # (no 1.0 for 1, no other digits in a time): a verifier must never vouch for something else than it hashed.
        try:
            same = canonical_json(obj) == entry.to_json()
        except (TypeError, ValueError):
            same = False
        if not same:
            raise ValueError("the entry is not exactly its canonical form")
        return entry

    @classmethod
    def from_json(cls, text: str) -> Entry:
        """Parse an entry's JSON text, refusing repeated keys; the text itself need not be canonical (the audit
        reports that separately), but what it says must be exactly what its canonical form says."""
        return cls.from_obj(loads_strict(text))
