"""A database that does not answer, or a pool with no connection free, fails a call in bounded time as UNAVAILABLE."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from services.kit.db import SqlUnitOfWork, make_engine, ping, session_factories
from services.kit.errors import Unavailable
from tests.conftest import PG_URL


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


def test_a_unit_of_work_that_gets_no_connection_in_time_is_unavailable_not_internal(tmp_path: Path) -> None:
    # Each engine has a bounded pool and more threads than connections: under load, or while connections hang on a
    # database that is going away, a unit of work waits for one and gives up after the pool's timeout. That failure
    # escaped the translation to domain errors: answered INTERNAL and logged as an unhandled error, when the caller
    # may simply retry later.
    engine = create_engine(f"sqlite:///{tmp_path / 'db.sqlite'}", pool_size=1, max_overflow=0, pool_timeout=0.1)
    writer, _ = session_factories(engine)
    held = engine.connect()
    try:
        with pytest.raises(Unavailable), SqlUnitOfWork(writer) as uow:
            uow.session.execute(text("SELECT 1"))
    finally:
        held.close()
        engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="libpq's keepalives: needs CREDITNODE_TEST_PG_URL")
def test_postgresql_connections_probe_a_silent_peer_within_about_a_minute() -> None:
    # A database host that vanishes without a FIN (a partition, a lost node) leaves an established connection that
    # only TCP keepalives notice. libpq turns them on, but with the kernel's timing the first probe comes after two
    # hours of silence, and an idle pooled connection, or a request waiting on a query's answer, hung that long.
    engine = make_engine(PG_URL)
    try:
        with engine.connect() as conn:
            pgconn = conn.connection.driver_connection.pgconn  # type: ignore[union-attr]
            # fromfd duplicates the descriptor: closing ours leaves psycopg's socket open.
            with socket.fromfd(pgconn.socket, socket.AF_INET, socket.SOCK_STREAM) as sock:
                keepalive = sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)
                idle = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)
                interval = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL)
                count = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT)
                # a query sent to a vanished peer: retransmitted for some fifteen minutes without this
                unacknowledged_ms = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT)
    finally:
        engine.dispose()
    assert keepalive == 1
    assert idle + interval * count <= 90
    assert 0 < unacknowledged_ms <= 90_000
