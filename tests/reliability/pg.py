"""A private PostgreSQL instance (initdb into a temporary directory, its own port) that tests may stop and restart."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.conftest import free_port

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _as_postgres(*args: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120)


@dataclass
class PrivatePostgres:
    """Never the machine's shared server: a cluster in ``dir`` on ``port``, trust auth on 127.0.0.1 only."""

    dir: Path
    port: int

    @property
    def data(self) -> Path:
        return self.dir / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=on"
        _as_postgres(
            str(PG_BIN / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            opts,
            "-l",
            str(self.dir / "pg.log"),
            "-w",
            "-t",
            "60",
            "start",
        )

    def stop_immediate(self) -> None:
        """`pg_ctl stop -m immediate`: no shutdown checkpoint, as after a crash."""
        _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> str:
        engine = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    root = Path(tempfile.mkdtemp(prefix="cn-reliability-pg-"))
    shutil.chown(root, "postgres", "postgres")
    root.chmod(0o700)
    pg = PrivatePostgres(root, free_port())
    _as_postgres(str(PG_BIN / "initdb"), "-D", str(pg.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
    pg.start()
    try:
        yield pg
    finally:
        with contextlib.suppress(subprocess.CalledProcessError):
            _as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(pg.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(root, ignore_errors=True)
