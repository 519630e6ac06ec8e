"""SIGKILL each service in turn under a mixed workload, then stop PostgreSQL with `pg_ctl stop -m immediate`:
no acknowledged write lost, none duplicated, every released report in the disclosure log, clients recover, and a
gateway cut off from consent releases nothing non-public."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from creditnode.consent.v1 import consent_service_pb2_grpc as consent_grpc
from creditnode.gateway.v1 import gateway_service_pb2 as gw
from creditnode.registry.v1 import records_pb2 as rec
from creditnode.registry.v1 import records_pb2_grpc as rec_grpc
from tests.gateway_support import _value
from tests.registry_helpers import ts
from tests.reliability.cluster import Cluster, cluster
from tests.reliability.figures import record, reported, zero
from tests.reliability.pg import PrivatePostgres, private_postgres
from tests.reliability.scale import Scale, current
from tests.reliability.verify import check
from tests.reliability.workload import Workload

# The full scale runs for many minutes; pyproject's 300 s per test is for the usual suites.
pytestmark = pytest.mark.timeout(3600)

ORDER = ("registry", "consent", "scoring", "objection", "gateway")
# A gateway may decide from memory within its consent lease (WATCH_LEASE_SECONDS 0.6 + margin 0.2, tests/reliability
# /cluster.py); after that it is cut off. Consent stays down well beyond it.
CUT_OFF_AFTER = 1.0
CONSENT_DOWN = 4.0
RECOVERY_KINDS = ("ingest", "report", "grant", "objection", "evaluation")


def _unhandled_errors(tmp: Path, context_lines: int = 40) -> list[str]:
    """What the services logged of each unhandled error (its traceback included), so that a failure says which code
    raised it: an INTERNAL answer is rare here, and the run that saw it is gone once the test ends."""
    found = []
    for log in sorted(tmp.rglob("*.log")):
        lines = log.read_text(errors="replace").splitlines()
        for i, line in enumerate(lines):
            if "unhandled_error" in line:
                found.append("\n".join([log.name, *lines[i : i + context_lines]]))
    return found


@contextlib.contextmanager
def _databases(backend: str, tmp: Path) -> Iterator[tuple[Callable[[str], str], PrivatePostgres | None]]:
    if backend == "sqlite":
        yield (lambda label: f"sqlite:///{tmp / f'{label}.db'}"), None
        return
    with private_postgres() as pg:
        yield (lambda label: pg.create_database(f"cn_{label}")), pg


def _targets(c: Cluster, uscc: str, n: int) -> list[tuple[str, int]]:
    """Records to object to, one per objection (an open objection locks its target)."""
    assert c.registry is not None
    at = datetime.now(UTC) - timedelta(days=400)
    records = [
        rec.IngestRecord(
            sequence=i + 1,
            item_code="TAX_PAYMENT",
            source_record_id=f"target-{i}",
            source_version=1,
            uscc=uscc,
            event_time=ts(at - timedelta(days=i)),
            fields={"period": _value((at - timedelta(days=i)).strftime("%Y-%m-%d")[:7]), "tax_paid_yuan": _value(1)},
        )
        for i in range(n)
    ]
    resp = rec_grpc.RecordIngestionServiceStub(c.registry.channel).IngestBatch(
        rec.IngestBatchRequest(records=records), metadata=(("x-creditnode-department", "sx-tax"),), timeout=60
    )
    return [(r.record, 1) for r in resp.results if r.outcome == rec.RECORD_OUTCOME_ACCEPTED]


def _prepare(c: Cluster) -> None:
    ent = c.enterprises[0]
    with grpc.insecure_channel(c.services["consent"].address) as ch:
        stub = consent_grpc.ConsentServiceStub(ch)
        stub.GrantAuthorization(ent.grant("platforms/xian", items=("TAX_PAYMENT",), max_uses=10), timeout=10)
        stub.GrantAuthorization(ent.grant("institutions/boc-xian", items=("TAX_PAYMENT",), max_uses=10), timeout=10)
    req = gw.GetCreditReportRequest(enterprise=ent.name, purpose="PRE_LOAN", item_codes=["TAX_PAYMENT"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with contextlib.suppress(grpc.RpcError):
            if c.callers["xian"].stub.GetCreditReport(req, timeout=10).records:
                return
        time.sleep(0.2)
    raise AssertionError("the gateway never served the authorization")


def _recovered(wl: Workload, since: float, down: float, limit: float = 120.0) -> float:
    """Seconds from the fault until every kind of client had an answer again to an attempt started after ``down``
    (when the fault had surely hit; answers to requests in flight at the fault do not count); inf if not in time."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        firsts = [next((t for a, t in wl.ledger.successes[k] if a > down), None) for k in RECOVERY_KINDS]
        if all(f is not None for f in firsts):
            return max(f for f in firsts if f is not None) - since
        time.sleep(0.1)
    return float("inf")


@pytest.mark.parametrize("backend", current().fault_backends)
def test_faults_under_mixed_workload(backend: str, scale: Scale, tmp_path: Path) -> None:
    with _databases(backend, tmp_path) as (make_db, pg), cluster(tmp_path, make_db) as c:
        _prepare(c)
        wl = Workload(c, c.enterprises[0], _targets(c, c.enterprises[0].uscc, 300)).start()
        time.sleep(scale.phase_seconds)
        recovery: dict[str, float] = {}
        cutoff = (0.0, 0.0)
        for label in ORDER:
            killed = time.monotonic()
            c.services[label].sigkill()
            time.sleep(CONSENT_DOWN if label == "consent" else 0.5)
            restarting = time.monotonic()
            if label == "consent":
                cutoff = (killed + CUT_OFF_AFTER, restarting)
            c.restart(label)
            recovery[label] = _recovered(wl, killed, restarting)
            time.sleep(scale.phase_seconds)
        if pg is not None:
            stopped = time.monotonic()
            pg.stop_immediate()
            time.sleep(1.0)
            down = time.monotonic()
            pg.start()
            recovery["postgresql"] = _recovered(wl, stopped, down)
            time.sleep(scale.phase_seconds)
        ledger = wl.finish()
        alive = all(svc.alive() for svc in c.services.values())
        found = check(c, ledger)
    leaked = [r for r in ledger.receipts if r.non_public and cutoff[0] < r.sent and r.received < cutoff[1]]
    cut_off = [a for a in ledger.report_attempts if cutoff[0] < a[0] and a[1] < cutoff[1]]
    unrecovered = [k for k, v in recovery.items() if v == float("inf")]
    p = f"fault_{backend}"
    record(
        zero(f"{p}_lost_acknowledged_writes", found.lost),
        zero(f"{p}_duplicates", found.duplicates),
        zero(f"{p}_releases_without_evidence", found.unlogged_releases),
        zero(f"{p}_cutoff_non_public_releases", len(leaked)),
        zero(f"{p}_unrecovered", len(unrecovered)),
        zero(f"{p}_internal_answers", len(ledger.server_errors)),
        reported(f"{p}_recovery_max_s", max((v for v in recovery.values() if v != float("inf")), default=0), "s"),
        *(reported(f"{p}_recovery_s.{k}", v if v != float("inf") else -1, "s") for k, v in recovery.items()),
        reported(
            f"{p}_acknowledged_writes",
            sum(ledger.ingested.values()) + len(ledger.grants) + len(ledger.revoked) + sum(ledger.objections.values()),
            "count",
        ),
        reported(f"{p}_receipts_checked", len(ledger.receipts), "count"),
        reported(f"{p}_report_attempts_while_cut_off", len(cut_off), "count"),
        reported(f"{p}_report_refusals_while_cut_off", sum(a[2] != "OK" for a in cut_off), "count"),
        reported(f"{p}_client_retries", sum(ledger.retries.values()), "count"),
    )
    assert alive, "a service died after the faults"
    assert not unrecovered, unrecovered
    assert not ledger.server_errors, (ledger.server_errors[:10], _unhandled_errors(tmp_path))
    assert found.lost == 0, found.examples
    assert found.duplicates == 0, found.examples
    assert found.unlogged_releases == 0, found.examples
    assert not leaked, f"{len(leaked)} non-public releases while consent was down"
    assert cut_off, "no report was attempted while the gateway was cut off from consent"
    assert ledger.receipts
    assert sum(ledger.ingested.values()) > 0
    assert ledger.grants
    assert ledger.revoked
