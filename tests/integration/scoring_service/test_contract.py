"""The scoring API's promises at its edges, on a real port: names, amounts, statements and cursors are checked before
anything reaches the database (where, on PostgreSQL, a NUL byte or an over-long value would fail as INTERNAL)."""

from __future__ import annotations

import grpc
import pytest

from creditnode.scoring.v1 import scoring_service_pb2 as pb
from creditnode.scoring.v1 import scoring_service_pb2_grpc as pb_grpc
from services.kit.status import error_info
from tests.integration.scoring_service import test_servicer as servicer_tests
from tests.integration.scoring_service.servers import Fakes
from tests.integration.scoring_service.test_servicer import INSTITUTION, register, wait_evaluation

# The scoring service on a real port and its stand-ins, as test_servicer.py starts them.
fakes = servicer_tests.fakes
scoring = servicer_tests.scoring


def refused(call: object) -> tuple[grpc.StatusCode, str, str]:
    assert callable(call)
    with pytest.raises(grpc.RpcError) as err:
        call()
    info = error_info(err.value)
    assert info is not None, "every failure carries an ErrorInfo"
    return err.value.code(), info.reason, info.metadata.get("field", "")


def loan(uscc: str, amount: str, loan_id: str = "loan-a") -> pb.ReportLoanRequest:
    return pb.ReportLoanRequest(
        loan_id=loan_id,
        institution=INSTITUTION,
        enterprise=f"enterprises/{uscc}",
        platform="platforms/city-x",
        amount_yuan=amount,
        term_months=12,
        security=pb.LOAN_SECURITY_CREDIT,
        granted_on=pb.CalendarDay(year=2026, month=6, day=1),
    )


def test_a_malformed_scenario_model_name_is_invalid_not_looked_up(
    registry_server: str, scoring: pb_grpc.ScoringServiceStub
) -> None:
    uscc = register(registry_server)
    enterprise = f"enterprises/{uscc}"
    for name in (
        "institutions/bank\x00a/scenarioModels/sme",
        "institutions/bank-a/scenarioModels/sme\x00",
        "institutions/Bank A/scenarioModels/sme",
        "institutions/bank-a/scenarioModels/" + "s" * 41,
    ):
        request = pb.GetScenarioScoreRequest(scenario_model=name, enterprise=enterprise)
        got = refused(lambda r=request: scoring.GetScenarioScore(r))  # type: ignore[misc]
        assert got == (grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD", "scenario_model"), name


def test_an_unknown_scenario_model_is_not_echoed(registry_server: str, scoring: pb_grpc.ScoringServiceStub) -> None:
    # A well-shaped id that names no model is the caller's text (a mobile or an ID number fits an id's shape), and the
    # gateway relays scoring's refusal to the platform as it is.
    uscc = register(registry_server)
    for scenario_id in ("13912345678", "610113199001011234"):
        request = pb.GetScenarioScoreRequest(
            scenario_model=f"{INSTITUTION}/scenarioModels/{scenario_id}", enterprise=f"enterprises/{uscc}"
        )
        with pytest.raises(grpc.RpcError) as err:
            scoring.GetScenarioScore(request)
        info = error_info(err.value)
        assert info is not None
        assert (err.value.code(), info.reason) == (grpc.StatusCode.NOT_FOUND, "ERROR_REASON_SCENARIO_MODEL_NOT_FOUND")
        said = f"{err.value.details()} {dict(info.metadata)}"
        assert scenario_id not in said, said


def test_an_enterprise_named_twice_in_a_fit_is_not_echoed(scoring: pb_grpc.ScoringServiceStub) -> None:
    # Only the shape of an outcome's code is checked before the repeat is found, and a resident ID number without a
    # check letter has that shape: the refusal reaches the platform and the spans of scoring and the gateway.
    named = "enterprises/610113199001011234"
    request = pb.FitScenarioModelRequest(
        institution=INSTITUTION,
        scenario_id="fit",
        outcomes=[pb.Outcome(enterprise=named, bad=True), pb.Outcome(enterprise=named)],
    )
    with pytest.raises(grpc.RpcError) as err:
        scoring.FitScenarioModel(request)
    info = error_info(err.value)
    assert info is not None
    assert (err.value.code(), info.metadata["field"]) == (grpc.StatusCode.INVALID_ARGUMENT, "outcomes")
    said = f"{err.value.details()} {dict(info.metadata)}"
    assert "610113199001011234" not in said, said


def test_loan_amounts_are_plain_decimal_text(registry_server: str, scoring: pb_grpc.ScoringServiceStub) -> None:
    uscc = register(registry_server)
    wait_evaluation(scoring, uscc)
    for amount in ("1E+5", "1e3", "+100", "1" * 40):
        got = refused(lambda a=amount: scoring.ReportLoan(loan(uscc, a)))  # type: ignore[misc]
        assert got == (grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD", "amount_yuan"), amount
    stored = scoring.ReportLoan(loan(uscc, "500000.50")).loan
    assert (stored.amount_yuan, stored.outstanding_yuan) == ("500000.50", "500000.50")
    repay = pb.RepayLoanRequest(
        loan="loans/loan-a", amount_yuan="2E+2", repaid_on=pb.CalendarDay(year=2026, month=7, day=1), request_id="r1"
    )
    assert refused(lambda: scoring.RepayLoan(repay)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_FIELD",
        "amount_yuan",
    )


def test_a_loan_security_the_proto_does_not_define_is_invalid_not_stored_as_secured(
    registry_server: str, scoring: pb_grpc.ScoringServiceStub
) -> None:
    # proto3 keeps the number: read as "not CREDIT", the loan was stored as a secured one
    uscc = register(registry_server)
    wait_evaluation(scoring, uscc)
    request = loan(uscc, "1000.00")
    request.security = 999  # type: ignore[assignment]
    assert refused(lambda: scoring.ReportLoan(request)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_FIELD",
        "security",
    )
    with pytest.raises(grpc.RpcError) as err:
        scoring.GetLoan(pb.GetLoanRequest(name="loans/loan-a"))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_statement_with_control_characters_is_invalid(
    registry_server: str, scoring: pb_grpc.ScoringServiceStub
) -> None:
    uscc = register(registry_server)
    name = wait_evaluation(scoring, uscc).name
    clear = pb.ClearEvaluationDisputeRequest(
        name=name,
        objection="objections/o-1",
        outcome=pb.EVALUATION_DISPUTE_OUTCOME_UNVERIFIABLE,
        statement="we paid\x00in full",
    )
    assert refused(lambda: scoring.ClearEvaluationDispute(clear)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_FIELD",
        "statement",
    )
    clear.statement = "we paid in full,\nsee the receipts"
    scoring.ClearEvaluationDispute(clear)
    attach = pb.AttachEvaluationStatementRequest(name=name, objection="objections/o-1", statement="again\x07")
    assert refused(lambda: scoring.AttachEvaluationStatement(attach)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_FIELD",
        "statement",
    )


def test_alerts_that_do_not_exist_yet_cannot_be_acknowledged(
    registry_server: str, fakes: Fakes, scoring: pb_grpc.ScoringServiceStub
) -> None:
    # An acknowledgement beyond the institution's last alert would swallow alerts raised later: a resumed watch
    # starts after the acknowledged cursor.
    acked = scoring.AckAlerts(pb.AckAlertsRequest(institution=INSTITUTION, up_to_cursor=10**12))
    assert acked.acknowledged_cursor == 0
    stream = scoring.WatchAlerts(pb.WatchAlertsRequest(institution=INSTITUTION))
    first = next(stream)
    stream.cancel()
    assert first.cursor == 0


def test_a_model_or_scenario_document_past_its_limit_is_invalid_before_it_is_parsed(
    scoring: pb_grpc.ScoringServiceStub,
) -> None:
    # YAML parsing costs seconds per megabyte, and a stored document is parsed again whenever it is used.
    padded = "# " + "x" * 1_000_000 + "\n"
    publish = pb.PublishModelRequest(document=padded, request_id="r-long-model")
    assert refused(lambda: scoring.PublishModel(publish, timeout=60)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_FIELD",
        "document",
    )
    scenario = pb.CreateScenarioModelRequest(
        institution=INSTITUTION, scenario_id="long", document=padded, request_id="r-long-scenario"
    )
    assert refused(lambda: scoring.CreateScenarioModel(scenario, timeout=60)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_INVALID_FIELD",
        "document",
    )
