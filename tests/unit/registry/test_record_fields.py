"""How a stored record's values are shown: masked as its item says, and hidden whole when no item says how."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.registry.api.records import _fields

VALUES = {
    "legal_representative": "王小明",
    "phone": "13912345678",
    "capital": Decimal("100.5"),
    "since": date(2020, 1, 2),
}


def test_a_record_whose_item_no_list_knows_shows_no_value() -> None:
    # It cannot happen to a validated record, but were it to, nothing says which fields are personal: masking by an
    # item that is not there showed every value as stored.
    shown, masked = _fields(None, VALUES, raw=False)
    assert masked
    assert set(shown) == set(VALUES)
    for value in shown.values():
        assert value.WhichOneof("kind") == "string_value"
        assert set(value.string_value) == {"*"}


def test_the_raw_view_is_the_values_as_stored() -> None:
    shown, masked = _fields(None, VALUES, raw=True)
    assert not masked
    assert shown["legal_representative"].string_value == "王小明"
    assert shown["capital"].decimal_value == "100.5"
