"""The shared server bootstrap: domain errors become statuses with one ErrorInfo, traces cross hops."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from services.kit.client import make_channel
from services.kit.db import make_engine
from services.kit.errors import FailedPrecondition, PermissionDenied
from services.kit.listener import PlainListener
from services.kit.server import LIVENESS, RunningServer, ServerSpec
from services.kit.status import error_info
from tests.conftest import free_port

Handler = Callable[[bytes, grpc.ServicerContext], bytes]


def _serve(name: str, methods: dict[str, Handler], **kw: Any) -> RunningServer:
    def register(server: grpc.Server) -> list[str]:
        handlers = {m: grpc.unary_unary_rpc_method_handler(f) for m, f in methods.items()}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(f"test.{name}", handlers),))
        return [f"test.{name}"]

    return RunningServer(ServerSpec(name=name, listen_addr="127.0.0.1:0", register=register, **kw))


@pytest.fixture
def servers() -> Iterator[list[RunningServer]]:
    started: list[RunningServer] = []
    yield started
    for s in started:
        s.stop(0)


def _call(server: RunningServer, service: str, method: str, payload: bytes = b"x") -> bytes:
    with grpc.insecure_channel(server.address) as ch:
        return bytes(ch.unary_unary(f"/test.{service}/{method}")(payload, timeout=5))


def test_domain_error_becomes_status_with_one_error_info(servers: list[RunningServer]) -> None:
    def deny(_: bytes, __: grpc.ServicerContext) -> bytes:
        raise PermissionDenied("ERROR_REASON_PERMISSION_DENIED", "not allowed", {"resource": "platforms/x"})

    def illegal(_: bytes, __: grpc.ServicerContext) -> bytes:
        raise FailedPrecondition("ERROR_REASON_ILLEGAL_TRANSITION", "cannot", {"from": "REJECTED"})

    _assert_refusals(
        servers,
        "Errors",
        {
            "Deny": (deny, grpc.StatusCode.PERMISSION_DENIED, "ERROR_REASON_PERMISSION_DENIED"),
            "Illegal": (illegal, grpc.StatusCode.FAILED_PRECONDITION, "ERROR_REASON_ILLEGAL_TRANSITION"),
        },
    )


def _assert_refusals(
    servers: list[RunningServer], service: str, methods: dict[str, tuple[Handler, grpc.StatusCode, str]]
) -> None:
    """Serve the methods; each fails with its code and one creditnode ErrorInfo of its reason, no personal number."""
    server = _serve(service, {m: handler for m, (handler, _, _) in methods.items()})
    servers.append(server)
    for method, (_, code, reason) in methods.items():
        with pytest.raises(grpc.RpcError) as err:
            _call(server, service, method)
        assert err.value.code() == code
        assert "61010319900307123X" not in (err.value.details() or "")
        info = error_info(err.value)
        assert info is not None
        assert info.reason == reason
        assert info.domain == "creditnode"


def test_unexpected_exception_is_internal_without_details(servers: list[RunningServer]) -> None:
    def crash(_: bytes, __: grpc.ServicerContext) -> bytes:
        raise RuntimeError("secret detail 61010319900307123X")

    server = _serve("Crash", {"Crash": crash})
    servers.append(server)
    with pytest.raises(grpc.RpcError) as err:
        _call(server, "Crash", "Crash")
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert "secret" not in (err.value.details() or "")
    info = error_info(err.value)
    assert info is not None
    assert info.reason == "ERROR_REASON_UNSPECIFIED"


def test_a_unique_clash_no_handler_caught_is_aborted_and_other_constraints_are_internal(
    servers: list[RunningServer],
) -> None:
    def violate(statement: str) -> Handler:
        def handler(_: bytes, __: grpc.ServicerContext) -> bytes:
            db = sqlite3.connect(":memory:")
            db.execute("CREATE TABLE t (k TEXT PRIMARY KEY, v TEXT NOT NULL)")
            db.execute("INSERT INTO t VALUES ('61010319900307123X', 'a')")
            try:
                db.execute(statement)
            except sqlite3.IntegrityError as exc:
                raise IntegrityError(statement, None, exc) from exc
            return b""

        return handler

    unique, not_null = "INSERT INTO t VALUES ('61010319900307123X', 'b')", "INSERT INTO t VALUES ('k2', NULL)"
    _assert_refusals(
        servers,
        "Clash",
        {
            "Unique": (violate(unique), grpc.StatusCode.ABORTED, "ERROR_REASON_CONCURRENT_MODIFICATION"),
            "NotNull": (violate(not_null), grpc.StatusCode.INTERNAL, "ERROR_REASON_UNSPECIFIED"),
        },
    )


def test_a_database_that_cannot_be_reached_outside_a_unit_of_work_is_unavailable_not_internal(
    servers: list[RunningServer],
) -> None:
    # Database work a handler does outside translate_db_errors (the registry's watch registering a replica's session)
    # answered INTERNAL while PostgreSQL was down: a fault of a dependency, which the caller retries, told as our bug.
    def unreachable(_: bytes, __: grpc.ServicerContext) -> bytes:
        engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres")
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            engine.dispose()
        return b""

    def pool_exhausted(_: bytes, __: grpc.ServicerContext) -> bytes:
        raise PoolTimeout("QueuePool limit reached")

    unavailable = (grpc.StatusCode.UNAVAILABLE, "ERROR_REASON_DEPENDENCY_UNAVAILABLE")
    _assert_refusals(
        servers,
        "Storage",
        {"Unreachable": (unreachable, *unavailable), "PoolExhausted": (pool_exhausted, *unavailable)},
    )


def test_health_follows_readiness_checks(servers: list[RunningServer]) -> None:
    ready = {"db": False}
    server = _serve("Ready", {}, readiness=[lambda: ready["db"]], readiness_interval=0.05)
    servers.append(server)
    with grpc.insecure_channel(server.address) as ch:
        stub = health_pb2_grpc.HealthStub(ch)
        check = health_pb2.HealthCheckRequest(service="test.Ready")
        assert stub.Check(check).status == health_pb2.HealthCheckResponse.NOT_SERVING
        ready["db"] = True
        stream = stub.Watch(check, timeout=5)
        statuses = []
        for update in stream:
            statuses.append(update.status)
            if update.status == health_pb2.HealthCheckResponse.SERVING:
                break
        assert statuses[-1] == health_pb2.HealthCheckResponse.SERVING
        stopper = threading.Thread(target=server.stop, args=(0.1, 1.0))
        stopper.start()
        deadline = time.monotonic() + 5
        overall = health_pb2.HealthCheckRequest()
        while stub.Check(overall).status == health_pb2.HealthCheckResponse.SERVING:
            assert time.monotonic() < deadline, "health never left SERVING during the drain"
            time.sleep(0.02)
        stopper.join()


def test_a_plain_listener_answers_the_liveness_probe_whatever_the_readiness() -> None:
    # The gateway's liveness probe asks its plaintext listener (its main port is mTLS): a NOT_FOUND there restarted it.
    listener = PlainListener("test", "127.0.0.1:0", [lambda: False])
    try:
        with grpc.insecure_channel(f"127.0.0.1:{listener.port}") as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            live = stub.Check(health_pb2.HealthCheckRequest(service=LIVENESS), timeout=5)
            assert live.status == health_pb2.HealthCheckResponse.SERVING
    finally:
        listener.begin_stop(0).wait()


def test_trace_begun_in_one_service_continues_in_the_next(servers: list[RunningServer]) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    downstream = _serve("Down", {"Echo": lambda req, _: req}, tracer_provider=provider)
    servers.append(downstream)
    channel = make_channel(downstream.address, tracer_provider=provider)
    echo = channel.unary_unary("/test.Down/Echo")

    upstream = _serve("Up", {"Call": lambda req, _: echo(req)}, tracer_provider=provider)
    servers.append(upstream)
    assert _call(upstream, "Up", "Call", b"ping") == b"ping"
    channel.close()

    spans = {s.name: s for s in exporter.get_finished_spans()}
    up, client, down = spans["/test.Up/Call"], spans["/test.Down/Echo"], None
    downs = [s for s in exporter.get_finished_spans() if s.name == "/test.Down/Echo"]
    assert len(downs) == 2  # the client span in Up and the server span in Down
    client = next(s for s in downs if s.kind.name == "CLIENT")
    down = next(s for s in downs if s.kind.name == "SERVER")
    assert up.context.trace_id == client.context.trace_id == down.context.trace_id
    assert client.parent is not None
    assert client.parent.span_id == up.context.span_id
    assert down.parent is not None
    assert down.parent.span_id == client.context.span_id


def test_with_tracing_off_the_callers_trace_context_still_reaches_the_next_hop(servers: list[RunningServer]) -> None:
    off = NoOpTracerProvider()
    seen: list[str] = []

    def record(req: bytes, context: grpc.ServicerContext) -> bytes:
        seen.extend(v for k, v in context.invocation_metadata() if k == "traceparent")
        return req

    downstream = _serve("Down", {"Echo": record}, tracer_provider=off)
    servers.append(downstream)
    channel = make_channel(downstream.address, tracer_provider=off)
    echo = channel.unary_unary("/test.Down/Echo")
    upstream = _serve("Up", {"Call": lambda req, _: echo(req)}, tracer_provider=off)
    servers.append(upstream)
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    with grpc.insecure_channel(upstream.address) as ch:
        ch.unary_unary("/test.Up/Call")(
            b"x", metadata=[("traceparent", f"00-{trace_id}-00f067aa0ba902b7-01")], timeout=5
        )
    channel.close()
    assert len(seen) == 1
    assert seen[0].split("-")[1] == trace_id


def test_each_call_writes_one_rpc_line_in_the_same_shape_as_other_lines(servers: list[RunningServer]) -> None:
    """The per-RPC line skips the processor chain for speed: it must still carry what the chain would add, and
    a request id chosen by the caller is redacted like any other text."""
    import io
    import json

    import structlog

    from services.kit.logging import configure_logging

    buf = io.StringIO()
    configure_logging("shape", stream=buf)
    seen: dict[str, object] = {}

    def inner(_: bytes, __: grpc.ServicerContext) -> bytes:
        structlog.get_logger("t").info("inside")
        return b"ok"

    server = _serve("Shape", {"Call": inner})
    servers.append(server)
    with grpc.insecure_channel(server.address) as ch:
        ch.unary_unary("/test.Shape/Call")(b"x", timeout=5, metadata=(("x-request-id", "r-13912345678"),))
    lines = [json.loads(line) for line in buf.getvalue().splitlines()]
    inside = next(line for line in lines if line["event"] == "inside")
    rpc = next(line for line in lines if line["event"] == "rpc")
    seen.update(rpc)
    assert set(inside) - {"logger"} <= set(rpc), "the rpc line lacks keys the chain adds"
    assert rpc["service"] == inside["service"] == "shape"
    assert rpc["method"] == inside["method"] == "/test.Shape/Call"
    assert rpc["code"] == "OK"
    assert rpc["level"] == "info"
    assert str(rpc["timestamp"]).endswith("Z")
    assert isinstance(rpc["duration_ms"], float)
    assert rpc["request_id"] == inside["request_id"] == "r-[REDACTED]"
    assert "13912345678" not in buf.getvalue()
    # A request id is a token: one with spaces (a spaced mobile number gets past redaction) is not logged at all.
    buf.seek(0)
    buf.truncate(0)
    with grpc.insecure_channel(server.address) as ch:
        ch.unary_unary("/test.Shape/Call")(b"x", timeout=5, metadata=(("x-request-id", "139 1234 5678"),))
    rpc = next(json.loads(line) for line in buf.getvalue().splitlines() if '"rpc"' in line)
    assert rpc.get("request_id") is None
    assert "5678" not in buf.getvalue()


def test_fast_lane_methods_run_on_their_own_small_pool(servers: list[RunningServer]) -> None:
    threads: dict[str, str] = {}

    def record(name: str) -> Handler:
        def handler(_: bytes, __: grpc.ServicerContext) -> bytes:
            threads[name] = threading.current_thread().name
            return b"ok"

        return handler

    server = _serve(
        "Lanes",
        {"Fast": record("Fast"), "Slow": record("Slow")},
        fast_lane=frozenset({"/test.Lanes/Fast"}),
        fast_lane_workers=2,
    )
    servers.append(server)
    for method in ("Fast", "Slow", "Fast"):
        assert _call(server, "Lanes", method) == b"ok"
    assert threads["Fast"].startswith("Lanes-fast")
    assert not threads["Slow"].startswith("Lanes-fast")


class _Lines:
    """A log stream that tells when the per-RPC line of a call has been written."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []
        self.rpc_written = threading.Event()

    def write(self, text: str) -> int:
        import json

        for line in text.splitlines():
            if line.strip():
                parsed = json.loads(line)
                self.lines.append(parsed)
                if parsed.get("event") == "rpc":
                    self.rpc_written.set()
        return len(text)

    def flush(self) -> None:
        pass

    def rpc_codes(self) -> list[str]:
        return [line["code"] for line in self.lines if line.get("event") == "rpc"]


@pytest.fixture
def log_lines() -> Iterator[_Lines]:
    import io

    from services.kit.logging import configure_logging

    lines = _Lines()
    configure_logging("lines", stream=lines)  # type: ignore[arg-type]
    yield lines
    configure_logging("test", stream=io.StringIO())


def _requests(service: str, method: str, code: str) -> float:
    from prometheus_client import REGISTRY

    labels = {"service": service, "method": method, "code": code}
    return REGISTRY.get_sample_value("creditnode_rpc_requests_total", labels) or 0.0


def _until_gone(context: grpc.ServicerContext) -> None:
    """Block until the call has ended for the client (it cancelled, or its deadline passed)."""
    gone = threading.Event()
    context.add_callback(gone.set)
    assert gone.wait(30), "the call never ended for the client"


def test_a_stream_the_client_cancels_still_writes_its_line_and_is_counted(
    servers: list[RunningServer], log_lines: _Lines
) -> None:
    def watch(_: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
        yield b"first"
        _until_gone(context)
        yield b"second"  # the client has gone: gRPC drops the stream here

    def register(server: grpc.Server) -> list[str]:
        handlers = {"Watch": grpc.unary_stream_rpc_method_handler(watch)}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Cancel", handlers),))
        return ["test.Cancel"]

    server = RunningServer(ServerSpec(name="cancel", listen_addr="127.0.0.1:0", register=register))
    servers.append(server)
    with grpc.insecure_channel(server.address) as ch:
        stream = ch.unary_stream("/test.Cancel/Watch")(b"x", timeout=30)
        assert next(stream) == b"first"
        stream.cancel()
        assert log_lines.rpc_written.wait(30), "a cancelled stream wrote no rpc line"
    assert log_lines.rpc_codes() == ["CANCELLED"]
    assert _requests("cancel", "/test.Cancel/Watch", "CANCELLED") == 1


def test_a_client_stream_the_client_cancels_is_counted_cancelled_not_internal(
    servers: list[RunningServer], log_lines: _Lines
) -> None:
    # Reading the next message of a client stream whose client has gone raises; that is the client leaving, not a
    # failure of the server: it must not count (or alert) as INTERNAL.
    first_read = threading.Event()
    gone = threading.Event()

    def upload(messages: Iterator[bytes], context: grpc.ServicerContext) -> bytes:
        context.add_callback(gone.set)  # called once the call has ended: here, cancelled by the client
        next(messages)
        first_read.set()
        # Read on only once the cancellation has arrived: read before, the end of the stream can come first (gRPC
        # completes a pending read of a cancelled call as if the client had finished) and the call end OK.
        assert gone.wait(30)
        for _ in messages:  # raises: the client has gone
            pass
        return b"done"

    def register(server: grpc.Server) -> list[str]:
        handlers = {"Upload": grpc.stream_unary_rpc_method_handler(upload)}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Upload", handlers),))
        return ["test.Upload"]

    server = RunningServer(ServerSpec(name="upload", listen_addr="127.0.0.1:0", register=register))
    servers.append(server)
    hold = threading.Event()

    def sent() -> Iterator[bytes]:
        yield b"first"
        hold.wait(30)

    with grpc.insecure_channel(server.address) as ch:
        call = ch.stream_unary("/test.Upload/Upload").future(sent(), timeout=30)
        assert first_read.wait(30), "the server never read the first message"
        call.cancel()
        hold.set()
        assert log_lines.rpc_written.wait(30), "a cancelled client stream wrote no rpc line"
    assert log_lines.rpc_codes() == ["CANCELLED"]
    assert _requests("upload", "/test.Upload/Upload", "CANCELLED") == 1
    assert _requests("upload", "/test.Upload/Upload", "INTERNAL") == 0
    assert not [line for line in log_lines.lines if line.get("event") == "unhandled_error"]


def test_a_call_answered_after_its_deadline_is_not_counted_as_ok(
    servers: list[RunningServer], log_lines: _Lines
) -> None:
    def slow(_: bytes, context: grpc.ServicerContext) -> bytes:
        _until_gone(context)
        return b"too late"

    server = _serve("Late", {"Slow": slow})
    servers.append(server)
    with grpc.insecure_channel(server.address) as ch, pytest.raises(grpc.RpcError) as err:
        ch.unary_unary("/test.Late/Slow")(b"x", timeout=0.2)
    assert err.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert log_lines.rpc_written.wait(30)
    assert log_lines.rpc_codes() == ["DEADLINE_EXCEEDED"]
    assert _requests("Late", "/test.Late/Slow", "OK") == 0


def test_a_request_that_is_not_a_valid_message_is_invalid_argument(servers: list[RunningServer]) -> None:
    from google.protobuf.timestamp_pb2 import Timestamp

    def register(server: grpc.Server) -> list[str]:
        echo = grpc.unary_unary_rpc_method_handler(
            lambda request, _: request,
            request_deserializer=Timestamp.FromString,
            response_serializer=Timestamp.SerializeToString,
        )
        seen: list[int] = []

        def count(messages: Iterator[Timestamp], _: grpc.ServicerContext) -> Timestamp:
            for m in messages:
                seen.append(m.seconds)
            return Timestamp(seconds=len(seen))

        counter = grpc.stream_unary_rpc_method_handler(
            count, request_deserializer=Timestamp.FromString, response_serializer=Timestamp.SerializeToString
        )
        handlers = {"Echo": echo, "Count": counter}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Typed", handlers),))
        return ["test.Typed"]

    server = RunningServer(ServerSpec(name="typed", listen_addr="127.0.0.1:0", register=register))
    servers.append(server)
    valid = Timestamp(seconds=7).SerializeToString()
    errors = []
    with grpc.insecure_channel(server.address) as ch:
        call = ch.unary_unary("/test.Typed/Echo")
        assert call(valid, timeout=5) == valid
        with pytest.raises(grpc.RpcError) as err:
            call(b"\xff\xff\xff", timeout=5)
        errors.append(err.value)
        stream = ch.stream_unary("/test.Typed/Count")
        assert stream(iter([valid, valid]), timeout=5) == Timestamp(seconds=2).SerializeToString()
        with pytest.raises(grpc.RpcError) as err:  # a stream's malformed message, after a valid one
            stream(iter([valid, b"\xff\xff\xff", valid]), timeout=5)
        errors.append(err.value)
    for error in errors:
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        info = error_info(error)
        assert info is not None
        assert info.reason == "ERROR_REASON_INVALID_FIELD"


def test_a_downstream_call_gets_no_more_time_than_the_caller_left(servers: list[RunningServer]) -> None:
    remaining: list[float] = []

    def record(req: bytes, context: grpc.ServicerContext) -> bytes:
        remaining.append(context.time_remaining())  # type: ignore[attr-defined]
        return req

    downstream = _serve("Down", {"Echo": record})
    servers.append(downstream)
    channel = make_channel(downstream.address, timeout=60)
    echo = channel.unary_unary("/test.Down/Echo")
    upstream = _serve("Up", {"Call": lambda req, _: echo(req)})
    servers.append(upstream)
    with grpc.insecure_channel(upstream.address) as ch:
        ch.unary_unary("/test.Up/Call")(b"x", timeout=10)
    channel.close()
    assert len(remaining) == 1
    # the caller's deadline (10 s, which gRPC may round up a little on the wire), not the channel's 60 s default
    assert remaining[0] < 30


def test_an_unexpected_exception_leaves_no_personal_data_in_the_trace(servers: list[RunningServer]) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    def crash(_: bytes, __: grpc.ServicerContext) -> bytes:
        raise RuntimeError("no enterprise for 61010319900307123X")

    server = _serve("Traced", {"Crash": crash}, tracer_provider=provider)
    servers.append(server)
    with pytest.raises(grpc.RpcError) as err:
        _call(server, "Traced", "Crash")
    assert err.value.code() == grpc.StatusCode.INTERNAL
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "/test.Traced/Crash"]
    told = f"{span.status} {span.attributes} {[e.attributes for e in span.events]}"
    assert "61010319900307123X" not in told
    assert span.attributes is not None
    assert span.attributes["rpc.grpc.status_code"] == grpc.StatusCode.INTERNAL.value[0]


def test_a_database_error_no_handler_caught_is_logged_without_the_values_it_carried(
    servers: list[RunningServer], log_lines: _Lines, database_url: str
) -> None:
    """The driver's message quotes the row (PostgreSQL: "DETAIL: Failing row contains (...)", "Key (...)=(...)") and
    SQLAlchemy's adds the bound parameters: neither reaches the log line of an unexpected failure."""
    import json

    from sqlalchemy import text

    from services.kit.db import make_engine

    name, address = "欧阳明珠", "西安市雁塔区科技路48号"
    engine = make_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                # SQLite does not hold a VARCHAR to its length: the check does (PostgreSQL's own refusal comes first)
                "CREATE TABLE people (k VARCHAR(8) PRIMARY KEY CHECK (length(k) <= 8),"
                " name TEXT NOT NULL, address TEXT NOT NULL)"
            )
        )

    def store(row: dict[str, str | None]) -> Handler:
        def handler(_: bytes, __: grpc.ServicerContext) -> bytes:
            with engine.begin() as conn:
                conn.execute(text("INSERT INTO people VALUES (:k, :name, :address)"), row)
            return b""

        return handler

    server = _serve(
        "Store",
        {
            "NotNull": store({"k": "a", "name": name, "address": None}),
            "TooLong": store({"k": "b" * 9, "name": name, "address": address}),
        },
    )
    servers.append(server)
    try:
        for method in ("NotNull", "TooLong"):
            with pytest.raises(grpc.RpcError) as err:
                _call(server, "Store", method)
            assert err.value.code() == grpc.StatusCode.INTERNAL
    finally:
        engine.dispose()
    failures = [line for line in log_lines.lines if line.get("event") == "unhandled_error"]
    assert [line["method"] for line in failures] == ["/test.Store/NotNull", "/test.Store/TooLong"]
    for line in failures:
        logged = json.dumps(line, ensure_ascii=False)
        assert name not in logged
        assert address not in logged
        assert "Traceback" in line["exception"]  # still says where it failed
    if engine.dialect.name == "postgresql":
        assert "IntegrityError" in failures[0]["exception"]
        assert "SQLSTATE 23502" in failures[0]["exception"]
        assert "column address" in failures[0]["exception"]  # and what failed, by schema names
        assert "SQLSTATE 22001" in failures[1]["exception"]


def test_the_server_span_records_the_method_and_status_but_not_the_callers_user_agent(
    servers: list[RunningServer],
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    server = _serve("Agent", {"Echo": lambda req, _: req}, tracer_provider=provider)
    servers.append(server)
    # A user agent is free text the caller chooses: a platform's app may well put its user's name or number there.
    agent = "loan-app/2.1 (王小明; 61010319900307123X; 13912345678)"
    with grpc.insecure_channel(server.address, options=[("grpc.primary_user_agent", agent)]) as ch:
        assert ch.unary_unary("/test.Agent/Echo")(b"x", timeout=5) == b"x"
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "/test.Agent/Echo"]
    assert span.attributes is not None
    told = " ".join(f"{k}={v}" for k, v in span.attributes.items())
    for value in ("王小明", "61010319900307123X", "13912345678", "loan-app"):
        assert value not in told
    # The standard attributes stay; nothing else (the peer's address neither) is recorded.
    assert dict(span.attributes) == {
        "rpc.system": "grpc",
        "rpc.service": "test.Agent",
        "rpc.method": "Echo",
        "rpc.grpc.status_code": grpc.StatusCode.OK.value[0],
    }
