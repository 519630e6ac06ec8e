"""Waiting for SIGTERM: a signal at any point of the wait stops the service, and the log says so before stopping."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.kit.logging import configure_logging
from services.kit.server import serve_until_signalled

REPO = Path(__file__).resolve().parents[3]

# Python runs a signal handler in the main thread between two of its bytecodes, wherever that thread is. The trace
# function calls the installed handler at every line the main thread runs once the handler is in place: a signal
# arriving at each of those points in turn, inside the waiting loop and whatever it calls.
_SIGNAL_AT_EVERY_LINE = textwrap.dedent(
    """
    import signal, sys
    from services.kit.server import serve_until_signalled

    class Spec:
        name = "signals"

    class Server:
        spec = Spec()
        address = "127.0.0.1:0"
        stopped = False

        def stop(self, grace, drain=0.0):
            Server.stopped = True

    def tracer(frame, event, arg):
        handler = signal.getsignal(signal.SIGTERM)
        if event == "line" and callable(handler) and handler is not signal.default_int_handler:
            handler(signal.SIGTERM, frame)
        return tracer

    sys.settrace(tracer)
    serve_until_signalled(Server(), grace=0.1)
    sys.settrace(None)
    print("stopped" if Server.stopped else "returned without stopping")
    """
)


def test_a_signal_arriving_at_any_point_of_the_wait_stops_the_server() -> None:
    # Before the fix the handler set a threading.Event: run while the main thread was inside Event.wait holding the
    # event's lock, it waited for that lock forever, and so did every later SIGTERM (the registry once did not stop
    # within 15 s in CI, with no "stopping" line). The child is killed if it hangs; it takes well under a second.
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{REPO / 'gen'}"}
    try:
        done = subprocess.run(
            [sys.executable, "-c", _SIGNAL_AT_EVERY_LINE],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("the main thread hung in the signal handler and the server was never stopped")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "stopped"


class _Sink(io.StringIO):
    """The service's stdout: tells when the "serving" line has been written."""

    def __init__(self) -> None:
        super().__init__()
        self.serving = threading.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        if '"serving"' in text:
            self.serving.set()
        return written

    def events(self) -> list[str]:
        return [json.loads(line)["event"] for line in self.getvalue().splitlines() if line.strip()]


@pytest.fixture
def sink() -> Iterator[_Sink]:
    out = _Sink()
    configure_logging("signals", stream=out, background=True)
    yield out
    configure_logging("test", stream=io.StringIO())


def test_the_stopping_line_is_written_out_before_the_stop_begins(sink: _Sink) -> None:
    # If the stop then hangs, the log shows the signal was seen; the background writer alone may not have written
    # the line yet (it writes every 50 ms) when the stop begins.
    seen_at_stop: list[list[str]] = []

    class Spec:
        name = "signals"

    class Server:
        spec = Spec()
        address = "127.0.0.1:0"

        def stop(self, grace: float, drain: float = 0.0) -> None:
            seen_at_stop.append(sink.events())

    def signal_once_serving() -> None:
        assert sink.serving.wait(30)
        os.kill(os.getpid(), signal.SIGUSR2)

    previous = signal.getsignal(signal.SIGUSR2)
    sender = threading.Thread(target=signal_once_serving)
    sender.start()
    try:
        serve_until_signalled(Server(), grace=0.1, signals=(signal.SIGUSR2,))  # type: ignore[arg-type]
    finally:
        sender.join()
        signal.signal(signal.SIGUSR2, previous)
    assert seen_at_stop == [["serving", "stopping"]]
