"""The one server bootstrap every service uses: interceptors, health that reflects readiness, reflection, shutdown."""

from __future__ import annotations

import contextlib
import re
import signal
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, ClassVar, NoReturn, ParamSpec, Protocol, TypeVar

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider

from services.kit.db import is_unique_clash, storage_failure
from services.kit.errors import Aborted, DomainError
from services.kit.logging import call_lines, current_call, flush_logs
from services.kit.metrics import observe_rpc
from services.kit.status import domain_error_status, internal_error_status
from services.kit.tracing import server_span_interceptor
from services.kit.validation import invalid

log = structlog.get_logger("kit.server")

ReadinessCheck = Callable[[], bool]
LIVENESS = "creditnode.liveness"
MAX_MESSAGE_BYTES = 8 * 1024 * 1024
# grpcio reports a call without a deadline as having about 2**63 seconds left; anything that long is "none".
_NO_DEADLINE = 10.0**9
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_HEALTH_CHECK = f"/{health.SERVICE_NAME}/Check"


class RequestInterceptor(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """Binds request context, writes one canonical log line per call, turns domain errors into statuses.

    Wrapped handlers are built once per method and cached: building them per call halved throughput."""

    def __init__(self, service: str, propagate_only: bool = False) -> None:
        self._wrapped: dict[str, Any] = {}
        self.service = service
        self.propagate_only = propagate_only

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        method = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is not None:
            return cached
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        wrapped = _wrap_handler(handler, self.service, method, self.propagate_only)
        self._wrapped[method] = wrapped
        return wrapped


class _OwnPools(grpc.ServerInterceptor):  # type: ignore[type-arg]
    """Runs streaming calls, health checks and the fast lane on pools of their own. A stream holds its thread while
    it is open (watches, subscriptions: for hours), so on the main pool as many streams as threads left none for unary
    calls or the health checks the kubelet's probes make; and health checks queued behind calls waiting on a database
    that is down, so the liveness probe failed. Outermost, so that it also sees the handlers the tracing interceptor
    builds (inside it, the pools it set were lost with tracing on)."""

    def __init__(
        self,
        streams: futures.ThreadPoolExecutor,
        health_checks: futures.ThreadPoolExecutor,
        fast_lane: frozenset[str] = frozenset(),
        fast_pool: futures.ThreadPoolExecutor | None = None,
    ) -> None:
        self._streams = streams
        self._health_checks = health_checks
        self._fast_lane = fast_lane
        self._fast_pool = fast_pool

    def intercept_service(self, continuation: Any, handler_call_details: Any) -> Any:
        handler = continuation(handler_call_details)
        # grpcio runs a behaviour on its experimental_thread_pool when it has one.
        if handler is not None and (handler.request_streaming or handler.response_streaming):
            behavior = handler.unary_stream or handler.stream_unary or handler.stream_stream
            behavior.experimental_thread_pool = self._streams
        elif handler is not None and handler_call_details.method == _HEALTH_CHECK:
            handler.unary_unary.experimental_thread_pool = self._health_checks
        elif handler is not None and handler_call_details.method in self._fast_lane:
            handler.unary_unary.experimental_thread_pool = self._fast_pool
        return handler


def _wrap_handler(handler: Any, service: str, method: str, propagate_only: bool) -> Any:
    kinds = {
        "unary_unary": (grpc.unary_unary_rpc_method_handler, _wrap_unary),
        "stream_unary": (grpc.stream_unary_rpc_method_handler, _wrap_unary),
        "unary_stream": (grpc.unary_stream_rpc_method_handler, _wrap_stream),
        "stream_stream": (grpc.stream_stream_rpc_method_handler, _wrap_stream),
    }
    for attr, (make, wrap) in kinds.items():
        behavior = getattr(handler, attr)
        if behavior:
            deserializer = handler.request_deserializer
            if deserializer is not None:
                deserializer = _lenient(deserializer)
                if attr.startswith("stream_"):
                    behavior = _checking_messages(behavior)
            return make(
                wrap(behavior, service, method, propagate_only),
                request_deserializer=deserializer,
                response_serializer=handler.response_serializer,
            )
    return handler


# What a request message that is not a valid message deserializes to: gRPC would answer a deserializer's exception
# with INTERNAL and no ErrorInfo, before any interceptor runs; the wrapped handler answers this with INVALID_ARGUMENT
# (a stream's handler when it reaches that message: what came before it has been handled).
_MALFORMED = object()


def _checking_messages(behavior: Callable[..., Any]) -> Callable[..., Any]:
    def checked(messages: Iterator[Any]) -> Iterator[Any]:
        for message in messages:
            if message is _MALFORMED:
                raise _malformed()
            yield message

    return lambda request_iterator, context: behavior(checked(request_iterator), context)


def _lenient(deserializer: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    def deserialize(raw: bytes) -> Any:
        try:
            return deserializer(raw)
        except Exception:
            return _MALFORMED

    return deserialize


def _malformed() -> DomainError:
    return invalid("request", "is not a valid message")


def _enter_call(context: grpc.ServicerContext, method: str, propagate_only: bool) -> tuple[Any, Any]:
    """Name the call for logs and, with tracing off, carry the caller's trace context through it (so downstream calls
    continue the same trace) without the span machinery; with tracing on, the OpenTelemetry interceptor does that.
    One pass over the metadata, since this runs on every call. The call's deadline goes along too, so that calls made
    serving it never outlive it (``services.kit.client``)."""
    request_id = None
    carrier: dict[str, str] | None = None
    for key, value in context.invocation_metadata() or ():
        if key == "x-request-id":
            # A caller's token, logged on every line of the call: anything else (spaces, separators) could carry a
            # personal number past the redaction's patterns, so it is not kept at all.
            request_id = str(value) if _REQUEST_ID.fullmatch(str(value)) else None
        elif propagate_only and key == "traceparent":  # a caller's tracestate is not carried (TraceParentOnly)
            carrier = carrier or {}
            carrier[key] = str(value)
    left = context.time_remaining()
    deadline = time.monotonic() + left if left is not None and left < _NO_DEADLINE else None
    call_token = current_call.set((method, request_id, deadline))
    trace_token = otel_context.attach(propagate.extract(carrier)) if carrier else None
    return call_token, trace_token


def _leave_call(tokens: tuple[Any, Any]) -> None:
    call_token, trace_token = tokens
    if trace_token is not None:
        otel_context.detach(trace_token)
    with contextlib.suppress(ValueError):  # a stream closed by the garbage collector runs this in another context
        current_call.reset(call_token)


def _status_code(context: grpc.ServicerContext) -> grpc.StatusCode | None:
    """The code a handler already set (e.g. by ``context.abort``); grpc-stubs lack ``code()``."""
    code: grpc.StatusCode | None = context.code()  # type: ignore[attr-defined]
    return code


def _finish(
    context: grpc.ServicerContext, service: str, method: str, started: float, exc: BaseException | None
) -> grpc.Status | None:
    """Write the canonical line and count the call; the status to abort with for ``exc`` (None: nothing to add)."""
    code = "OK"
    reason = ""
    if exc is not None and not isinstance(exc, DomainError) and is_unique_clash(exc):
        # A race the handler did not expect (two writers, one key): the other request won; a retry finds its result.
        # The driver's message is not logged: it quotes the clashing key.
        log.warning("unique_clash", method=method)
        exc = Aborted("ERROR_REASON_CONCURRENT_MODIFICATION", "a concurrent request won; retry")
    if exc is not None and not isinstance(exc, DomainError):
        # Database work done outside translate_db_errors (a watch registering its session before any unit of work):
        # a database down is still the dependency's failure, which the caller may retry, not our bug.
        failure = storage_failure(exc)
        if failure is not None:
            log.warning("storage_failure", method=method, error=type(exc).__name__)
            exc = failure
    if isinstance(exc, grpc.RpcError) and not context.is_active():
        # A client stream's next message was read after its client had gone (cancelled, deadline passed, or the
        # server cancelling calls as it stops): gRPC raises that from the request iterator. Not a server failure.
        exc = None
    if isinstance(exc, DomainError):
        status = domain_error_status(exc)
        code, reason = grpc.StatusCode(status.code).name, exc.reason
    elif exc is not None and _status_code(context) is None:
        log.error("unhandled_error", method=method, exc_info=exc)
        status = internal_error_status()
        code, reason = "INTERNAL", "ERROR_REASON_UNSPECIFIED"
    else:
        status = None
        already = _status_code(context)
        if already is not None:
            code = already.name
        elif not context.is_active():
            # The client has gone: it saw its deadline pass or cancelled, whatever the handler made of it.
            code = "DEADLINE_EXCEEDED" if context.time_remaining() <= 0 else "CANCELLED"
    elapsed = time.perf_counter() - started
    call_lines.write(method, code, reason or None, round(elapsed * 1000, 3))
    observe_rpc(service, method, code, elapsed)
    return status


def _abort(context: grpc.ServicerContext, status: grpc.Status) -> NoReturn:
    # Called outside the handler's ``except``: an abort raised while handling the exception would chain it, and
    # tracing records that chain, message and all, on the span. set_code first so the span carries the code.
    context.set_code(status.code)
    context.abort_with_status(status)
    raise AssertionError("abort_with_status returned")  # it always raises


def _wrap_unary(behavior: Callable[..., Any], service: str, method: str, propagate_only: bool) -> Callable[..., Any]:
    def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
        started = time.perf_counter()
        tokens = _enter_call(context, method, propagate_only)
        try:
            if request is _MALFORMED:
                raise _malformed()
            response = behavior(request, context)
        except Exception as exc:  # every failure must become a proper status
            status = _finish(context, service, method, started, exc)
            if status is None:
                raise
        else:
            _finish(context, service, method, started, None)
            return response
        finally:
            _leave_call(tokens)
        _abort(context, status)

    return wrapped


def _wrap_stream(
    behavior: Callable[..., Iterator[Any]], service: str, method: str, propagate_only: bool
) -> Callable[..., Any]:
    def wrapped(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        started = time.perf_counter()
        tokens = _enter_call(context, method, propagate_only)
        try:
            if request is _MALFORMED:
                raise _malformed()
            yield from behavior(request, context)
        except GeneratorExit:
            # gRPC drops a stream once its client has gone (cancelled, deadline passed): it still gets its line.
            _finish(context, service, method, started, None)
            raise
        except Exception as exc:
            status = _finish(context, service, method, started, exc)
            if status is None:
                raise
        else:
            _finish(context, service, method, started, None)
            return
        finally:
            _leave_call(tokens)
        _abort(context, status)

    return wrapped


def all_ready(checks: Sequence[ReadinessCheck]) -> bool:
    """Whether every readiness check passes; a check that raises counts as failing, never as a crash."""
    ready = True
    for check in checks:
        try:
            ready = ready and bool(check())
        except Exception:
            ready = False
    return ready


P = ParamSpec("P")
T = TypeVar("T")


class CallPool(futures.ThreadPoolExecutor):
    """A server's thread pool that counts the calls it is running. gRPC's stop ends calls (cancelling those past
    the grace) but a handler's thread runs on until its code returns: a stop waits on this count before tearing down
    what handlers use. gRPC submits one task per call, streams included, so the count is the calls in flight."""

    _every: ClassVar[weakref.WeakSet[CallPool]] = weakref.WeakSet()

    def __init__(self, max_workers: int, thread_name_prefix: str) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._idle = threading.Condition()
        self._running = 0
        CallPool._every.add(self)

    @classmethod
    def running_anywhere(cls) -> int:
        """Calls still running in any pool of the process (a listener's too)."""
        return sum(pool.running for pool in list(cls._every))

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> futures.Future[T]:
        with self._idle:
            self._running += 1
        try:
            return super().submit(self._counted, fn, *args, **kwargs)
        except BaseException:
            self._returned()
            raise

    def _counted(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return fn(*args, **kwargs)
        finally:
            self._returned()

    def _returned(self) -> None:
        with self._idle:
            self._running -= 1
            if not self._running:
                self._idle.notify_all()

    @property
    def running(self) -> int:
        return self._running

    def wait_returned(self, timeout: float) -> int:
        """Wait at most ``timeout`` seconds for every call to return; how many are still running."""
        with self._idle:
            self._idle.wait_for(lambda: not self._running, max(timeout, 0.0))
            return self._running


# How long a stop waits, once gRPC has ended every call, for handlers to return: a cancelled handler needs time to
# notice (watch loops look every 0.2 s) or to finish a statement or commit under way, which does not grow with the
# grace clients were given. A stop takes at most drain + grace + this, then the hooks (k8s/README.md, "Shutdown").
STOP_MARGIN_SECONDS = 5.0


def wait_for_handlers(name: str, pools: Sequence[CallPool], margin: float) -> int:
    """Wait at most ``margin`` seconds for the pools' calls to return; how many are still running (logged, as a
    count: a handler that never returns must not hold the process forever)."""
    running = sum(pool.running for pool in pools)
    if running:
        log.info("waiting_for_handlers", service=name, count=running, limit_seconds=margin)
    deadline = time.monotonic() + margin
    still = sum(pool.wait_returned(deadline - time.monotonic()) for pool in pools)
    if still:
        log.warning("handlers_still_running", service=name, count=still, waited_seconds=margin)
    for pool in pools:
        pool.shutdown(wait=False)
    return still


class Listener(Protocol):
    """A second port of the service (``kit.listener.PlainListener``), stopped with the server."""

    @property
    def pools(self) -> Sequence[CallPool]: ...

    def draining(self) -> None: ...

    def begin_stop(self, grace: float) -> threading.Event: ...


@dataclass
class ServerSpec:
    """What a service brings to the bootstrap; its composition root fills this in."""

    name: str
    listen_addr: str
    # register adds the servicers and returns the full names of the gRPC services added.
    register: Callable[[grpc.Server], Sequence[str]]
    readiness: Sequence[ReadinessCheck] = ()
    on_stop: Sequence[Callable[[], None]] = ()
    # listeners stop with the server: they leave SERVING as its drain begins (the gateway's readiness probe asks
    # one), their calls get its grace, and its wait for handlers covers theirs, within one budget.
    listeners: Sequence[Listener] = ()
    reflection: bool = True
    max_workers: int = 32
    # fast_lane names unary methods (full names, "/pkg.Service/Method") that only compute, served by a pool of
    # fast_lane_workers threads: a few threads contend less for the GIL than many, which on a busy server more than
    # doubled what those calls cost (docs/architecture.md, "The request path, measured"). Unary calls that
    # wait stay on the main pool (streams have their own). With tracing export on they are traced, on the fast lane.
    fast_lane: frozenset[str] = frozenset()
    fast_lane_workers: int = 4
    # stream_workers bounds the streams served at once, on a pool of their own (``_OwnPools``): a stream
    # past it waits for one to end, while unary calls and health checks keep the max_workers threads.
    stream_workers: int = 64
    credentials: grpc.ServerCredentials | None = None
    tracer_provider: trace.TracerProvider | None = None
    readiness_interval: float = 1.0
    extra_interceptors: Sequence[Any] = field(default_factory=tuple)
    # max_receive_bytes caps one request: a door facing the outside keeps it small (big hostile messages leave
    # memory behind in the allocator even when refused).
    max_receive_bytes: int = MAX_MESSAGE_BYTES
    # stop_margin bounds how long a stop waits, after the grace, for handlers to return (``STOP_MARGIN_SECONDS``).
    stop_margin: float = STOP_MARGIN_SECONDS


class RunningServer:
    """A started server: its port, its health, and a graceful stop."""

    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        provider = spec.tracer_provider or trace.get_tracer_provider()
        recording = isinstance(provider, SdkTracerProvider)
        self._fast_pool = (
            CallPool(max_workers=spec.fast_lane_workers, thread_name_prefix=f"{spec.name}-fast")
            if spec.fast_lane
            else None
        )
        self._pool = CallPool(max_workers=spec.max_workers, thread_name_prefix=spec.name)
        self._stream_pool = CallPool(max_workers=spec.stream_workers, thread_name_prefix=f"{spec.name}-stream")
        # A health check only reads a status: two threads answer every probe at once.
        self._health_pool = CallPool(max_workers=2, thread_name_prefix=f"{spec.name}-health")
        interceptors = [
            _OwnPools(self._stream_pool, self._health_pool, spec.fast_lane, self._fast_pool),
            *([server_span_interceptor(provider)] if recording else []),
            *spec.extra_interceptors,
            # innermost: it caches per method what lies behind it
            RequestInterceptor(spec.name, not recording),
        ]
        self.server = grpc.server(
            self._pool,
            interceptors=interceptors,
            options=[
                ("grpc.max_receive_message_length", spec.max_receive_bytes),
                ("grpc.max_send_message_length", MAX_MESSAGE_BYTES),
                ("grpc.so_reuseport", 0),
            ],
        )
        self.health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.service_names = list(spec.register(self.server))
        if spec.reflection:
            reflection.enable_server_reflection(
                [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server
            )
        if spec.credentials is not None:
            self.port = self.server.add_secure_port(spec.listen_addr, spec.credentials)
        else:
            self.port = self.server.add_insecure_port(spec.listen_addr)
        self._stopping = threading.Event()
        self._ready = False
        self._set_health(False)
        self.server.start()
        # Liveness answers "is the process alive", independent of readiness: a database outage must not restart pods.
        self.health.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
        self._refresh_readiness()
        self._watcher = threading.Thread(target=self._watch_readiness, name=f"{spec.name}-ready", daemon=True)
        self._watcher.start()

    @property
    def address(self) -> str:
        host = self.spec.listen_addr.rsplit(":", 1)[0]
        return f"{host}:{self.port}"

    def _set_health(self, ready: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if ready else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ("", *self.service_names):
            self.health.set(name, status)

    def _refresh_readiness(self) -> None:
        ready = all_ready(self.spec.readiness)
        if ready != self._ready and not self._stopping.is_set():
            self._ready = ready
            self._set_health(ready)
            log.info("readiness_changed", ready=ready)

    def _watch_readiness(self) -> None:
        while not self._stopping.wait(self.spec.readiness_interval):
            self._refresh_readiness()

    def stop(self, grace: float, drain: float = 0.0) -> int:
        """Health NOT_SERVING first and hold for ``drain`` (so balancers stop sending), then let calls finish, wait
        (at most ``spec.stop_margin``) for their handlers to return, and only then run the ``on_stop`` hooks, which
        tear down what handlers use (engines, the evidence writer). How many handlers were still running (0: all
        returned)."""
        if self._stopping.is_set():
            return 0
        self._stopping.set()
        self.health.enter_graceful_shutdown()
        for listener in self.spec.listeners:
            listener.draining()
        if drain > 0:
            time.sleep(drain)
        stopped = [self.server.stop(grace), *(listener.begin_stop(grace) for listener in self.spec.listeners)]
        for event in stopped:
            event.wait()
        pools = [self._pool, self._stream_pool, self._health_pool]
        if self._fast_pool is not None:
            pools.append(self._fast_pool)
        pools.extend(pool for listener in self.spec.listeners for pool in listener.pools)
        still = wait_for_handlers(self.spec.name, pools, self.spec.stop_margin)
        for hook in self.spec.on_stop:
            hook()
        log.info("stopped", service=self.spec.name)
        return still


def serve_until_signalled(
    server: RunningServer,
    grace: float,
    drain: float = 0.0,
    signals: Iterable[int] = (signal.SIGTERM, signal.SIGINT),
) -> int:
    """Block the main thread until SIGTERM/SIGINT, then stop gracefully; how many handlers were still running."""
    received: list[int] = []
    for sig in signals:
        # The handler only appends to a list. Python runs it in the main thread between any two bytecodes, also
        # while that thread holds a lock: one that set a threading.Event deadlocked when the signal came while the
        # loop below was inside Event.wait holding the event's own lock, and the process never stopped.
        signal.signal(sig, lambda signum, _: received.append(signum))
    log.info("serving", service=server.spec.name, listen=server.address)
    while not received:
        time.sleep(0.5)  # a signal delivered to another thread is seen here at the next turn
    log.info("stopping", service=server.spec.name, grace_seconds=grace, drain_seconds=drain)
    # Written out before any stop work: if the stop hangs, the log shows it got this far.
    with contextlib.suppress(Exception):  # a failing sink must not keep the service from stopping
        flush_logs()
    return server.stop(grace, drain)
