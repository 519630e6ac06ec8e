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
NAME = "欧阳明珠"  # a name has no shape to find: only where it is never written keeps it out
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


def _failed_write(log: Callable[..., None]) -> None:
    """A write failing as a database outage does in a background loop: the domain error raised from the driver's."""
    from sqlalchemy import create_engine, text

    from services.kit.errors import Unavailable

    engine = create_engine("sqlite://")
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE people (name TEXT NOT NULL, address TEXT NOT NULL)"))
            try:
                conn.execute(text("INSERT INTO people VALUES (:name, :address)"), {"name": NAME, "address": None})
            except Exception as exc:
                raise Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the database is unavailable") from exc
    except Unavailable:
        log("watch_failed", exc_info=True)
    finally:
        engine.dispose()


@pytest.mark.parametrize("via", ["structlog", "stdlib"])
def test_a_database_error_in_an_exception_chain_is_logged_without_its_values(via: str) -> None:
    buf = io.StringIO()
    configure_logging("test", stream=buf)
    log = structlog.get_logger("t").warning if via == "structlog" else logging.getLogger("t").warning
    _failed_write(log)
    (line,) = [json.loads(raw) for raw in buf.getvalue().splitlines()]
    assert NAME not in json.dumps(line, ensure_ascii=False)
    told = line["exception"]
    assert "sqlalchemy.exc.IntegrityError: sqlite3.IntegrityError, SQLITE_CONSTRAINT_NOTNULL" in told
    assert "Unavailable: the database is unavailable" in told  # the rest of the chain as the standard library tells it


@pytest.mark.parametrize(
    "written",
    [
        "139 1234 5678",
        "139-1234-5678",
        "+86 139 1234 5678",
        "0086-139-1234-5678",
        "+86-13912345678",
        "１３９　１２３４　５６７８",
        "139－1234－5678",
        "610103 19900307 123X",
        "610103-19900307-1234",
    ],
)
def test_numbers_written_in_their_usual_groups_are_redacted(written: str) -> None:
    # The evidence log refuses these spellings; a log line must not carry them either.
    assert redact_text(f"call {written} now") == "call [REDACTED] now"


def _digits(text: str, zero: str) -> str:
    """``text`` with its ASCII digits written in another script's decimal digits, ``zero`` being that script's 0."""
    return "".join(chr(ord(zero) + int(c)) if c.isdigit() else c for c in text)


@pytest.mark.parametrize(
    "zero",
    ["\u0660", "\u0966", "\U0001d7ce", "\U0001d7ec"],
    ids=["arabic-indic", "devanagari", "mathematical-bold", "mathematical-sans-serif"],
)
@pytest.mark.parametrize("number", [PHONE, ID_NUMBER, "+86 139 1234 5678", "91610131MA6TXXXX1U"])
def test_numbers_in_other_decimal_digits_are_redacted(zero: str, number: str) -> None:
    # int() and \d take any script's decimal digits: the same number to whoever reads it back.
    written = _digits(number, zero)
    assert redact_text(f"call {written} now") == "call [REDACTED] now"


def test_an_id_number_ending_in_a_mathematical_x_is_redacted() -> None:
    written = _digits(ID_NUMBER[:-1], "\U0001d7ce") + "\U0001d417"  # MATHEMATICAL BOLD CAPITAL X
    assert redact_text(f"id {written}") == "id [REDACTED]"


@pytest.mark.parametrize("written", ["610103900307123", "610103 900307 123", "６１０１０３９００３０７１２３"])
def test_a_first_generation_15_digit_id_number_is_redacted(written: str) -> None:
    # Still on older records and documents; masking knows the shape (610103******123), so must the logs.
    assert redact_text(f"id {written} now") == "id [REDACTED] now"


def test_fifteen_digit_numbers_without_a_birth_date_survive() -> None:
    assert redact_text("revision 123456789012345") == "revision 123456789012345"
