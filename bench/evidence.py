"""Group ``evidence``: group-committed appends against bare one-row commits, and inclusion proofs at 1,000,000 leaves.

- ``evidence.append_rps_batch{1,16,128}``: durable appends per second from many threads into a SQLite file with
  ``synchronous=FULL``, with the writer taking at most 1, 16 or 128 queued leaves per transaction. Baseline: bare
  one-row INSERT + COMMIT per second on the same kind of file (what a log without group commit pays per event).
- ``evidence.proof_us``: median time to build one inclusion proof (state read, O(log n) subtree reads, folding)
  in a log of 1,000,000 leaves, populated with bulk inserts.
"""

from __future__ import annotations

import random
import shutil
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, update

from bench.figures import Figure
from services.kit import merkle
from services.kit.db import make_engine, service_metadata
from services.kit.evidence.entries import Entry, LeafKind
from services.kit.evidence.heads import NodeKey
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.schema import STATE_ROW_ID, EvidenceModels, add_evidence_tables
from services.kit.evidence.store import EvidenceStore

ROOT = Path(__file__).resolve().parents[1]
THREADS = 64
SECONDS = 3.0
PROOF_LEAVES = 1_000_000
PROOF_SAMPLES = 300


def _payload(i: int) -> dict[str, Any]:
    return {"request": f"req-{i}", "requester": "platforms/xian", "released_sha256": f"{i:064x}"}


def _fresh(path: Path) -> tuple[Any, EvidenceModels]:
    engine = make_engine(f"sqlite:///{path}", sqlite_synchronous="FULL")
    metadata = service_metadata()
    models = add_evidence_tables(metadata)
    metadata.create_all(engine)
    return engine, models


def bare_commit_rps(path: Path, seconds: float = SECONDS) -> float:
    """One row per transaction from one thread: the fsync-bound floor a per-event commit log sits on."""
    engine = make_engine(f"sqlite:///{path}", sqlite_synchronous="FULL")
    table = Table("bare", MetaData(), Column("id", Integer, primary_key=True), Column("entry", String))
    table.metadata.create_all(engine)
    done = 0
    stop_at = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < stop_at:
        with engine.begin() as conn:
            conn.execute(insert(table).values(entry=f"row-{done}"))
        done += 1
    elapsed = time.perf_counter() - started
    engine.dispose()
    return done / elapsed


def append_rps(path: Path, max_batch: int, threads: int = THREADS, seconds: float = SECONDS) -> tuple[float, float]:
    """Acknowledged (durable) appends per second, and the mean batch size the writer committed."""
    engine, models = _fresh(path)
    log = EvidenceLog(
        engine, models, origin="creditnode/bench", key=NodeKey.generate(), max_batch=max_batch, publish_interval=0
    ).start()
    counts = [0] * threads
    go = threading.Event()
    stop_at = [0.0]

    def work(t: int) -> None:
        go.wait()
        i = 0
        while time.perf_counter() < stop_at[0]:
            log.append(LeafKind.DISCLOSURE, _payload(t * 1_000_000 + i))
            i += 1
        counts[t] = i

    workers = [threading.Thread(target=work, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    before = log.stats.batches
    started = time.perf_counter()
    stop_at[0] = started + seconds
    go.set()
    for w in workers:
        w.join()
    elapsed = time.perf_counter() - started
    batches = log.stats.batches - before
    log.close()
    engine.dispose()
    total = sum(counts)
    return total / elapsed, total / max(batches, 1)


def populate(engine: Any, models: EvidenceModels, n: int, chunk: int = 50_000) -> None:
    """Bulk-load ``n`` leaves with their subtree hashes and the state row, as the appender would have stored them."""
    leaf_table = models.metadata.tables["evidence_leaves"]
    node_table = models.metadata.tables["evidence_nodes"]
    state_table = models.metadata.tables["evidence_state"]
    frontier = merkle.Frontier()
    at = datetime(2026, 11, 29, tzinfo=UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(state_table).values(
                id=STATE_ROW_ID, origin="creditnode/bench", tree_size=0, root_hash=merkle.EMPTY_ROOT
            )
        )
    for start in range(0, n, chunk):
        leaves: list[dict[str, Any]] = []
        nodes: list[dict[str, Any]] = []
        for i in range(start, min(n, start + chunk)):
            text = Entry(LeafKind.DISCLOSURE, at, _payload(i)).to_json()
            h = merkle.leaf_hash(text.encode())
            for level, index, node in frontier.push(h):
                nodes.append({"level": level, "node_index": index, "hash": node})
            leaves.append({"leaf_index": i, "kind": "DISCLOSURE", "created_at": at, "entry": text, "leaf_hash": h})
        with engine.begin() as conn:
            conn.execute(insert(leaf_table), leaves)
            conn.execute(insert(node_table), nodes)
    with engine.begin() as conn:
        conn.execute(update(state_table).values(tree_size=frontier.size, root_hash=frontier.root()))


def proof_us(path: Path, n: int = PROOF_LEAVES, samples: int = PROOF_SAMPLES) -> tuple[float, float]:
    """Median microseconds per inclusion proof at ``n`` leaves, and the seconds the bulk load took."""
    engine, models = _fresh(path)
    t = time.perf_counter()
    populate(engine, models, n)
    load_seconds = time.perf_counter() - t
    store = EvidenceStore(engine, models, "creditnode/bench")
    root = store.root_at(n)
    rng = random.Random(6962)
    indices = [rng.randrange(n) for _ in range(samples)]
    times: list[float] = []
    for index in indices:
        t = time.perf_counter()
        proof = store.inclusion_proof(index, n)
        times.append((time.perf_counter() - t) * 1e6)
        leaf = store.leaf(index)  # outside the timing: proves the proof is real
        merkle.verify_inclusion(index, n, leaf.leaf_hash, proof, root)
    engine.dispose()
    return statistics.median(times), load_seconds


def run() -> list[Figure]:
    work = Path(tempfile.mkdtemp(prefix="bench-evidence-", dir=ROOT / "var"))
    try:
        bare = bare_commit_rps(work / "bare.db")
        figures = []
        rates = {}
        for batch in (1, 16, 128):
            rps, mean_batch = append_rps(work / f"append-{batch}.db", batch)
            rates[batch] = rps
            figures.append(Figure.reported(f"evidence.append_rps_batch{batch}", rps, "appends/s", baseline=bare))
            figures.append(Figure.reported(f"evidence.mean_batch_batch{batch}", mean_batch, "leaves"))
        figures.append(
            Figure.at_least("evidence.group_commit_speedup", rates[128] / rates[1], "ratio", 2.0, baseline=rates[1])
        )
        median_us, load_seconds = proof_us(work / "million.db")
        figures.append(Figure.at_most("evidence.proof_us", median_us, "us", 2000.0))
        figures.append(Figure.reported("evidence.bulk_load_1m_s", load_seconds, "s"))
        return figures
    finally:
        shutil.rmtree(work, ignore_errors=True)
