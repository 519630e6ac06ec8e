"""Personal data reaches no log line by the less obvious paths: structured values, keys, prefixes, full width."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
from collections.abc import Callable
from typing import Any

import pytest
import structlog

from services.kit.logging import configure_logging, redact_text

ID_NUMBER = "61010319900307123X"
PHONE = "13912345678"
CARD = "6222021234567890128"  # 19 digits, passes the Luhn check as every bank card number does


@dataclasses.dataclass
class _Applicant:
    label: str
    document: str


def _logged(**values: Any) -> str:
    buf = io.StringIO()
    configure_logging("test", stream=buf)
    structlog.get_logger("t").info("event", **values)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("value", "secret"),
    [
        (f"id {ID_NUMBER}".encode(), ID_NUMBER),
        (ValueError(f"no enterprise for {ID_NUMBER}"), ID_NUMBER),
        (_Applicant("applicant", ID_NUMBER), ID_NUMBER),
        ({ID_NUMBER: 1}, ID_NUMBER),
        (frozenset({PHONE}), PHONE),
        (int(PHONE), PHONE),
        (f"call +86{PHONE}", PHONE),
        (f"call 0086{PHONE}", PHONE),
        (f"call 86{PHONE}", PHONE),
        ("call １３９１２３４５６７８", "１３９１２３４５６７８"),
        ("id ６１０１０３１９９００３０７１２３Ｘ", "６１０１０３１９９００３０７１２３"),
        (f"card {CARD}", CARD),
    ],
    ids=[
        "bytes",
        "exception",
        "dataclass",
        "dict-key",
        "frozenset",
        "int",
        "plus-86",
        "0086",
        "86",
        "full-width-phone",
        "full-width-id",
        "bank-card",
    ],
)
def test_personal_numbers_are_redacted_whatever_carries_them(value: object, secret: str) -> None:
    text = _logged(detail=value)
    assert secret not in text
    assert json.loads(text)["event"] == "event"


def test_ordinary_long_numbers_and_full_width_text_survive() -> None:
    assert redact_text("revision 1234567890123456 of ＡＢＣ有限公司") == "revision 1234567890123456 of ＡＢＣ有限公司"
    assert redact_text("x １３９１２３４５６７８ y") == "x [REDACTED] y"


def _std_exception(log: Callable[..., None]) -> None:
    try:
        raise ValueError(f"no enterprise for {ID_NUMBER}")
    except ValueError:
        log("lookup failed")


def test_stdlib_exception_records_are_redacted() -> None:
    buf = io.StringIO()
    configure_logging("test", stream=buf)
    _std_exception(logging.getLogger("sqlalchemy.pool").exception)
    text = buf.getvalue()
    assert "lookup failed" in text
    assert "ValueError" in text  # the exception is still told, only its personal number is not
    assert ID_NUMBER not in text
