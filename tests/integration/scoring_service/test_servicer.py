"""The scoring service in-process on a real port, fed by a real registry (participants) and stand-in records/consent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from creditnode.scoring.v1 import scoring_service_pb2 as pb
from creditnode.scoring.v1 import scoring_service_pb2_grpc as pb_grpc
from services.kit.status import error_info
from services.scoring.data import model_text
from services.scoring.main import build
from tests.conftest import fresh_database
from tests.integration.scoring_service.servers import Fakes, scoring_settings, start_fakes
from tests.registry_helpers import RegistryClient

INSTITUTION = "institutions/bank-a"
AT = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    f = start_fakes()
    yield f
    f.stop()


@pytest.fixture
def scoring(registry_server: str, fakes: Fakes, tmp_path: Path) -> Iterator[pb_grpc.ScoringServiceStub]:
    db = fresh_database(tmp_path, "scoring")
    server = build(scoring_settings(next(db), tmp_path, registry_server, fakes), configure_logs=False)
    channel = grpc.insecure_channel(server.address)
    try:
        yield pb_grpc.ScoringServiceStub(channel)
    finally:
        channel.close()
        server.stop(0)
        for _ in db:
            pass


def wait_evaluation(stub: pb_grpc.ScoringServiceStub, uscc: str, revision: int = 0) -> pb.Evaluation:
    """Poll until the enterprise's evaluation reflects ``revision`` (no timed assertion: the test timeout rules)."""
    while True:
        try:
            got = stub.GetEvaluation(pb.GetEvaluationRequest(enterprise=f"enterprises/{uscc}")).evaluation
            if got.record_revision >= revision:
                return got
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.NOT_FOUND:
                raise
        threading.Event().wait(0.05)


def register(registry_server: str) -> str:
    client = RegistryClient(grpc.insecure_channel(registry_server))
    platform, _ = client.admitted_platform()
    enterprise, _ = client.enterprise(platform.name)
    return enterprise.uscc


def test_registered_enterprise_gets_an_evaluation_and_records_change_it(
    registry_server: str, fakes: Fakes, scoring: pb_grpc.ScoringServiceStub
) -> None:
    uscc = register(registry_server)
    first = wait_evaluation(scoring, uscc)
    assert first.model_version == "basic-v1"
    revision = fakes.records.put(
        uscc,
        "e1",
        "COURT_ENFORCEMENT",
        AT,
        case_number="(2026)陕01执1号",
        filed_on=date(2026, 5, 1),
        amount_yuan="100000",
        status="OPEN",
    )
    second = wait_evaluation(scoring, uscc, revision)
    enforcement = next(c for c in second.contributions if c.indicator == "open_enforcement_cases")
    assert enforcement.value == 1
    assert [r.record for r in enforcement.evidence] == [f"enterprises/{uscc}/records/e1"]
    assert [r.event_time.ToDatetime(UTC) for r in enforcement.evidence] == [AT]  # kept with the stored evaluation
    history = scoring.ListEvaluationHistory(pb.ListEvaluationHistoryRequest(enterprise=f"enterprises/{uscc}"))
    assert history.evaluations[0].name == second.name
    assert len(history.evaluations) >= 2


def test_alert_reaches_an_authorized_lender_once_and_resume_after_ack_repeats_nothing(
    registry_server: str, fakes: Fakes, scoring: pb_grpc.ScoringServiceStub
) -> None:
    uscc = register(registry_server)
    wait_evaluation(scoring, uscc)
    loan = scoring.ReportLoan(
        pb.ReportLoanRequest(
            loan_id="loan-1",
            institution=INSTITUTION,
            enterprise=f"enterprises/{uscc}",
            platform="platforms/city-x",
            amount_yuan="500000.00",
            term_months=12,
            security=pb.LOAN_SECURITY_CREDIT,
            first_loan=True,
            small_micro=True,
            granted_on=pb.CalendarDay(year=2026, month=6, day=1),
        )
    ).loan
    assert loan.status == pb.LOAN_STATUS_OUTSTANDING
    fakes.consent.granted.add((INSTITUTION, f"enterprises/{uscc}"))
    stream = scoring.WatchAlerts(pb.WatchAlertsRequest(institution=INSTITUTION))
    assert next(stream).alerts == []  # open
    fakes.records.put(
        uscc,
        "e1",
        "COURT_ENFORCEMENT",
        AT,
        case_number="(2026)陕01执1号",
        filed_on=date(2026, 5, 1),
        amount_yuan="100000",
        status="OPEN",
    )
    got = next(r for r in stream if r.alerts)
    stream.cancel()
    risks = {a.risk for a in got.alerts}
    assert "NEW_ENFORCEMENT" in risks
    enforcement = next(a for a in got.alerts if a.risk == "NEW_ENFORCEMENT")
    assert enforcement.loan == "loans/loan-1"
    assert enforcement.severity == pb.ALERT_SEVERITY_HIGH
    assert [r.record for r in enforcement.evidence] == [f"enterprises/{uscc}/records/e1"]
    assert [r.event_time.ToDatetime(UTC) for r in enforcement.evidence] == [AT]  # kept with the stored alert
    acked = scoring.AckAlerts(pb.AckAlertsRequest(institution=INSTITUTION, up_to_cursor=got.cursor))
    assert acked.acknowledged_cursor == got.cursor
    resumed = scoring.WatchAlerts(pb.WatchAlertsRequest(institution=INSTITUTION))
    first = next(resumed)
    resumed.cancel()
    assert first.cursor == got.cursor
    assert not first.alerts


def report_small_loan(scoring: pb_grpc.ScoringServiceStub, uscc: str, loan_id: str) -> None:
    """An outstanding loan of the test institution to ``uscc``: what makes scoring watch it for risks."""
    scoring.ReportLoan(
        pb.ReportLoanRequest(
            loan_id=loan_id,
            institution=INSTITUTION,
            enterprise=f"enterprises/{uscc}",
            platform="platforms/city-x",
            amount_yuan="1000",
            term_months=6,
            security=pb.LOAN_SECURITY_SECURED,
            granted_on=pb.CalendarDay(year=2026, month=6, day=1),
        )
    )


def test_alerts_are_withheld_without_a_monitoring_authorization(
    registry_server: str, fakes: Fakes, scoring: pb_grpc.ScoringServiceStub
) -> None:
    uscc = register(registry_server)
    wait_evaluation(scoring, uscc)
    report_small_loan(scoring, uscc, "loan-2")
    revision = fakes.records.put(
        uscc, "e1", "COURT_ENFORCEMENT", AT, case_number="x", filed_on=date(2026, 5, 1), amount_yuan="1", status="OPEN"
    )
    wait_evaluation(scoring, uscc, revision)
    fakes.consent.granted.add((INSTITUTION, f"enterprises/{uscc}"))
    second = fakes.records.put(
        uscc, "e2", "COURT_ENFORCEMENT", AT, case_number="y", filed_on=date(2026, 5, 2), amount_yuan="1", status="OPEN"
    )
    wait_evaluation(scoring, uscc, second)
    stream = scoring.WatchAlerts(pb.WatchAlertsRequest(institution=INSTITUTION))
    next(stream)
    got = next(r for r in stream if r.alerts)
    stream.cancel()
    evidence = {r.record for a in got.alerts for r in a.evidence}
    assert f"enterprises/{uscc}/records/e1" not in evidence  # raised while unauthorized: never flows
    assert f"enterprises/{uscc}/records/e2" in evidence


def test_an_alert_resting_on_non_public_records_older_than_the_look_back_is_never_sent(
    registry_server: str, fakes: Fakes, scoring: pb_grpc.ScoringServiceStub
) -> None:
    uscc = register(registry_server)
    wait_evaluation(scoring, uscc)
    report_small_loan(scoring, uscc, "loan-3")
    pair = (INSTITUTION, f"enterprises/{uscc}")
    fakes.consent.granted.add(pair)
    fakes.consent.data_since[pair] = AT  # the authorization reaches back to AT, no further
    before = AT - timedelta(days=90)
    # social insurance arrears are non-public (the registry's sharing list): one from before the look-back
    old = fakes.records.put(uscc, "si-old", "SI_ARREARS", before, period="2026-02", amount_yuan="10", cleared=False)
    wait_evaluation(scoring, uscc, old)
    # an enforcement case is public: as old, it leaves whatever the look-back
    public = fakes.records.put(
        uscc,
        "enf-old",
        "COURT_ENFORCEMENT",
        before,
        case_number="z",
        filed_on=date(2026, 3, 1),
        amount_yuan="1",
        status="OPEN",
    )
    wait_evaluation(scoring, uscc, public)
    fakes.records.put(uscc, "si-new", "SI_ARREARS", AT, period="2026-05", amount_yuan="10", cleared=False)
    stream = scoring.WatchAlerts(pb.WatchAlertsRequest(institution=INSTITUTION))
    next(stream)
    sent: set[str] = set()
    while "si-new" not in sent:  # in cursor order: everything raised before it has been passed by then
        got = next(r for r in stream if r.alerts)
        sent |= {r.record.rsplit("/", 1)[-1] for a in got.alerts for r in a.evidence}
    stream.cancel()
    assert "enf-old" in sent
    assert "si-old" not in sent


def test_publish_rejects_a_bad_model_with_reasons_and_republish_reevaluates(
    registry_server: str, scoring: pb_grpc.ScoringServiceStub
) -> None:
    uscc = register(registry_server)
    wait_evaluation(scoring, uscc)
    with pytest.raises(grpc.RpcError) as err:
        scoring.PublishModel(pb.PublishModelRequest(document="version: x\ngrades: {}\n"))
    info = error_info(err.value)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert info is not None
    assert info.reason == "ERROR_REASON_MODEL_REJECTED"
    # Items are checked against the registry's sharing list: a model naming an item that does not exist is refused.
    unknown = (
        model_text()
        .replace("version: basic-v1", "version: basic-v9")
        .replace("{item: TAX_CREDIT_GRADE,", "{item: TAX_NO_SUCH_ITEM,")
    )
    with pytest.raises(grpc.RpcError) as err:
        scoring.PublishModel(pb.PublishModelRequest(document=unknown))
    assert error_info(err.value).reason == "ERROR_REASON_MODEL_REJECTED"  # type: ignore[union-attr]
    assert "TAX_NO_SUCH_ITEM" in (err.value.details() or "") + str(error_info(err.value))
    text = model_text().replace("version: basic-v1", "version: basic-v2")
    published = scoring.PublishModel(pb.PublishModelRequest(document=text))
    assert published.model.current
    assert published.enterprises_reevaluated >= 1
    assert wait_evaluation(scoring, uscc).model_version == "basic-v2"


def test_loan_register_feeds_effectiveness(registry_server: str, scoring: pb_grpc.ScoringServiceStub) -> None:
    uscc = register(registry_server)
    wait_evaluation(scoring, uscc)
    for i, (amount, credit) in enumerate([("300", True), ("700", False)]):
        scoring.ReportLoan(
            pb.ReportLoanRequest(
                loan_id=f"l-{i}",
                institution=INSTITUTION,
                enterprise=f"enterprises/{uscc}",
                platform="platforms/city-x",
                amount_yuan=amount,
                term_months=12,
                security=pb.LOAN_SECURITY_CREDIT if credit else pb.LOAN_SECURITY_SECURED,
                small_micro=True,
                first_loan=i == 0,
                granted_on=pb.CalendarDay(year=2026, month=3, day=1),
            )
        )
    closed = scoring.RepayLoan(
        pb.RepayLoanRequest(
            loan="loans/l-1", amount_yuan="700", repaid_on=pb.CalendarDay(year=2026, month=4, day=1), request_id="r1"
        )
    ).loan
    assert closed.status == pb.LOAN_STATUS_CLOSED
    got = scoring.GetEffectiveness(
        pb.GetEffectivenessRequest(periods=["2026-Q1"], progress_on=pb.CalendarDay(year=2026, month=6, day=30))
    )
    row = got.rows[0]
    assert (row.loans_granted, row.credit_loans_granted, row.first_loans) == (2, 1, 1)
    assert row.credit_balance_yuan == "300"
    assert row.small_micro_share == 1.0
    assert got.progress.credit_balance_yuan == "300"
    assert got.progress.target_balance_yuan == "1200000000000"


def test_a_model_whose_version_the_store_cannot_hold_is_rejected(scoring: pb_grpc.ScoringServiceStub) -> None:
    # one character past the version column: PostgreSQL refused it only when storing (INTERNAL), SQLite kept it
    text = model_text().replace("version: basic-v1", f"version: basic-{'v' * 75}")
    with pytest.raises(grpc.RpcError) as err:
        scoring.PublishModel(pb.PublishModelRequest(document=text))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(err.value).reason == "ERROR_REASON_MODEL_REJECTED"  # type: ignore[union-attr]
    assert "at version" in (err.value.details() or "")
