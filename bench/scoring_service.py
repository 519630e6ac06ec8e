"""Group ``scoring_service``: how fast a post-loan risk reaches the lender.

- ``scoring.alert_p99_ms``: from a record change committed at the registry side (the RecordService stand-in from
  tests/integration/scoring_service/servers.py, as the registry's record API is not implemented yet) to the alert
  arriving on a WatchAlerts subscriber: the record watch, the record listing, re-evaluation, risk detection, the
  consent check (stand-in), the alert commit and its delivery. A real registry (participants) and a real scoring
  service run in this process on real ports over SQLite files; 200 changes, one at a time. Reported, no target yet.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

import grpc

from bench.figures import Figure
from creditnode.scoring.v1 import scoring_service_pb2 as pb
from creditnode.scoring.v1 import scoring_service_pb2_grpc as pb_grpc
from services.registry.main import RegistrySettings
from services.registry.main import build as build_registry
from services.scoring.main import ScoringSettings
from services.scoring.main import build as build_scoring
from tests.integration.scoring_service.servers import start_fakes
from tests.registry_helpers import RegistryClient

CHANGES = 200
BANK = "institutions/bench-bank"


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory() as tmp:
        var = Path(tmp)
        fakes = start_fakes()
        registry = build_registry(
            RegistrySettings(
                database_url=f"sqlite:///{var / 'registry.db'}", var_dir=var, ca_autocreate=True, log_level="WARNING"
            ),
            configure_logs=False,
        )
        scoring = build_scoring(
            ScoringSettings(
                database_url=f"sqlite:///{var / 'scoring.db'}",
                var_dir=var,
                registry_addr=registry.address,
                records_addr=fakes.address,
                consent_addr=fakes.address,
                log_level="WARNING",
            ),
            configure_logs=False,
        )
        try:
            latencies = _measure(registry.address, scoring.address, fakes)
        finally:
            scoring.stop(0)
            registry.stop(0)
            fakes.stop()
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return [
        Figure.reported("scoring.alert_p99_ms", p99, "ms"),
        Figure.reported("scoring.alert_p50_ms", statistics.median(latencies), "ms"),
    ]


def _measure(registry_addr: str, scoring_addr: str, fakes: object) -> list[float]:
    from tests.integration.scoring_service.servers import Fakes

    assert isinstance(fakes, Fakes)
    client = RegistryClient(grpc.insecure_channel(registry_addr))
    platform, _ = client.admitted_platform("bench-city")
    enterprise, _ = client.enterprise(platform.name)
    uscc = enterprise.uscc
    stub = pb_grpc.ScoringServiceStub(grpc.insecure_channel(scoring_addr))
    while True:  # the first evaluation appears once the participant watch delivered the registration
        try:
            stub.GetEvaluation(pb.GetEvaluationRequest(enterprise=f"enterprises/{uscc}"))
            break
        except grpc.RpcError:
            time.sleep(0.02)
    stub.ReportLoan(
        pb.ReportLoanRequest(
            loan_id="bench-loan",
            institution=BANK,
            enterprise=f"enterprises/{uscc}",
            platform=platform.name,
            amount_yuan="1000000",
            term_months=12,
            security=pb.LOAN_SECURITY_CREDIT,
            granted_on=pb.CalendarDay(year=2026, month=6, day=1),
        )
    )
    fakes.consent.granted.add((BANK, f"enterprises/{uscc}"))
    stream = stub.WatchAlerts(pb.WatchAlertsRequest(institution=BANK))
    next(stream)
    at = datetime(2026, 6, 1, tzinfo=UTC)
    out = []
    for i in range(CHANGES):
        wanted = f"enterprises/{uscc}/records/bench-{i}"
        started = time.perf_counter()
        fakes.records.put(
            uscc,
            f"bench-{i}",
            "COURT_ENFORCEMENT",
            at,
            case_number=f"(2026)陕01执{i}号",
            filed_on=date(2026, 6, 1),
            amount_yuan="1000",
            status="OPEN",
        )
        for response in stream:
            if any(r.record == wanted for a in response.alerts for r in a.evidence):
                break
        out.append((time.perf_counter() - started) * 1000)
    stream.cancel()
    return out
