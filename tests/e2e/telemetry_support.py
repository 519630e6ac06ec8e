"""Support for the personal-data telemetry test: unique personal values per run, the forms they may take, and
collectors for what a node tells the outside about itself (log lines, exported spans, metrics, errors).

Everything a surface yields is a (where, text) pair; ``Seeds.leaks`` names each seeded value found in any of them."""

from __future__ import annotations

import contextlib
import json
import random
import re
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, TypeVar

import grpc
from google.protobuf import text_format
from google.rpc import error_details_pb2, status_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2 as otlp_pb
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2_grpc as otlp_grpc
from opentelemetry.proto.common.v1 import common_pb2
from stdnum.cn import uscc as uscc_lib

T = TypeVar("T")

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_SHAANXI_REGIONS = ("610102", "610103", "610104", "610111", "610113", "610302", "610402", "610502", "610602")
_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
# Between two characters of a number: nothing, or one separator (spaces of any width, dashes, underscore, slash).
_SEPARATOR = r"[\s\u3000\-\u2010\u2011\u2012\u2013\u2014_/]?"


def resident_id(rng: random.Random, *, check_x: bool) -> str:
    """An 18-character resident identity number (GB 11643) with a valid check character, ``X`` when asked."""
    while True:
        born = f"{rng.randrange(1960, 2001)}{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}"
        body = rng.choice(_SHAANXI_REGIONS) + born + f"{rng.randrange(1000):03d}"
        check = _ID_CHECK[sum(int(d) * w for d, w in zip(body, _ID_WEIGHTS, strict=True)) % 11]
        # never one that is also a valid USCC: the node rightly takes such a code for an enterprise's
        if (check == "X") == check_x and not uscc_lib.is_valid(body + check):
            return body + check


def mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))


def bank_card(rng: random.Random) -> str:
    """A 19-digit UnionPay card number with a valid Luhn check digit."""
    body = "62" + "".join(rng.choice("0123456789") for _ in range(16))
    total = 0
    for i, d in enumerate(reversed(body)):
        n = int(d) * (2 if i % 2 == 0 else 1)
        total += n - 9 if n > 9 else n
    return body + str((10 - total % 10) % 10)


def _hanzi(rng: random.Random, n: int) -> str:
    return "".join(chr(rng.randrange(0x4E00, 0x9FA6)) for _ in range(n))


def person_name(rng: random.Random) -> str:
    return rng.choice("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗") + _hanzi(rng, 2)


def address(rng: random.Random) -> str:
    return f"陕西省西安市{_hanzi(rng, 2)}区{_hanzi(rng, 2)}路{rng.randrange(1, 999)}号{rng.randrange(1, 30)}栋"


def full_width(value: str) -> str:
    return value.translate(_FULL_WIDTH)


def spaced(value: str, groups: Iterable[int], sep: str = " ") -> str:
    out, at = [], 0
    for size in groups:
        out.append(value[at : at + size])
        at += size
    return sep.join([*out, value[at:]] if at < len(value) else out)


def _number_pattern(value: str) -> str:
    """Every spelling of a number: ASCII or full-width digits, x or X in any width, separators between."""
    chars = []
    for c in value:
        if c.isdigit():
            chars.append(f"[{c}{c.translate(_FULL_WIDTH)}]")
        else:
            chars.append("[XxＸｘ]")
    return _SEPARATOR.join(chars)


def _text_pattern(value: str) -> str:
    """A text as written, or escaped the way JSON, Python byte literals or protobuf text format escape it."""
    utf8 = value.encode()
    forms = {
        value,
        "".join(f"\\u{ord(c):04x}" if ord(c) > 127 else c for c in value),
        "".join(f"\\u{ord(c):04X}" if ord(c) > 127 else c for c in value),
        "".join(f"\\x{b:02x}" if b > 127 else chr(b) for b in utf8),
        "".join(f"\\{b:03o}" if b > 127 else chr(b) for b in utf8),
    }
    return "|".join(re.escape(f) for f in sorted(forms))


@dataclass
class Seeds:
    """Personal values made for one run: names, resident ID numbers, mobiles, bank cards, addresses, an e-mail."""

    values: dict[str, str]
    _patterns: list[tuple[str, re.Pattern[str]]] = field(default_factory=list)

    @classmethod
    def generate(cls, rng: random.Random | None = None, extra: dict[str, str] | None = None) -> Seeds:
        rng = rng or random.Random()
        values = {
            "name-1": person_name(rng),
            "name-2": person_name(rng),
            "name-3": person_name(rng),
            "id-1": resident_id(rng, check_x=False),
            "id-2": resident_id(rng, check_x=True),
            "id-3": resident_id(rng, check_x=False),
            "phone-1": mobile(rng),
            "phone-2": mobile(rng),
            "card-1": bank_card(rng),
            "card-2": bank_card(rng),
            "address-1": address(rng),
            "address-2": address(rng),
            "email-1": f"p{rng.randrange(10**8, 10**9)}@example.cn",
            **(extra or {}),
        }
        seeds = cls(values)
        for label, value in values.items():
            numeric = re.fullmatch(r"\d+[\dX]?", value) is not None
            seeds._patterns.append((label, re.compile(_number_pattern(value) if numeric else _text_pattern(value))))
        return seeds

    def __getitem__(self, label: str) -> str:
        return self.values[label]

    def leaks(self, where: str, text: str) -> list[str]:
        found = []
        for label, pattern in self._patterns:
            for match in pattern.finditer(text):
                start = max(0, match.start() - 60)
                found.append(f"{where}: {label} as {match.group()!r} in …{text[start : match.end() + 60]!r}…")
        return found


def log_texts(name: str, raw: str) -> Iterator[tuple[str, str]]:
    """Each line of a service's output as written, and a JSON line also decoded (escapes resolved)."""
    for number, line in enumerate(raw.splitlines(), 1):
        where = f"log of {name}, line {number}"
        yield where, line
        if line.startswith("{"):
            try:
                decoded = json.loads(line)
            except ValueError:
                continue
            yield f"{where} (decoded)", json.dumps(decoded, ensure_ascii=False)


def metrics_texts(name: str, body: str) -> Iterator[tuple[str, str]]:
    for number, line in enumerate(body.splitlines(), 1):
        yield f"metrics of {name}, line {number}", line


def _any_value(value: common_pb2.AnyValue) -> str:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return "[" + ", ".join(_any_value(v) for v in value.array_value.values) + "]"
    if kind == "kvlist_value":
        return "{" + ", ".join(f"{kv.key}={_any_value(kv.value)}" for kv in value.kvlist_value.values) + "}"
    if kind == "bytes_value":
        return repr(value.bytes_value)
    return str(getattr(value, kind)) if kind else ""


def _attributes(attrs: Iterable[common_pb2.KeyValue]) -> str:
    return "; ".join(f"{kv.key}={_any_value(kv.value)}" for kv in attrs)


class SpanCollector(otlp_grpc.TraceServiceServicer):
    """An OTLP trace receiver keeping every span whole, with the service that exported it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.spans: list[tuple[str, Any]] = []
        self.resources: list[str] = []

    def Export(self, request: otlp_pb.ExportTraceServiceRequest, context: grpc.ServicerContext) -> object:
        with self._lock:
            for resource_spans in request.resource_spans:
                attrs = resource_spans.resource.attributes
                service = next((a.value.string_value for a in attrs if a.key == "service.name"), "")
                self.resources.append(_attributes(attrs))
                for scope in resource_spans.scope_spans:
                    self.spans += [(service, span) for span in scope.spans]
        return otlp_pb.ExportTraceServiceResponse()

    def services(self) -> set[str]:
        with self._lock:
            return {service for service, _ in self.spans}

    def trace_ids(self) -> set[str]:
        with self._lock:
            return {span.trace_id.hex() for _, span in self.spans}

    def texts(self) -> Iterator[tuple[str, str]]:
        """Every span's name, attributes, events, links and status description, and the resources."""
        with self._lock:
            spans = list(self.spans)
            resources = list(self.resources)
        for i, resource in enumerate(resources):
            yield f"span resource #{i}", resource
        for service, span in spans:
            where = f"span {span.name!r} of {service} (trace {span.trace_id.hex()})"
            yield f"{where} name", span.name
            yield f"{where} trace state", span.trace_state
            yield f"{where} attributes", _attributes(span.attributes)
            yield f"{where} status", span.status.message
            for event in span.events:
                yield f"{where} event {event.name!r}", event.name + " " + _attributes(event.attributes)
            for link in span.links:
                yield f"{where} link", _attributes(link.attributes)


_DETAIL_TYPES = (
    error_details_pb2.ErrorInfo,
    error_details_pb2.BadRequest,
    error_details_pb2.PreconditionFailure,
    error_details_pb2.LocalizedMessage,
    error_details_pb2.DebugInfo,
    error_details_pb2.ResourceInfo,
    error_details_pb2.QuotaFailure,
    error_details_pb2.Help,
    error_details_pb2.RetryInfo,
    error_details_pb2.RequestInfo,
)


@dataclass
class ClientErrors:
    """What failed calls (and per-item failures inside answers) told the client, with the call that got it, and the
    trace id each call was sent under (see ``TraceEveryCall``), so that its spans can be waited for."""

    texts: list[tuple[str, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    traces: dict[str, str] = field(default_factory=dict)
    _current: str = "setup"

    def call(self, label: str, fn: Callable[[], T]) -> T | None:
        """Run one call (a stream is read to its end by ``fn``); keep everything a failure carries."""
        self._current = label
        try:
            return fn()
        except grpc.RpcError as exc:
            self.record(label, exc)
            return None
        finally:
            self._current = "setup"

    def new_trace(self) -> str:
        trace_id = secrets.token_hex(16)
        if self._current != "setup":
            self.traces.setdefault(self._current, trace_id)
        return trace_id

    def record(self, label: str, exc: Any) -> None:  # a grpc.RpcError that is also a grpc.Call
        self.failed.append(label)
        where = f"error of {label} ({exc.code().name})"
        self.texts.append((f"{where} details", exc.details() or ""))
        debug = getattr(exc, "debug_error_string", None)
        if callable(debug):
            self.texts.append((f"{where} debug string", str(debug())))
        for key, value in exc.trailing_metadata() or ():
            if key == "grpc-status-details-bin":
                self._status(where, bytes(value))
            else:
                shown = value.decode(errors="replace") if isinstance(value, bytes) else str(value)
                self.texts.append((f"{where} trailer {key}", shown))

    def _status(self, where: str, raw: bytes) -> None:
        status = status_pb2.Status.FromString(raw)
        self.texts.append((f"{where} status message", status.message))
        for detail in status.details:
            for kind in _DETAIL_TYPES:
                if detail.Is(kind.DESCRIPTOR):
                    message = kind()
                    detail.Unpack(message)
                    if isinstance(message, error_details_pb2.ErrorInfo):
                        self.texts.append((f"{where} ErrorInfo reason/domain", f"{message.reason} {message.domain}"))
                        for k, v in message.metadata.items():
                            self.texts.append((f"{where} ErrorInfo metadata {k!r}", f"{k}={v}"))
                    self.texts.append((f"{where} {kind.__name__}", text_format.MessageToString(message, as_utf8=True)))
                    break
            else:
                self.texts.append((f"{where} detail {detail.type_url}", repr(detail.value)))

    def answer(self, label: str, text: str) -> None:
        """A failure reported inside a successful answer (a rejected record, a failed check of a batch)."""
        self.texts.append((f"answer of {label}", text))


class _Details(grpc.ClientCallDetails):
    def __init__(self, details: grpc.ClientCallDetails, metadata: Any) -> None:
        self.method = details.method
        self.timeout = details.timeout
        self.metadata = metadata
        self.credentials = details.credentials
        self.wait_for_ready = getattr(details, "wait_for_ready", None)
        self.compression = getattr(details, "compression", None)


class TraceEveryCall(
    grpc.UnaryUnaryClientInterceptor,  # type: ignore[type-arg]
    grpc.UnaryStreamClientInterceptor,  # type: ignore[type-arg]
    grpc.StreamUnaryClientInterceptor,  # type: ignore[type-arg]
):
    """Sends each call under a trace of its own (a sampled ``traceparent``), named by ``errors``."""

    def __init__(self, errors: ClientErrors) -> None:
        self._errors = errors

    def _traced(self, details: grpc.ClientCallDetails) -> _Details:
        parent = f"00-{self._errors.new_trace()}-{secrets.token_hex(8)}-01"
        return _Details(details, [*(details.metadata or ()), ("traceparent", parent)])

    def intercept_unary_unary(self, continuation: Any, details: grpc.ClientCallDetails, request: Any) -> Any:
        return continuation(self._traced(details), request)

    def intercept_unary_stream(self, continuation: Any, details: grpc.ClientCallDetails, request: Any) -> Any:
        return continuation(self._traced(details), request)

    def intercept_stream_unary(self, continuation: Any, details: grpc.ClientCallDetails, requests: Any) -> Any:
        return continuation(self._traced(details), requests)


@contextlib.contextmanager
def otlp_receiver(servicer: otlp_grpc.TraceServiceServicer) -> Iterator[str]:
    """``servicer`` receiving OTLP trace exports on a free local port; yields the endpoint services export to."""
    server = grpc.server(futures.ThreadPoolExecutor(4))
    otlp_grpc.add_TraceServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop(0)
