"""A PostgreSQL server that does not answer fails a connection in seconds; it does not hold a thread indefinitely."""

from __future__ import annotations

import socket
import threading
import time

from sqlalchemy.exc import OperationalError

from services.kit.db import make_engine, ping


def test_a_database_that_does_not_answer_fails_the_readiness_ping_within_seconds() -> None:
    # A database host gone silent (a network partition, a node lost: the connection's packets go unanswered) is
    # stood in for by a socket whose backlog takes the connection and never answers the start-up message. psycopg has
    # no connect timeout unless told: the readiness ping, run on the one thread that keeps health up to date, hung
    # there, so health said SERVING through the outage, and every request thread that needed a connection hung too.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    engine = make_engine(f"postgresql+psycopg://creditnode@127.0.0.1:{silent.getsockname()[1]}/creditnode")
    outcome: list[object] = []

    def check() -> None:
        started = time.monotonic()
        try:
            ping(engine)
        except OperationalError:
            outcome.append(time.monotonic() - started)

    try:
        thread = threading.Thread(target=check, daemon=True)
        thread.start()
        thread.join(30)
        assert outcome, "the ping neither answered nor failed within 30 s"
        assert outcome[0] < 15
    finally:
        engine.dispose()
        silent.close()
