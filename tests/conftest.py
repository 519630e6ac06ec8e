"""Shared fixtures: free ports, a fresh database per test (SQLite, or PostgreSQL when configured), uncached loggers."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
SHARED_TESTDATA = Path(os.environ.get("CREDITNODE_SHARED_TESTDATA", REPO.parent / "shared" / "testdata"))
PG_URL = os.environ.get("CREDITNODE_TEST_PG_URL", "")


def _ephemeral_floor() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


_EPHEMERAL_FLOOR = _ephemeral_floor()
_HANDED_OUT: set[int] = set()


def free_port() -> int:
    """A port that binds now, below the kernel's ephemeral range: a port the kernel picked (bind to 0) can be taken
    by any outgoing connection's source port before the service binds it, which the e2e suites' traffic made
    happen. Never the same port twice in one test run."""
    rng = secrets.SystemRandom()
    for _ in range(1000):
        candidate = rng.randrange(20000, _EPHEMERAL_FLOOR)
        if candidate in _HANDED_OUT:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
        _HANDED_OUT.add(candidate)
        return candidate
    raise RuntimeError("no free port below the ephemeral range")


@pytest.fixture(scope="session", autouse=True)
def _loggers_never_cached() -> Iterator[None]:
    """structlog assembles a logger afresh on each use in tests, from the configuration current then.

    ``configure_logging`` caches a logger on its first use, which suits a service (configured once). Tests configure
    structlog again and again in one process: a module-level logger first used under one test's configuration kept
    that configuration's processor list and sink for the rest of the run, so a later test's ``capture_logs`` (which
    swaps the processors of the list configured at that time) never saw its lines, and a test passed alone but failed
    after ``tests/unit``. Session-wide, so loggers used by module- and session-scoped fixtures are covered too."""
    configure = structlog.configure

    def uncached(*args: Any, **kwargs: Any) -> None:
        configure(*args, **{**kwargs, "cache_logger_on_first_use": False})

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(structlog, "configure", uncached)
        yield


@pytest.fixture
def port() -> int:
    return free_port()


def fresh_database(tmp_path: Path, label: str = "db") -> Iterator[str]:
    """A new empty database: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    if not PG_URL:
        yield f"sqlite:///{tmp_path / f'{label}.db'}"
        return
    name = f"cn_test_{label}_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(tmp_path)


@pytest.fixture(scope="session")
def backend() -> str:
    return "postgresql" if PG_URL else "sqlite"


@pytest.fixture
def registry_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An in-process registry on a real port, over the configured database backend; yields its address."""
    from services.registry.main import RegistrySettings, build

    settings = RegistrySettings(
        listen_addr="127.0.0.1:0", database_url=database_url, var_dir=tmp_path, ca_autocreate=True
    )
    server = build(settings, configure_logs=False)
    try:
        yield server.address
    finally:
        server.stop(0)
