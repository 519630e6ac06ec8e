"""Leaf entries: canonical JSON, and the payload rule (ids and hashes, never personal data)."""

from __future__ import annotations

import hashlib
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from stdnum.cn import ric, uscc

from services.kit import merkle
from services.kit.errors import InvalidArgument
from services.kit.evidence.entries import (
    Entry,
    LeafKind,
    canonical_json,
    check_payload,
    format_time,
    loads_strict,
    parse_time,
)

AT = datetime(2026, 11, 29, 8, 30, 0, 123456, tzinfo=UTC)


def test_canonical_json_sorts_keys_and_has_no_spaces() -> None:
    assert canonical_json({"b": [1, {"d": None, "c": True}], "a": "陕西"}) == '{"a":"陕西","b":[1,{"c":true,"d":null}]}'


def test_entry_hashes_its_canonical_text_and_round_trips() -> None:
    entry = Entry(LeafKind.DISCLOSURE, AT, {"requester": "platforms/xian", "items": ["tax.summary"], "n": 3})
    text = entry.to_json()
    assert text == (
        '{"created_at":"2026-11-29T08:30:00.123456Z","kind":"DISCLOSURE",'
        '"payload":{"items":["tax.summary"],"n":3,"requester":"platforms/xian"},"v":1}'
    )
    assert entry.leaf_hash() == merkle.leaf_hash(text.encode())
    assert Entry.from_json(text) == entry


def test_times_are_utc_with_microseconds_whatever_the_zone_given() -> None:
    beijing = timezone(timedelta(hours=8))
    assert format_time(AT.astimezone(beijing)) == "2026-11-29T08:30:00.123456Z"
    assert parse_time("2026-11-29T08:30:00.123456Z") == AT
    with pytest.raises(ValueError, match="timezone-aware"):
        format_time(datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_time("2026-11-29T08:30:00Z")


@pytest.mark.parametrize(
    "text",
    [
        "２０２６-11-29T08:30:00.123456Z",  # full-width digits
        "2026-11-29T08:30:00.12345٦Z",  # an Arabic-Indic digit
        "2026-11-29T08:30:00.123456Z\n",
    ],
)
def test_times_have_ascii_digits_only(text: str) -> None:
    with pytest.raises(ValueError, match="RFC 3339"):
        parse_time(text)


def test_entry_text_with_a_repeated_key_or_a_non_canonical_value_is_refused() -> None:
    text = Entry(LeafKind.DISCLOSURE, AT, {"requester": "platforms/xian"}).to_json()
    for forged in [
        text.replace('"requester":', '"requester":"platforms/baoji","requester":'),
        text.replace('"kind":"DISCLOSURE"', '"kind":"DISCLOSURE","kind":"DISCLOSURE"'),
        text.replace('"v":1', '"v":1.0'),
        text.replace('"v":1', '"v":true'),
        text.replace('"v":1', '"v":NaN'),
    ]:
        assert forged != text
        with pytest.raises(ValueError):  # noqa: PT011 (each case fails a different check)
            Entry.from_json(forged)
    assert loads_strict('{"a":{"b":1}}') == {"a": {"b": 1}}
    with pytest.raises(ValueError, match="repeats a key"):
        loads_strict('[{"a":1,"a":1}]')


def _rejected(payload: Any) -> InvalidArgument:
    with pytest.raises(InvalidArgument) as err:
        check_payload(payload)
    assert err.value.reason == "ERROR_REASON_EVIDENCE_PAYLOAD_REJECTED"
    return err.value


@pytest.mark.parametrize(
    ("payload", "field", "problem"),
    [
        ({"amount": 1.5}, "payload.amount", "floats"),
        ({"n": 2**53}, "payload.n", "integer outside"),
        ({"subject": "61010319900307123X"}, "payload.subject", "resident ID number"),
        ({"notes": ["called 13912345678 today"]}, "payload.notes[0]", "mobile number"),
        ({"contact": {"mobile": "hidden"}}, "payload.contact.mobile", "personal data"),
        ({"id_number": "x"}, "payload.id_number", "personal data"),
        ({"1st": "x"}, "payload", "keys must be"),
        ({"a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}, "payload.a.b.c.d.e.f.g", "nested deeper"),
        ({"blob": b"raw"}, "payload.blob", "not JSON"),
        ({"text": "x" * 3000}, "payload.text", "longer than"),
    ],
)
def test_payload_rule_names_the_field_and_never_echoes_the_value(payload: Any, field: str, problem: str) -> None:
    err = _rejected(payload)
    assert err.metadata["field"] == field
    assert problem in err.metadata["problem"]
    assert "61010319900307123X" not in err.message
    assert "13912345678" not in err.message


def _in_digits(text: str, zero: str) -> str:
    """``text`` with its digits written in another script's decimal digits, ``zero`` being that script's 0."""
    return "".join(chr(ord(zero) + int(c)) for c in text)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("１３８００１３８０００", "mobile number"),  # full-width digits
        ("电话１３８００１３８０００", "mobile number"),
        ("１１０１０１１９９００１０１１２３４", "resident ID number"),
        ("11010119900101123Ｘ", "resident ID number"),  # a full-width X
        ("138-0013-8000", "mobile number"),
        ("138 0013 8000", "mobile number"),
        ("+86 138 0013 8000", "mobile number"),
        ("+86-138-0013-8000", "mobile number"),
        ("＋８６　１３８　００１３　８０００", "mobile number"),  # full-width plus, digits and ideographic spaces
        ("110101 19900101 1234", "resident ID number"),
        ("110101-19900101-123X", "resident ID number"),
        ("008613800138000", "mobile number"),  # the international prefix glued on, as +86 and 86 may be
        ("0086-138-0013-8000", "mobile number"),
        # Arabic-Indic and Devanagari digits: NFKC leaves them as they are, but int() and \d read them as digits
        (_in_digits("13800138000", "\u0660"), "mobile number"),
        (_in_digits("110101199001011234", "\u0966"), "resident ID number"),
    ],
)
def test_personal_numbers_are_refused_in_full_width_and_separated_forms(value: str, problem: str) -> None:
    err = _rejected({"notes": [value]})
    assert err.metadata["field"] == "payload.notes[0]"
    assert problem in err.metadata["problem"]
    assert value not in err.message


@pytest.mark.parametrize("value", [13800138000, -13800138000, 8613800138000])
def test_a_mobile_number_given_as_an_integer_is_refused(value: int) -> None:
    err = _rejected({"contact_ref": value})
    assert err.metadata["field"] == "payload.contact_ref"
    assert "mobile number" in err.metadata["problem"]


def test_digits_right_after_letters_or_in_other_groupings_still_pass() -> None:
    payload = {
        "a": "tel13800138000",
        "b": "ID110101199001011234",
        "c": "ＩＤ１１０１０１１９９００１０１１２３４",  # full-width letters are letters too
        "d": "138  0013 8000",  # two spaces is not a usual grouping
        "e": "12345678901",  # no mobile starts 12
        "at_ms": 1_795_000_000_000,
        "at_us": 1_795_000_000_000_000,
        "count": 12_000_000_000,
        "when": "2026-11-29T08:30:00.123456Z",
        "request": "123e4567-e89b-12d3-a456-426614174000",
    }
    assert check_payload(payload) == payload


@pytest.mark.parametrize("code", ["91110119050315121X", "91110119 050315121X", "９１１１０１１９０５０３１５１２１Ｘ"])
def test_an_enterprise_named_by_a_valid_uscc_of_resident_id_shape_passes(code: str) -> None:
    ascii_code = unicodedata.normalize("NFKC", code)
    assert uscc.is_valid(ascii_code)
    assert not ric.is_valid(ascii_code)
    payload = {"enterprise": f"enterprises/{code}", "subjects": [code]}
    assert check_payload(payload) == payload


@pytest.mark.parametrize(
    "value",
    [
        "11010519491231002X",  # a valid resident ID, not a USCC
        "110105194912080076",  # both a valid resident ID and a valid USCC: still a person's number
        "110101199001011234",  # neither (bad check digits): ID-shaped, so refused
        "enterprises/91110119050315121X 11010519491231002X",  # a USCC does not let the ID after it through
    ],
)
def test_an_id_shaped_value_passes_only_as_a_valid_uscc_that_is_no_resident_id(value: str) -> None:
    assert "resident ID number" in _rejected({"subject": value}).metadata["problem"]


def test_payload_size_is_bounded() -> None:
    err = _rejected({f"k{i}": "x" * 2000 for i in range(10)})
    assert err.metadata["field"] == "payload"


def test_ids_and_hashes_pass_even_when_digests_hold_long_digit_runs() -> None:
    digest = "ab" + "6101031990030712" + "3" * 2 + "cd" + "0" * 44  # 18 digits inside a hex digest
    payload = {
        "requester": "platforms/xian",
        "subject": "enterprises/91610000MA6TGXXX1X",
        "authorization": "authorizations/7f3c",
        "released_sha256": digest,
        "fields_sha256": hashlib.sha256(b"fields").hexdigest(),
        "count": 12,
        "masked": True,
        "reason": None,
    }
    assert check_payload(payload) == payload


def test_entry_from_obj_refuses_anything_but_a_version_1_entry() -> None:
    good = Entry(LeafKind.CONSENT_EVENT, AT, {"a": "b"}).to_obj()
    for broken in [
        {**good, "extra": 1},
        {**good, "v": 2},
        {**good, "kind": "GOSSIP"},
        {**good, "created_at": "yesterday"},
        {**good, "payload": {"amount": 0.5}},
        [good],
    ]:
        with pytest.raises(ValueError):  # noqa: PT011 (each case fails a different check)
            Entry.from_obj(broken)


@pytest.mark.parametrize(
    ("key", "problem"),
    [("_13800138000", "mobile number"), ("ref-138-0013-8000", "mobile number"), ("x.110101199001011234", "ID number")],
)
def test_a_key_holding_a_personal_number_is_refused_without_naming_it(key: str, problem: str) -> None:
    err = _rejected({"lines": {key: 1}})
    assert err.metadata["field"] == "payload.lines"  # the key itself is not repeated: it is the personal number
    assert problem in err.metadata["problem"]
    assert key not in err.message
