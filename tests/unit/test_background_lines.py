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
