"""A graceful stop waits for handlers still running before the stop hooks tear down what they use, within a bound."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from services.kit.listener import PlainListener
from services.kit.logging import configure_logging
from services.kit.server import RunningServer, ServerSpec
from tests.conftest import free_port
from tests.processes import REPO, ServiceProcess


class _Sink(io.StringIO):
    """The log: tells when the stop says it is waiting for handlers."""

    def __init__(self) -> None:
        super().__init__()
        self.waiting = threading.Event()

    def write(self, text: str) -> int:
        if '"waiting_for_handlers"' in text:
            self.waiting.set()
        return super().write(text)

    def lines(self, event: str) -> list[dict[str, Any]]:
        parsed = [json.loads(line) for line in self.getvalue().splitlines() if line.strip()]
        return [line for line in parsed if line["event"] == event]


@pytest.fixture
def sink() -> Iterator[_Sink]:
    out = _Sink()
    configure_logging("stop", stream=out)
    yield out
    configure_logging("test", stream=io.StringIO())


KINDS = ["unary", "fast_lane", "server_stream", "client_stream"]


@pytest.mark.parametrize("kind", KINDS)
def test_the_stop_hooks_wait_until_a_handler_still_running_has_returned(kind: str, sink: _Sink) -> None:
    # The handler goes on past the grace, ignoring the cancellation, as a release mid-append or an ingestion chunk
    # mid-commit would. It returns once the hooks have run (they would have disposed the engine under it) or once the
    # stop says it is waiting for it, whichever comes first, and notes which.
    entered = threading.Event()
    may_return = threading.Event()
    hooks: list[str] = []
    hooks_ran_before_return: list[bool] = []
    threading.Thread(target=lambda: sink.waiting.wait(60) and may_return.set(), daemon=True).start()

    def busy() -> None:
        entered.set()
        assert may_return.wait(60), "neither the hooks ran nor the stop waited"
        hooks_ran_before_return.append(bool(hooks))

    def hook() -> None:
        hooks.append("disposed")
        may_return.set()

    def unary(_: bytes, __: grpc.ServicerContext) -> bytes:
        busy()
        return b"done"

    def server_stream(_: bytes, __: grpc.ServicerContext) -> Iterator[bytes]:
        yield b"first"
        busy()
        yield b"late"

    def client_stream(messages: Iterator[bytes], _: grpc.ServicerContext) -> bytes:
        next(messages)
        busy()
        return b"done"

    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(unary),
        "ServerStream": grpc.unary_stream_rpc_method_handler(server_stream),
        "ClientStream": grpc.stream_unary_rpc_method_handler(client_stream),
    }

    def register(server: grpc.Server) -> list[str]:
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Busy", handlers),))
        return ["test.Busy"]

    server = RunningServer(
        ServerSpec(
            name="busy",
            listen_addr="127.0.0.1:0",
            register=register,
            on_stop=[hook],
            fast_lane=frozenset({"/test.Busy/Unary"}) if kind == "fast_lane" else frozenset(),
            stop_margin=60,
        )
    )
    client_done = threading.Event()

    def requests() -> Iterator[bytes]:
        yield b"first"
        client_done.wait(60)

    calls: list[Any] = []  # a call nothing refers to is cancelled
    try:
        with grpc.insecure_channel(server.address) as ch:
            if kind in ("unary", "fast_lane"):
                calls.append(ch.unary_unary("/test.Busy/Unary").future(b"x", timeout=60))
            elif kind == "server_stream":
                calls.append(ch.unary_stream("/test.Busy/ServerStream")(b"x", timeout=60))
                assert next(calls[0]) == b"first"
            else:
                calls.append(ch.stream_unary("/test.Busy/ClientStream").future(requests(), timeout=60))
            assert entered.wait(30), "the handler never started"
            still_running = server.stop(0.1)
    finally:
        client_done.set()
        may_return.set()
    assert hooks_ran_before_return == [False]
    assert hooks == ["disposed"]
    assert still_running == 0
    assert len(sink.lines("waiting_for_handlers")) == 1
    assert sink.lines("handlers_still_running") == []


_STUCK_SERVICE = textwrap.dedent(
    """
    import sys, threading
    from pathlib import Path

    import grpc
    import structlog

    from services.kit.config import ServiceSettings
    from services.kit.logging import configure_logging
    from services.kit.runtime import run_main
    from services.kit.server import RunningServer, ServerSpec

    def build(settings):
        configure_logging("stuck", background=True)

        def never_returns(request, context):
            print('{"event": "handler_entered"}', flush=True)
            threading.Event().wait()

        def register(server):
            handlers = {"Hang": grpc.unary_unary_rpc_method_handler(never_returns)}
            server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Stuck", handlers),))
            return ["test.Stuck"]

        def hook():
            structlog.get_logger("test").info("hook_ran")  # through the same writer as the stop's lines: in order

        spec = ServerSpec(
            name="stuck", listen_addr=settings.listen_addr, register=register, on_stop=[hook], stop_margin=0.5
        )
        return RunningServer(spec)

    run_main("stuck", ServiceSettings, Path("."), build)
    """
)


def test_a_handler_that_never_returns_does_not_keep_the_process_from_stopping(tmp_path: Path) -> None:
    address = f"127.0.0.1:{free_port()}"
    env = {
        **os.environ,
        "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'gen'}",
        "LISTEN_ADDR": address,
        "SHUTDOWN_GRACE_SECONDS": "0.2",
        "VAR_DIR": str(tmp_path),
    }
    log_path = tmp_path / "stuck.log"
    with log_path.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", _STUCK_SERVICE], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT
        )
    service = ServiceProcess("stuck", address, proc, log_path)
    try:
        service.wait_serving()
        with grpc.insecure_channel(address) as ch:
            call = ch.unary_unary("/test.Stuck/Hang").future(b"x", timeout=60)  # kept: a dropped call is cancelled
            deadline = time.monotonic() + 30
            while "handler_entered" not in service.log() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert "handler_entered" in service.log()
            # Before, the interpreter waited at exit for the pool's thread, forever: terminate() raised.
            code = service.terminate(timeout=30)
            assert call.done()
    finally:
        service.kill()
    lines = [json.loads(line) for line in service.log().splitlines() if line.startswith("{")]
    events = [line["event"] for line in lines]
    assert code == 1
    assert [line["count"] for line in lines if line["event"] == "handlers_still_running"] == [1]
    assert events.index("handlers_still_running") < events.index("hook_ran") < events.index("stopped")


def test_a_listeners_handlers_return_before_the_stop_hooks_run(sink: _Sink) -> None:
    # A listener stops with the server, before the stop hooks (the evidence writer and the engine): a department's
    # stream mid-commit on the registry's ingestion port must have returned first.
    entered = threading.Event()
    may_return = threading.Event()
    hooks_ran: list[bool] = []
    returned_before_hooks: list[bool] = []
    threading.Thread(target=lambda: sink.waiting.wait(60) and may_return.set(), daemon=True).start()

    def upload(messages: Iterator[bytes], _: grpc.ServicerContext) -> bytes:
        next(messages)
        entered.set()
        assert may_return.wait(60), "neither did the stop return nor did it wait"
        returned_before_hooks.append(not hooks_ran)
        return b"done"

    def register(server: grpc.Server) -> None:
        handlers = {"Upload": grpc.stream_unary_rpc_method_handler(upload)}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Ingest", handlers),))

    listener = PlainListener("ingest", "127.0.0.1:0", [], register)
    server = RunningServer(
        ServerSpec(
            name="svc",
            listen_addr="127.0.0.1:0",
            register=lambda _: [],
            listeners=[listener],
            on_stop=[lambda: hooks_ran.append(True)],
            stop_margin=60,
        )
    )
    client_done = threading.Event()

    def requests() -> Iterator[bytes]:
        yield b"first"
        client_done.wait(60)

    try:
        with grpc.insecure_channel(f"127.0.0.1:{listener.port}") as ch:
            call = ch.stream_unary("/test.Ingest/Upload").future(requests(), timeout=60)
            assert entered.wait(30), "the handler never started"
            still_running = server.stop(0.1)
            call.cancel()
    finally:
        client_done.set()
        may_return.set()
    assert returned_before_hooks == [True]
    assert still_running == 0
    assert hooks_ran == [True]
