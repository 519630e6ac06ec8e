"""structlog JSON logging: trace ids on every line, one canonical line per request, personal data redacted."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import Any, TextIO

import structlog
from opentelemetry import trace

# Keys whose values are personal or identifying whatever they look like.
SENSITIVE_KEYS = frozenset(
    {
        "uscc",
        "enterprise",
        "enterprise_uscc",
        "id_number",
        "id_card",
        "identity_number",
        "phone",
        "mobile",
        "telephone",
        "name",
        "person_name",
        "legal_representative",
        "legal_person",
        "contact",
        "contact_name",
        "address",
        "email",
        "public_key",
        "signature",
        "fields",
    }
)
REDACTED = "[REDACTED]"

# Values that look like personal identifiers are masked wherever they appear, even under innocent keys.
_USCC = r"(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}(?![0-9A-Z])"
_ID_NUMBER = r"(?<!\d)\d{17}[\dXx](?!\d)"
_PHONE = r"(?<!\d)1[3-9]\d{9}(?!\d)"
_PATTERN = re.compile("|".join(f"(?:{p})" for p in (_USCC, _ID_NUMBER, _PHONE)))


def redact_text(text: str) -> str:
    """Mask every USCC, resident ID number and mobile number found in ``text``."""
    return _PATTERN.sub(REDACTED, text)


def _redact(value: Any, key: str | None = None) -> Any:
    if key is not None and key.lower() in SENSITIVE_KEYS:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_redact(v) for v in value]
    return value


def redact_personal_data(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the last line of defence, so personal data never reaches a log sink."""
    for key in list(event_dict):
        event_dict[key] = _redact(event_dict[key], key)
    return event_dict


def add_trace_ids(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: stamp the current OpenTelemetry trace and span ids."""
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict["trace_id"] = format(ctx.trace_id, "032x")
        event_dict["span_id"] = format(ctx.span_id, "016x")
    return event_dict


def processors() -> list[Any]:
    """The processor chain shared by services and tests (tests use it with ``capture_logs``)."""
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        add_trace_ids,
        structlog.processors.format_exc_info,
        redact_personal_data,
    ]


def configure_logging(service: str, level: str = "INFO", stream: TextIO | None = None) -> None:
    """JSON lines to stdout; stdlib logging (grpc, alembic) is routed through the same redaction."""
    out = stream or sys.stdout
    structlog.configure(
        processors=[*processors(), structlog.processors.JSONRenderer(ensure_ascii=False)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(service=service)
    handler = logging.StreamHandler(out)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                redact_personal_data,
                structlog.processors.JSONRenderer(ensure_ascii=False),
            ],
            foreign_pre_chain=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso"),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
