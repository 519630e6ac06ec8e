"""Personal data never reaches a log line: USCCs, ID numbers, phone numbers, names."""

from __future__ import annotations

import io
import json
import logging

import structlog

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
