"""Services write log lines from a background thread: none lost, each whole, each thread's in order."""

from __future__ import annotations

import io
import json
import threading

import structlog

from services.kit.logging import BackgroundLines, configure_logging, flush_logs


def test_lines_from_many_threads_are_all_written_whole_and_in_order() -> None:
    out = io.StringIO()
    lines = BackgroundLines(out, interval=0.01, batch=50)

    def write(n: int) -> None:
        for i in range(500):
            lines.info(json.dumps({"thread": n, "i": i}))

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines.close()
    got = [json.loads(line) for line in out.getvalue().splitlines()]
    assert len(got) == 3000
    for n in range(6):
        assert [g["i"] for g in got if g["thread"] == n] == list(range(500))


def test_services_lines_reach_the_stream_once_flushed() -> None:
    out = io.StringIO()
    configure_logging("svc", stream=out, background=True)
    try:
        structlog.get_logger("t").warning("held", note="13912345678")
        flush_logs()
        (line,) = [json.loads(x) for x in out.getvalue().splitlines()]
        assert (line["event"], line["service"], line["note"]) == ("held", "svc", "[REDACTED]")
    finally:
        configure_logging("test", stream=io.StringIO())  # stops the background writer


class _FailsOnce(io.StringIO):
    """A stream whose first write fails (a full pipe, a log collector restarting)."""

    failed = False

    def write(self, s: str) -> int:
        if not self.failed:
            self.failed = True
            raise OSError("broken pipe")
        return super().write(s)


def test_lines_whose_write_failed_are_written_by_the_next_round() -> None:
    out = _FailsOnce()
    lines = BackgroundLines(out, interval=0.01, batch=10_000)
    lines.info("first")
    lines.info("second")
    lines.flush_quietly()  # the failing round: what the writer thread does
    lines.info("third")
    lines.close()
    assert out.failed
    assert out.getvalue().splitlines() == ["first", "second", "third"]


class _Down(io.StringIO):
    """A stream that fails until it is brought back."""

    up = False

    def write(self, s: str) -> int:
        if not self.up:
            raise OSError("gone")
        return super().write(s)


def test_a_sink_down_for_long_costs_the_oldest_lines_and_says_how_many() -> None:
    out = _Down()
    lines = BackgroundLines(out, interval=60, batch=10_000, hold=100)
    for i in range(250):
        lines.info(str(i))
        lines.flush_quietly()
    assert lines.held() == 100
    out.up = True
    lines.close()
    first, *rest = out.getvalue().splitlines()
    assert json.loads(first) == {"event": "log_lines_dropped", "count": 150}
    assert rest == [str(i) for i in range(150, 250)]
