"""Registry and scoring as real processes: an enterprise registers, gets evaluated, borrows, and its lender is alerted.

The registry's RecordService is not implemented yet, and a consent check needs signed authorizations: the records
and the POST_LOAN_MONITORING decisions come from stand-ins serving the real protos on a real port.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import grpc
import pytest

from creditnode.scoring.v1 import scoring_service_pb2 as pb
from creditnode.scoring.v1 import scoring_service_pb2_grpc as pb_grpc
from tests.conftest import free_port, fresh_database
from tests.integration.scoring_service.servers import Fakes, start_fakes
from tests.processes import ServiceProcess, start_service
from tests.registry_helpers import RegistryClient

BANK = "institutions/bank-e2e"


@dataclass
class Node:
    scoring: pb_grpc.ScoringServiceStub
    scoring_process: ServiceProcess
    scoring_env: dict[str, str]
    registry: RegistryClient
    fakes: Fakes


@pytest.fixture
def node(tmp_path: Path, database_url: str) -> Iterator[Node]:
    procs: list[ServiceProcess] = []
    fakes = start_fakes()
    with contextlib.ExitStack() as stack:
        registry_db = stack.enter_context(contextlib.contextmanager(fresh_database)(tmp_path, "registry"))
        registry = start_service(
            "registry",
            free_port(),
            tmp_path,
            {"DATABASE_URL": registry_db, "VAR_DIR": str(tmp_path), "CA_AUTOCREATE": "true"},
        )
        procs.append(registry)
        registry.wait_serving()
        env = {
            "DATABASE_URL": database_url,
            "REGISTRY_ADDR": registry.address,
            "RECORDS_ADDR": fakes.address,
            "CONSENT_ADDR": fakes.address,
            "WATCH_MAX_BACKOFF_SECONDS": "0.5",
        }
        scoring = start_service("scoring", free_port(), tmp_path, env)
        procs.append(scoring)
        scoring.wait_serving()
        registry_channel = stack.enter_context(grpc.insecure_channel(registry.address))
        scoring_channel = stack.enter_context(grpc.insecure_channel(scoring.address))
        try:
            yield Node(
                pb_grpc.ScoringServiceStub(scoring_channel), scoring, env, RegistryClient(registry_channel), fakes
            )
        finally:
            for p in reversed(procs):
                p.kill()
            fakes.stop()


def wait_evaluation(stub: pb_grpc.ScoringServiceStub, uscc: str, revision: int = 0) -> pb.Evaluation:
    while True:
        try:
            got = stub.GetEvaluation(pb.GetEvaluationRequest(enterprise=f"enterprises/{uscc}")).evaluation
            if got.record_revision >= revision:
                return got
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
        threading.Event().wait(0.05)


def test_enterprise_is_evaluated_and_its_lender_gets_an_enforcement_alert_exactly_once_after_ack(node: Node) -> None:
    platform, _ = node.registry.admitted_platform()
    enterprise, _ = node.registry.enterprise(platform.name)
    uscc = enterprise.uscc
    first = wait_evaluation(node.scoring, uscc)
    assert first.model_version == "basic-v1"
    assert 0 <= first.score <= 1000

    at = datetime(2026, 6, 1, tzinfo=UTC)
    revision = node.fakes.records.put(
        uscc,
        "reg",
        "REG_BASIC",
        at,
        enterprise_name="陕西测试科技有限公司",
        established_on=date(2015, 3, 1),
        registered_capital_yuan="5000000",
        industry_code="I65",
        enterprise_type="LLC",
        status="ACTIVE",
        region_code="610100",
        legal_representative="张*",
        legal_rep_id_number="6101**********1234",
    )
    evaluated = wait_evaluation(node.scoring, uscc, revision)
    years = next(c for c in evaluated.contributions if c.indicator == "years_in_business")
    assert not years.missing
    assert years.evidence[0].record == f"enterprises/{uscc}/records/reg"

    node.scoring.ReportLoan(
        pb.ReportLoanRequest(
            loan_id="e2e-loan-1",
            institution=BANK,
            enterprise=f"enterprises/{uscc}",
            platform=platform.name,
            amount_yuan="800000.00",
            term_months=12,
            security=pb.LOAN_SECURITY_CREDIT,
            first_loan=True,
            small_micro=True,
            granted_on=pb.CalendarDay(year=2026, month=6, day=2),
            request_id="loan-req-1",
        )
    )
    node.fakes.consent.granted.add((BANK, f"enterprises/{uscc}"))
    stream = node.scoring.WatchAlerts(pb.WatchAlertsRequest(institution=BANK))
    assert next(stream).alerts == []
    node.fakes.records.put(
        uscc,
        "enf",
        "COURT_ENFORCEMENT",
        at,
        case_number="(2026)陕01执9号",
        filed_on=date(2026, 6, 3),
        amount_yuan="200000",
        status="OPEN",
    )
    batch = next(r for r in stream if r.alerts)
    stream.cancel()
    alert = next(a for a in batch.alerts if a.risk == "NEW_ENFORCEMENT")
    assert alert.loan == "loans/e2e-loan-1"
    assert alert.enterprise == f"enterprises/{uscc}"
    assert [r.record for r in alert.evidence] == [f"enterprises/{uscc}/records/enf"]
    node.scoring.AckAlerts(pb.AckAlertsRequest(institution=BANK, up_to_cursor=batch.cursor))

    # the scoring process restarts: the ack and the registry cursors survive; nothing is delivered twice
    # a clean stop: its watchers joined before their channels close (a crash there exits by a signal, not 0)
    assert node.scoring_process.terminate() == 0, node.scoring_process.log()
    assert "watch_not_stopped" not in node.scoring_process.log()
    restarted = start_service(
        "scoring",
        int(node.scoring_process.address.rsplit(":", 1)[1]),
        node.scoring_process.log_path.parent,
        node.scoring_env,
    )
    try:
        restarted.wait_serving()
        with grpc.insecure_channel(restarted.address) as channel:
            stub = pb_grpc.ScoringServiceStub(channel)
            resumed = stub.WatchAlerts(pb.WatchAlertsRequest(institution=BANK))
            head = next(resumed)
            assert head.cursor == batch.cursor
            assert not head.alerts
            node.fakes.records.put(
                uscc,
                "enf2",
                "COURT_ENFORCEMENT",
                at,
                case_number="(2026)陕01执10号",
                filed_on=date(2026, 6, 4),
                amount_yuan="1000",
                status="OPEN",
            )
            later = next(r for r in resumed if r.alerts)
            resumed.cancel()
            assert all(a.cursor > batch.cursor for a in later.alerts)
            assert {r.record for a in later.alerts for r in a.evidence} >= {f"enterprises/{uscc}/records/enf2"}
            assert f"enterprises/{uscc}/records/enf" not in {
                r.record for a in later.alerts if a.risk == "NEW_ENFORCEMENT" for r in a.evidence
            }
    finally:
        restarted.kill()
