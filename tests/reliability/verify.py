"""Checks after a faulty run: acknowledged writes are stored exactly once, every receipt is in the disclosure log."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field

import grpc
from sqlalchemy import create_engine, text

from creditnode.evidence.v1 import evidence_log_service_pb2 as ev
from creditnode.evidence.v1 import evidence_log_service_pb2_grpc as ev_grpc
from tests.reliability.cluster import Cluster
from tests.reliability.workload import Ledger


@dataclass
class Findings:
    """Counts of each kind of failure, with a few examples."""

    lost: int = 0
    duplicates: int = 0
    unlogged_releases: int = 0
    examples: list[str] = field(default_factory=list)

    def note(self, what: str) -> None:
        if len(self.examples) < 20:
            self.examples.append(what)


def _rows(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


def disclosure_leaves(address: str) -> dict[int, dict[str, object]]:
    """Every leaf of a gateway's disclosure log, through EvidenceLogService on its internal listener."""
    out: dict[int, dict[str, object]] = {}
    with grpc.insecure_channel(address) as ch:
        stub = ev_grpc.EvidenceLogServiceStub(ch)
        token = ""
        while True:
            page = stub.ListLeaves(ev.ListLeavesRequest(page_size=1000, page_token=token), timeout=30)
            for leaf in page.leaves:
                out[leaf.index] = json.loads(leaf.payload_json)
            token = page.next_page_token
            if not token:
                return out


def _exactly_once(f: Findings, what: str, acked: dict[str, bool], stored: Counter[str]) -> None:
    for key, ok in acked.items():
        if ok and stored[key] == 0:
            f.lost += 1
            f.note(f"{what} {key} acknowledged but not stored")
        if stored[key] > 1:
            f.duplicates += 1
            f.note(f"{what} {key} stored {stored[key]} times")


def _consent(f: Findings, url: str, ledger: Ledger) -> None:
    rows = _rows(url, "SELECT id, state, requester, enterprise, purpose, valid_from FROM authorizations")
    state = {str(r[0]): str(r[1]) for r in rows}
    for aid in ledger.grants.values():
        if aid not in state:
            f.lost += 1
            f.note(f"grant {aid} acknowledged but not stored")
    for key, n in Counter(tuple(str(x) for x in r[2:]) for r in rows).items():
        if n > 1:  # every grant the workload sent has its own valid_from
            f.duplicates += 1
            f.note(f"authorization stored {n} times: {key}")
    for aid in ledger.revoked:
        if state.get(aid) != "REVOKED":
            f.lost += 1
            f.note(f"revocation of {aid} acknowledged but the state is {state.get(aid, 'missing')}")


def check(c: Cluster, ledger: Ledger) -> Findings:
    f = Findings()
    db = {name: svc.env["DATABASE_URL"] for name, svc in c.services.items()}
    records = Counter(str(sid) for (sid,) in _rows(db["registry"], "SELECT source_record_id FROM records"))
    _exactly_once(f, "ingested record", ledger.ingested, records)
    _consent(f, db["consent"], ledger)
    objections = Counter(str(r) for (r,) in _rows(db["objection"], "SELECT reasons FROM objections"))
    _exactly_once(f, "objection", ledger.objections, objections)
    leaves = disclosure_leaves(c.internal())
    for r in ledger.receipts:
        leaf = leaves.get(r.leaf_index)
        if leaf is None or leaf.get("payload_sha256") != r.payload_sha256 or leaf.get("request_id") != r.request_id:
            f.unlogged_releases += 1
            f.note(f"receipt {r.leaf_index} not matched in the disclosure log: {leaf}")
    return f
