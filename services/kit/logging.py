"""structlog JSON logging: trace ids on every line, one canonical line per request, personal data redacted."""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import functools
import logging
import re
import sys
import threading
import traceback
import unicodedata
from collections import deque
from collections.abc import Mapping, MutableMapping
from contextvars import ContextVar
from datetime import date, datetime, time
from enum import Enum
from types import TracebackType
from typing import Any, TextIO
from uuid import UUID

import orjson
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
# The usual written groups may be separated by one space or hyphen (610103 19900307 123X, +86 139-1234-5678), as
# the evidence log's payload check allows for too. The country code, glued on or not, goes with the number.
_SEP = r"[ \-]?"
_ID_NUMBER = rf"(?<!\d)\d{{6}}{_SEP}\d{{8}}{_SEP}\d{{3}}[\dXx](?!\d)"
# A first-generation (15-digit) ID has no check character; only one with a birth date (YYMMDD) in place is taken.
_OLD_ID_NUMBER = rf"(?<!\d)\d{{6}}{_SEP}\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]){_SEP}\d{{3}}(?!\d)"
_PHONE = rf"(?<!\d)(?:(?:\+86|0086|86){_SEP})?1[3-9]\d{_SEP}\d{{4}}{_SEP}\d{{4}}(?!\d)"
_CARD = r"(?<!\d)\d{16,19}(?!\d)"  # a bank card number; only one passing the Luhn check is masked
_PATTERN = re.compile("|".join(f"(?:{p})" for p in (_USCC, _ID_NUMBER, _OLD_ID_NUMBER, _PHONE)) + f"|(?P<card>{_CARD})")
# Full-width characters (１３９…, Ｘ, '－', '＋') and the ideographic space map one to one onto ASCII, so matches
# found in the mapped text sit at the same positions in the original.
_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
# Any other script's decimal digits (٣, ३, 𝟑: int() and \d take them) and the mathematical letters and digits (𝐗) are
# folded one to one onto ASCII too: the same number to whoever reads it back.
_OTHER_FORMS = re.compile(r"(?![0-9])\d|[\U0001D400-\U0001D7FF]")
# Values the JSON renderer writes as they are and that cannot hold personal data.
_PLAIN = (bool, float, type(None), datetime, date, time, UUID)


def _luhn(digits: str) -> bool:
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _personal(m: re.Match[str]) -> bool:
    return m.group("card") is None or _luhn(m.group())


def _mask(m: re.Match[str]) -> str:
    return REDACTED if _personal(m) else m.group()


@functools.lru_cache(maxsize=1024)
def _fold_char(c: str) -> str:
    digit = unicodedata.decimal(c, None)
    if digit is not None:
        return str(digit)
    folded = unicodedata.normalize("NFKC", c)
    return folded if len(folded) == 1 else c  # one to one, or positions would shift


def _fold(m: re.Match[str]) -> str:
    return _fold_char(m.group())


def redact_text(text: str) -> str:
    """Mask every USCC, resident ID number (18 or 15 digits), mobile number and bank card number found in ``text``."""
    if text.isascii():
        return _PATTERN.sub(_mask, text)
    probe = _OTHER_FORMS.sub(_fold, text.translate(_FULL_WIDTH))
    out: list[str] = []
    last = 0
    for m in _PATTERN.finditer(probe):
        if _personal(m):
            out += (text[last : m.start()], REDACTED)
            last = m.end()
    out.append(text[last:])
    return "".join(out)


def _redact(value: Any, key: str | None = None) -> Any:  # noqa: PLR0911 (one return per kind of value reads best)
    if key is not None and key.lower() in SENSITIVE_KEYS:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, int):
        # a number stored as an integer (a phone, an ID without its check letter) is rendered as its digits
        return REDACTED if abs(value) >= 10**10 and redact_text(str(int(value))) != str(int(value)) else value
    if isinstance(value, Enum):
        return _redact(value.value)
    if isinstance(value, Mapping):
        return {redact_text(str(k)): _redact(v, str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        # rendered field by field, so each field's name counts as a key
        return {f.name: _redact(getattr(value, f.name), f.name) for f in dataclasses.fields(value)}
    # Anything else (bytes, exceptions, messages) would be rendered by its repr after this processor ran.
    return redact_text(repr(value))


def redact_personal_data(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the last line of defence, so personal data never reaches a log sink."""
    for key in list(event_dict):
        event_dict[key] = _redact(event_dict[key], key)
    return event_dict


# Exceptions whose text quotes what was stored: SQLAlchemy's adds the statement's bound parameters, and the driver's
# quotes values (PostgreSQL's "DETAIL: Failing row contains (...)" or "Key (...)=(...)", "invalid input syntax for
# type integer: ..."). Names and addresses have no shape the redaction could find, so the text is not logged at all.
_DRIVERS = frozenset({"sqlite3", "psycopg", "psycopg2", "psycopg_binary"})


def _database_error(exc_type: type[BaseException] | None) -> bool:
    if exc_type is None:
        return False
    if (exc_type.__module__ or "").split(".")[0] in _DRIVERS:
        return True
    return any(c.__module__ == "sqlalchemy.exc" and c.__name__ == "StatementError" for c in exc_type.__mro__)


def is_database_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a database error (SQLAlchemy's or a driver's), whose text may quote values."""
    return _database_error(type(exc))


def describe_database_error(exc: BaseException) -> str:
    """What failed, without the values: the driver's error class, SQLSTATE and the schema names it reports."""
    orig = getattr(exc, "orig", None) or exc
    parts = [f"{type(orig).__module__}.{type(orig).__qualname__}"] if orig is not exc else []
    sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if sqlstate:
        parts.append(f"SQLSTATE {sqlstate}")
    sqlite_name = getattr(orig, "sqlite_errorname", None)
    if sqlite_name:
        parts.append(str(sqlite_name))
    diag = getattr(orig, "diag", None)
    for label in ("schema", "table", "column", "constraint"):
        value = getattr(diag, f"{label}_name", None)
        if value:
            parts.append(f"{label} {value}")
    parts.append("the driver's message is not logged: it may quote stored values")
    return ", ".join(parts)


_Slot = tuple[traceback.TracebackException, str, int | None] | None


def _described(node: traceback.TracebackException, exc: BaseException) -> traceback.TracebackException:
    """``node`` rendered again from a stand-in exception that says only ``describe_database_error``: same type name,
    same frames, same chain, no notes (they may quote values too)."""
    stand_in = traceback.TracebackException(type(exc), Exception(describe_database_error(exc)), None, compact=True)
    stand_in.stack = node.stack
    stand_in.__cause__, stand_in.__context__ = node.__cause__, node.__context__
    stand_in.__suppress_context__ = node.__suppress_context__
    stand_in.exceptions = node.exceptions
    return stand_in


def _format_exception(exc_info: Any) -> str:
    """A traceback as the standard library writes it, except that a database error in the chain is described by
    ``describe_database_error`` in place of its message (and notes)."""
    root = traceback.TracebackException(*exc_info, compact=True)
    # Each rendered exception beside the exception it was made from (the rendering keeps only a type and a text), and
    # where it hangs: (parent, attribute, index in a group's list), or None for the root.
    pending: list[tuple[traceback.TracebackException, BaseException, _Slot]] = [(root, exc_info[1], None)]
    while pending:
        node, exc, slot = pending.pop()
        if _database_error(type(exc)):
            node = _described(node, exc)
            if slot is None:
                root = node
            elif slot[2] is None:
                setattr(slot[0], slot[1], node)
            else:
                getattr(slot[0], slot[1])[slot[2]] = node
        for attr, inner in (("__cause__", exc.__cause__), ("__context__", exc.__context__)):
            child = getattr(node, attr)
            if child is not None and inner is not None:
                pending.append((child, inner, (node, attr, None)))
        members = getattr(exc, "exceptions", ())
        for i, (child, inner) in enumerate(zip(node.exceptions or [], members, strict=False)):
            pending.append((child, inner, (node, "exceptions", i)))
    return "".join(root.format()).rstrip("\n")


format_exc_info = structlog.processors.ExceptionRenderer(_format_exception)


def add_trace_ids(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: stamp the current OpenTelemetry trace and span ids."""
    ctx = trace.get_current_span().get_span_context()
    if ctx.is_valid:
        event_dict["trace_id"] = format(ctx.trace_id, "032x")
        event_dict["span_id"] = format(ctx.span_id, "016x")
    return event_dict


# The call being served (method, request id, deadline on the monotonic clock or None): one context variable set per
# RPC, cheaper than binding several.
current_call: ContextVar[tuple[str, str | None, float | None] | None] = ContextVar("creditnode_call", default=None)


def add_call_context(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: name the service on every line (server threads start with an empty context, so a
    context variable bound at start-up would not reach them) and the RPC being served on lines logged serving it."""
    if call_lines.service:
        event_dict.setdefault("service", call_lines.service)
    call = current_call.get()
    if call is not None:
        event_dict.setdefault("method", call[0])
        if call[1] is not None:
            event_dict.setdefault("request_id", call[1])
    return event_dict


_stamp = structlog.processors.TimeStamper(fmt="iso", utc=True)


def processors() -> list[Any]:
    """The processor chain shared by services and tests (tests use it with ``capture_logs``)."""
    return [
        structlog.contextvars.merge_contextvars,
        add_call_context,
        structlog.processors.add_log_level,
        _stamp,
        add_trace_ids,
        format_exc_info,
        redact_personal_data,
    ]


def _to_json(obj: Any, **kw: Any) -> str:
    return orjson.dumps(obj, default=kw.get("default")).decode()


class BackgroundLines:
    """Log lines handed to one thread that writes them in batches.

    A write to stdout releases the GIL, and on a busy server a thread that releases it waits to get it back: with
    one write per line the registry's threads spent more time there than reading records (docs/architecture.md,
    "The request path, measured").
    Lines are written within ``interval`` seconds, at ``close`` and at exit; a process killed outright loses at
    most that interval's lines. The order of lines is kept. A failed write keeps its lines for the next round; a sink
    down for long costs the oldest past ``hold``, counted in a ``log_lines_dropped`` line once it is back."""

    def __init__(self, out: TextIO, interval: float = 0.05, batch: int = 2000, hold: int = 100_000) -> None:
        self._out = out
        self._lines: deque[str] = deque()
        self._hold = hold
        self._dropped = 0
        self._batch = batch
        self._interval = interval
        self._wake = threading.Event()
        self._closed = False
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="log-writer", daemon=True)
        self._thread.start()
        atexit.register(self.close)

    def msg(self, message: str) -> None:
        self._lines.append(message)
        if len(self._lines) >= self._batch:
            self._wake.set()

    # structlog calls the logger by level name.
    log = debug = info = warn = warning = error = err = critical = exception = fatal = failure = msg

    def held(self) -> int:
        return len(self._lines)

    def flush(self) -> None:
        """Write what is held; on failure the lines are held again (the oldest dropped past ``hold``) and it raises."""
        with self._write_lock:
            taken: list[str] = []
            while True:
                try:
                    taken.append(self._lines.popleft())
                except IndexError:
                    break
            if not taken:
                return
            head = [f'{{"event": "log_lines_dropped", "count": {self._dropped}}}'] if self._dropped else []
            try:
                self._out.write("".join(f"{line}\n" for line in head + taken))
                self._out.flush()
                self._dropped = 0
            except BaseException:
                # Kept for the next round, ahead of lines logged meanwhile; a sink down for long costs the oldest.
                self._lines.extendleft(reversed(taken))
                while len(self._lines) > self._hold:
                    self._lines.popleft()
                    self._dropped += 1
                raise

    def flush_quietly(self) -> None:
        with contextlib.suppress(Exception):  # a failing sink must not take the service down; next round retries
            self.flush()

    def close(self) -> None:
        self._closed = True
        self._wake.set()
        self.flush_quietly()

    def _run(self) -> None:
        while not self._closed:
            self._wake.wait(self._interval)
            self._wake.clear()
            self.flush_quietly()


class _SinkHandler(logging.Handler):
    """stdlib records (grpc, alembic) into the same sink as structlog's lines, so they keep their order."""

    def __init__(self, sink: Any) -> None:
        super().__init__()
        self._sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._sink.msg(self.format(record))
        except Exception:
            self.handleError(record)


class _CallLines:
    """Where the per-RPC line goes. It is rendered without the processor chain because it is written on every
    call's path, where the chain cost a fifth of a bare server's throughput; ``tests/integration/test_kit_server.py``
    proves the two renderings carry the same keys."""

    def __init__(self) -> None:
        self.sink: Any = None
        self.service = ""
        self.background: BackgroundLines | None = None  # the services' writer thread, when there is one

    def write(self, method: str, code: str, reason: str | None, duration_ms: float) -> None:
        if self.sink is None:
            return
        line: dict[str, Any] = {"service": self.service, "method": method}
        call = current_call.get()
        if call is not None and call[1] is not None:
            line["request_id"] = redact_text(call[1])  # chosen by the caller, so it may carry anything
        line.update(event="rpc", code=code, reason=reason, duration_ms=duration_ms, level="info")
        _stamp(None, "info", line)
        add_trace_ids(None, "info", line)
        self.sink.msg(orjson.dumps(line).decode())


call_lines = _CallLines()


def configure_logging(
    service: str, level: str = "INFO", stream: TextIO | None = None, *, background: bool = False
) -> None:
    """JSON lines to stdout; stdlib logging (grpc, alembic) is routed through the same redaction.

    ``background`` (services) writes lines from a background thread (see ``BackgroundLines``)."""
    out = stream or sys.stdout
    if call_lines.background is not None:
        call_lines.background.close()
        call_lines.background = None
    sink: Any
    if background:
        sink = call_lines.background = BackgroundLines(out)
    else:
        sink = structlog.WriteLogger(out)  # one logger, one lock: per-RPC lines and the rest never interleave
    structlog.configure(
        processors=[*processors(), structlog.processors.JSONRenderer(serializer=_to_json)],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level)),
        logger_factory=lambda *_: sink,
        cache_logger_on_first_use=True,
    )
    call_lines.sink = sink if logging.getLevelName(level) <= logging.INFO else None
    call_lines.service = service
    structlog.contextvars.clear_contextvars()
    handler = _SinkHandler(sink)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                # a record's exc_info would otherwise be rendered as the exception's repr, past the redaction
                format_exc_info,
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


def flush_logs() -> None:
    """Write out now what the background writer holds (exit does it on its own)."""
    if call_lines.background is not None:
        call_lines.background.flush()


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)


_uncaught = structlog.get_logger("kit.uncaught")


def log_uncaught(
    exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None, thread: str
) -> None:
    """One ``uncaught_exception`` line for an exception nothing caught, its traceback rendered as a logged exception's
    is (a database error described without its values, other text redacted) whether or not logging is configured yet.
    The standard library's hooks would print it to stderr as it is."""
    try:
        rendered = redact_text(_format_exception((exc_type, exc, tb)))
        _uncaught.critical("uncaught_exception", thread=thread, exception=rendered)
        flush_logs()
    except Exception:  # a failing sink: say at least that something failed, naming nothing but the type
        with contextlib.suppress(Exception):
            sys.stderr.write(f"uncaught {exc_type.__qualname__} in thread {thread} (could not be logged)\n")


def _log_uncaught_in_main(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    log_uncaught(exc_type, exc, tb, threading.current_thread().name)


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:  # as the default hook: a thread ending itself is no failure
        return
    log_uncaught(args.exc_type, args.exc_value, args.exc_traceback, args.thread.name if args.thread else "?")


def log_uncaught_exceptions() -> None:
    """Exceptions nothing caught, in the main thread (``sys.excepthook``) or any other (``threading.excepthook``), go
    to ``log_uncaught``. A process's entry point calls this: configuring logging (tests do it too) leaves the hooks
    alone."""
    sys.excepthook = _log_uncaught_in_main
    threading.excepthook = _log_uncaught_in_thread
