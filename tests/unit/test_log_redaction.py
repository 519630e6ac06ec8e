"""Personal data never reaches a log line: USCCs, ID numbers, phone numbers, names."""

from __future__ import annotations

import io
import json
import logging
import sqlite3

import structlog
from sqlalchemy import exc as sa_exc

from services.kit.logging import configure_logging, redact_text

USCC = "91610131MA6TXXXX1U"  # shape of a Shaanxi USCC; redaction is by shape, not validity
ID_NUMBER = "61010319900307123X"
PHONE = "13912345678"


def _lines(buf: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buf.getvalue().splitlines() if line.strip()]


def test_sensitive_fields_and_embedded_identifiers_are_redacted() -> None:
    buf = io.StringIO()
    configure_logging("test", stream=buf)
    log = structlog.get_logger("t")
    log.info(
        "lookup",
        uscc=USCC,
        id_number=ID_NUMBER,
        legal_representative="张三",
        note=f"caller {PHONE} asked about {USCC} and {ID_NUMBER}",
        nested={"phone": PHONE, "ok": "platforms/xian"},
    )
    (line,) = _lines(buf)
    text = json.dumps(line, ensure_ascii=False)
    for secret in (USCC, ID_NUMBER, PHONE, "张三"):
        assert secret not in text
    assert line["nested"] == {"phone": "[REDACTED]", "ok": "platforms/xian"}
    assert line["event"] == "lookup"


def test_stdlib_logging_goes_through_the_same_redaction() -> None:
    buf = io.StringIO()
    configure_logging("test", stream=buf)
    logging.getLogger("grpc.something").warning("failed for %s", USCC)
    text = buf.getvalue()
    assert "failed for" in text
    assert USCC not in text


def test_redaction_keeps_ordinary_text() -> None:
    assert redact_text("platform platforms/xian admitted at 2026-11-29") == (
        "platform platforms/xian admitted at 2026-11-29"
    )
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    assert redact_text(f"trace {trace_id}") == f"trace {trace_id}"
    assert redact_text(f"x {USCC} y") == "x [REDACTED] y"


def _store(name: str) -> None:
    # What SQLAlchemy raises over the driver's error: its text quotes the statement's bound parameters.
    driver = sqlite3.IntegrityError("NOT NULL constraint failed: people.address")
    raise sa_exc.IntegrityError("INSERT INTO people VALUES (?, ?)", (name, None), driver)


def test_a_logged_database_error_shows_where_and_what_failed_but_not_the_values_anywhere_in_the_chain() -> None:
    name, address = "欧阳明珠", "西安市雁塔区科技路48号"  # no shape the redaction of text could find
    buf = io.StringIO()
    configure_logging("test", stream=buf)
    log = structlog.get_logger("t")
    try:
        try:
            _store(name)
        except sa_exc.IntegrityError as exc:
            exc.add_note(f"while storing {address}")
            raw = sqlite3.IntegrityError(f"UNIQUE constraint failed: people.name ({name})")
            raise ExceptionGroup("batch", [exc, raw, ValueError("a plain error keeps its text")]) from exc
    except ExceptionGroup:
        log.exception("store_failed")
    (line,) = _lines(buf)
    rendered = str(line["exception"])
    assert name not in rendered
    assert address not in rendered
    # Still the standard library's traceback: frames, the chain, each exception's type, and the text of the others.
    assert rendered.startswith("Traceback (most recent call last):")
    assert "in _store" in rendered
    assert "The above exception was the direct cause of the following exception:" in rendered
    assert rendered.count("sqlalchemy.exc.IntegrityError: sqlite3.IntegrityError, the driver's message is not") == 2
    assert "sqlite3.IntegrityError: the driver's message is not logged" in rendered
    assert "ValueError: a plain error keeps its text" in rendered
    assert "ExceptionGroup: batch (3 sub-exceptions)" in rendered
