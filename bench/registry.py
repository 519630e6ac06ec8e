"""Group ``registry``: streamed record ingestion against raw COPY on PostgreSQL, SQLite rate, and flat memory."""

from __future__ import annotations

import json
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import grpc
import psutil
import psycopg
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from bench.figures import Figure
from creditnode.registry.v1 import records_pb2 as rec_pb
from services.kit.db import make_engine, migrate
from services.kit.workdays import WorkCalendar
from services.registry.domain.ledger import record_id_of
from services.registry.domain.records import IdempotencyKey, content_fingerprint
from services.registry.domain.sharing_list import load_sharing_list
from services.registry.main import MIGRATIONS
from services.registry.store.records import encode_fields
from tests.conftest import free_port
from tests.integration.registry.records_support import (
    as_department,
    create_departments,
    ingestion,
    tax_record,
    tax_stream,
)
from tests.processes import ServiceProcess, start_service
from tests.registry_helpers import RegistryClient

PG_URL = os.environ.get("CREDITNODE_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
RECORDS = 100_000
RSS_RECORDS = 1_000_000
ENTERPRISES = 50
MESSAGE = 500
TAX = as_department("sx-tax")


@contextmanager
def _pg_database() -> Iterator[str]:
    name = f"cn_bench_registry_{secrets.token_hex(4)}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def _registry(database_url: str, work: Path) -> Iterator[tuple[ServiceProcess, list[str]]]:
    env = {"DATABASE_URL": database_url, "VAR_DIR": str(work), "CA_AUTOCREATE": "true", "LOG_LEVEL": "WARNING"}
    proc = start_service("registry", free_port(), work, env)
    try:
        proc.wait_serving(60)
        with grpc.insecure_channel(proc.address) as ch:
            client = RegistryClient(ch)
            create_departments(client)
            platform, _ = client.admitted_platform("bench-city")
            usccs = [client.enterprise(platform.name)[0].uscc for _ in range(ENTERPRISES)]
        yield proc, usccs
    finally:
        proc.terminate()


def _messages(usccs: list[str], count: int) -> Iterator[rec_pb.StreamRecordsRequest]:
    batch: list[rec_pb.IngestRecord] = []
    for record in tax_stream(usccs, 1, count + 1):
        batch.append(record)
        if len(batch) == MESSAGE:
            yield rec_pb.StreamRecordsRequest(stream_id="bench", records=batch)
            batch = []
    if batch:
        yield rec_pb.StreamRecordsRequest(stream_id="bench", records=batch)


def _stream(
    address: str, messages: Iterator[rec_pb.StreamRecordsRequest]
) -> tuple[float, rec_pb.StreamRecordsResponse]:
    opts = [("grpc.max_send_message_length", 64 << 20)]
    with grpc.insecure_channel(address, options=opts) as ch:
        started = time.perf_counter()
        resp = ingestion(ch).StreamRecords(messages, metadata=TAX, timeout=3600)
        return time.perf_counter() - started, resp


def stream_seconds(database_url: str, count: int) -> float:
    """Seconds to stream ``count`` valid records through a real registry (messages built before the clock starts)."""
    with tempfile.TemporaryDirectory() as tmp, _registry(database_url, Path(tmp)) as (proc, usccs):
        messages = list(_messages(usccs, count))
        seconds, resp = _stream(proc.address, iter(messages))
        if resp.counts.accepted != count:
            raise RuntimeError(f"expected {count} accepted, got {resp.counts}")
        return seconds


def _copy_rows(
    usccs: list[str], count: int
) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]], list[tuple[object, ...]]]:
    """The rows the registry writes for the stream: records, record_versions and record_events."""
    listing = load_sharing_list()
    item = listing.item("TAX_PAYMENT")
    assert item is not None
    calendar = WorkCalendar.load()
    now = datetime.now(UTC)
    heads: list[tuple[object, ...]] = []
    versions: list[tuple[object, ...]] = []
    events: list[tuple[object, ...]] = []
    for n in range(1, count + 1):
        r = tax_record(usccs[n % len(usccs)], n, amount=f"{n % 997}.{n % 100:02d}")
        key = IdempotencyKey("sx-tax", "TAX_PAYMENT", r["source_record_id"], 1)
        rid = record_id_of(key)
        due = item.deadline.due_before(r["event_time"], calendar)
        heads.append((rid, r["uscc"], "TAX_PAYMENT", "sx-tax", r["source_record_id"], "CURRENT", 1, 1, now, now))
        versions.append(
            (rid, 1, r["uscc"], "TAX_PAYMENT", "sx-tax", "CURRENT", "DEPARTMENT", 1, key.digest, 1,
             content_fingerprint("sx-tax", "TAX_PAYMENT", r["uscc"], r["fields"]), encode_fields(r["fields"]),
             r["event_time"], now, due, now < due, "streams/bench", "", now, None)
        )  # fmt: skip
        events.append((1 + n // 1000, rid, "TAX_PAYMENT", "CREATED"))
    return heads, versions, events


def copy_seconds(count: int, usccs: list[str]) -> float:
    """Seconds for psycopg COPY of the same rows into the same, freshly migrated tables and indexes."""
    heads, versions, events = _copy_rows(usccs, count)
    with _pg_database() as url:
        engine = make_engine(url)
        migrate(engine, MIGRATIONS, "alembic_version_registry")
        engine.dispose()
        dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn) as conn:
            started = time.perf_counter()
            with conn.cursor() as cur:
                cols = "record_id, uscc, item_code, department, source_record_id, state, version, " \
                       "latest_source_version, created_at, updated_at"  # fmt: skip
                with cur.copy(f"COPY records ({cols}) FROM STDIN") as copy:
                    for row in heads:
                        copy.write_row(row)
                vcols = "record_id, version, uscc, item_code, department, state, kind, source_version, " \
                        "idempotency_key, list_version, fingerprint, fields, event_time, received_at, due_time, " \
                        "on_time, batch, objection, valid_from, valid_to"  # fmt: skip
                with cur.copy(f"COPY record_versions ({vcols}) FROM STDIN") as copy:
                    for row in versions:
                        copy.write_row(row)
                with cur.copy("COPY record_events (revision, record_id, item_code, type) FROM STDIN") as copy:
                    for row in events:
                        copy.write_row(row)
            conn.commit()
            return time.perf_counter() - started


class _RssSampler:
    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.peak = max(self.peak, self.now())
            except psutil.Error:
                return
            time.sleep(0.1)

    def now(self) -> int:
        return int(self.process.memory_info().rss)

    def __enter__(self) -> _RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def rss_figures(database_url: str, count: int) -> tuple[float, float, float, float]:
    """(peak MB, MB at 10%, MB at 100%, seconds) while ``count`` lazily generated records stream through."""
    marks: dict[str, float] = {}
    with (
        tempfile.TemporaryDirectory() as tmp,
        _registry(database_url, Path(tmp)) as (proc, usccs),
        _RssSampler(proc.proc.pid) as sampler,  # stops before the registry does
    ):

        def lazily() -> Iterator[rec_pb.StreamRecordsRequest]:
            sent = 0
            for message in _messages(usccs, count):
                yield message
                sent += len(message.records)
                if sent == count // 10:
                    marks["10%"] = sampler.now() / 2**20
            marks["100%"] = sampler.now() / 2**20

        seconds, resp = _stream(proc.address, lazily())
    if resp.counts.accepted != count:
        raise RuntimeError(f"expected {count} accepted, got {resp.counts}")
    return sampler.peak / 2**20, marks["10%"], marks["100%"], seconds


def run() -> list[Figure]:
    records = int(os.environ.get("BENCH_REGISTRY_RECORDS", RECORDS))
    rss_records = int(os.environ.get("BENCH_REGISTRY_RSS_RECORDS", RSS_RECORDS))
    with _pg_database() as url:
        pg_stream = stream_seconds(url, records)
    usccs = [f"91610100{n:08d}XX"[:18] for n in range(ENTERPRISES)]  # COPY needs no registered enterprises
    pg_copy = copy_seconds(records, usccs)
    with tempfile.TemporaryDirectory() as tmp:
        sqlite_stream = stream_seconds(f"sqlite:///{Path(tmp) / 'registry.db'}", records)
    with _pg_database() as url:
        peak, at10, at100, rss_seconds = rss_figures(url, rss_records)
    seconds = {"pg_stream": pg_stream, "pg_copy": pg_copy, "sqlite_stream": sqlite_stream, "rss_stream": rss_seconds}
    print(json.dumps({"seconds": seconds, "rss_mb_at_10pct": at10, "rss_mb_at_100pct": at100}), flush=True)
    return [
        Figure.at_least("registry.ingest_copy_ratio", pg_copy / pg_stream, "ratio", 0.5, baseline=records / pg_copy),
        Figure.reported("registry.ingest_pg_rps", records / pg_stream, "records/s"),
        Figure.reported("registry.ingest_sqlite_rps", records / sqlite_stream, "records/s"),
        Figure.reported("registry.ingest_peak_rss_mb", peak, "MB"),
        Figure.at_most("registry.ingest_rss_growth_ratio", at100 / at10, "ratio", 1.25, baseline=at10),
    ]
