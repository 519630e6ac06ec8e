"""Objections on evaluations with real servers on real ports: an in-process registry, scoring and objection, each on
its own database (SQLite, or PostgreSQL when configured), and an evidence log standing in for the gateway's."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest

from creditnode.objection.v1 import objection_service_pb2 as ob
from creditnode.objection.v1 import objection_service_pb2_grpc as ob_grpc
from creditnode.registry.v1 import records_pb2 as rec_pb
from creditnode.scoring.v1 import scoring_service_pb2 as sc
from creditnode.scoring.v1 import scoring_service_pb2_grpc as sc_grpc
from services.kit.status import error_info
from services.objection.main import ObjectionSettings
from services.objection.main import build as build_objection
from services.scoring.main import build as build_scoring
from tests.conftest import fresh_database
from tests.e2e.objection_service.test_objection_flow import DisclosureLog
from tests.integration.registry.records_support import as_department, create_departments, ingestion, tax_record
from tests.integration.registry.records_support import wire_record as wire
from tests.integration.scoring_service.servers import Fakes, scoring_settings, start_fakes
from tests.registry_helpers import RegistryClient, ts

BANK = "institutions/bank-a"
SCORING_TEAM = "node:scoring"


def eventually(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Wait for background work (outbox delivery, watches); the bound is generous, not a timing claim."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


def reason(err: pytest.ExceptionInfo[grpc.RpcError]) -> tuple[grpc.StatusCode, str]:
    info = error_info(err.value)
    return err.value.code(), info.reason if info else ""


@dataclass
class Node:
    registry: RegistryClient
    scoring: sc_grpc.ScoringServiceStub
    objections: ob_grpc.ObjectionServiceStub
    disclosures: DisclosureLog
    fakes: Fakes

    def enterprise(self) -> tuple[str, str]:
        """A registered enterprise with its platform, once scoring has its first evaluation."""
        platform, _ = self.registry.admitted_platform()
        enterprise, _ = self.registry.enterprise(platform.name)
        eventually(lambda: self.current(enterprise.uscc) is not None, "the first evaluation")
        return platform.name, enterprise.uscc

    def current(self, uscc: str) -> sc.Evaluation | None:
        try:
            return self.scoring.GetEvaluation(sc.GetEvaluationRequest(enterprise=f"enterprises/{uscc}")).evaluation
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return None
            raise

    def by_name(self, name: str) -> sc.Evaluation:
        return self.scoring.GetEvaluationByName(sc.GetEvaluationByNameRequest(name=name)).evaluation

    def file(self, platform: str, uscc: str, evaluation: str, **kw: Any) -> ob.Objection:
        request = ob.FileObjectionRequest(
            platform=platform,
            filer_kind=ob.FILER_KIND_ENTERPRISE,
            filer=f"enterprises/{uscc}",
            enterprise=uscc,
            evaluation=evaluation,
            reasons="the score ignores the arrears we settled",
            **kw,
        )
        request.receive_time.CopyFrom(ts(datetime.now(UTC) - timedelta(hours=1)))
        return self.objections.FileObjection(request).objection

    def answer(self, name: str, evaluation: str, outcome: int, department: str = SCORING_TEAM) -> ob.Objection:
        return self.objections.AnswerObjection(
            ob.AnswerObjectionRequest(
                name=name,
                department=department,
                target=ob.Target(evaluation=evaluation),
                outcome=outcome,  # type: ignore[arg-type]
            )
        ).objection


@pytest.fixture
def node(registry_server: str, tmp_path: Path) -> Iterator[Node]:
    fakes = start_fakes()
    disclosures = DisclosureLog(tmp_path)
    scoring_db = fresh_database(tmp_path, "scoring")
    objection_db = fresh_database(tmp_path, "objection")
    servers = []
    channels: list[grpc.Channel] = []
    try:
        scoring = build_scoring(
            scoring_settings(next(scoring_db), tmp_path, registry_server, fakes), configure_logs=False
        )
        servers.append(scoring)
        objection = build_objection(
            ObjectionSettings(
                listen_addr="127.0.0.1:0",
                database_url=next(objection_db),
                var_dir=tmp_path / "objection",
                registry_addr=registry_server,
                scoring_addr=scoring.address,
                gateway_addr=disclosures.server.address,
                dispatch_interval_seconds=0.1,
                sharing_list_ttl_seconds=0,
            ),
            configure_logs=False,
        )
        servers.append(objection)
        channels = [grpc.insecure_channel(a) for a in (registry_server, scoring.address, objection.address)]
        yield Node(
            RegistryClient(channels[0]),
            sc_grpc.ScoringServiceStub(channels[1]),
            ob_grpc.ObjectionServiceStub(channels[2]),
            disclosures,
            fakes,
        )
    finally:
        for ch in channels:
            ch.close()
        for server in reversed(servers):
            server.stop(0)
        fakes.stop()
        disclosures.close()
        for db in (scoring_db, objection_db):
            for _ in db:  # drop the PostgreSQL databases
                pass


def test_a_corrected_evaluation_is_reevaluated_unflagged_and_noticed_to_its_recipients(node: Node) -> None:
    platform, uscc = node.enterprise()
    disputed = node.current(uscc)
    assert disputed is not None
    assert not disputed.in_dispute
    node.disclosures.disclose(BANK, uscc, ["evaluation"])

    filed = node.file(platform, uscc, disputed.name, request_id="eval-1")
    assert filed.status == ob.OBJECTION_STATUS_ROUTED
    assert [(line.department, line.item) for line in filed.lines] == [(SCORING_TEAM, "evaluation")]
    eventually(lambda: node.by_name(disputed.name).in_dispute, "the in-dispute flag in scoring")
    flagged = node.current(uscc)
    assert flagged is not None
    assert (flagged.in_dispute, flagged.dispute_objection) == (True, filed.name)
    assert node.objections.GetObjection(ob.GetObjectionRequest(name=filed.name, requester=SCORING_TEAM)).objection
    queue = node.objections.ListObjections(ob.ListObjectionsRequest(department=SCORING_TEAM)).objections
    assert [o.name for o in queue] == [filed.name]

    # The scoring team corrects: scoring re-evaluates from the current records, then the flag goes.
    node.fakes.records.put(uscc, "court-1", "COURT_ENFORCEMENT", datetime(2026, 5, 1, tzinfo=UTC), status="CLOSED")
    answered = node.answer(filed.name, disputed.name, ob.OUTCOME_CORRECTED)
    assert answered.status == ob.OBJECTION_STATUS_RESOLVED

    def reevaluated_and_clear() -> bool:
        now = node.current(uscc)
        return now is not None and now.name != disputed.name and not now.in_dispute

    eventually(reevaluated_and_clear, "a new evaluation without the flag")
    assert not node.by_name(disputed.name).in_dispute
    history = node.scoring.ListEvaluationHistory(sc.ListEvaluationHistoryRequest(enterprise=f"enterprises/{uscc}"))
    assert not any(e.in_dispute for e in history.evaluations)
    notices = node.objections.ListCorrectionNotices(ob.ListCorrectionNoticesRequest(recipient=BANK)).notices
    assert [(n.objection, n.changes[0].target.evaluation, n.changes[0].item) for n in notices] == [
        (filed.name, disputed.name, "evaluation")
    ]
    assert notices[0].changes[0].outcome == ob.OUTCOME_CORRECTED


def test_upheld_and_unverifiable_evaluations_show_the_enterprises_statement(node: Node) -> None:
    platform, uscc = node.enterprise()
    first = node.current(uscc)
    assert first is not None
    filed = node.file(platform, uscc, first.name, statement="评分未反映已结清的欠税")
    eventually(lambda: node.by_name(first.name).in_dispute, "the flag")
    node.answer(filed.name, first.name, ob.OUTCOME_UPHELD)
    eventually(
        lambda: list(node.by_name(first.name).statements) == ["评分未反映已结清的欠税"], "the statement after UPHELD"
    )
    upheld = node.by_name(first.name)
    assert (upheld.in_dispute, upheld.unverifiable) == (False, False)
    assert node.current(uscc).name == first.name  # type: ignore[union-attr]  # no re-evaluation after UPHELD

    # The same evaluation may be disputed again once resolved; this time it cannot be verified.
    again = node.file(platform, uscc, first.name, statement="数据来源有误")
    eventually(lambda: node.by_name(first.name).in_dispute, "the flag again")
    node.answer(again.name, first.name, ob.OUTCOME_CANNOT_VERIFY)
    eventually(lambda: node.by_name(first.name).unverifiable, "the unverifiable mark")
    marked = node.by_name(first.name)
    assert not marked.in_dispute
    assert list(marked.statements) == ["评分未反映已结清的欠税", "数据来源有误"]


def test_bad_evaluation_objections_are_refused_with_reasons(node: Node) -> None:
    platform, uscc = node.enterprise()
    _, other = node.enterprise()
    own = node.current(uscc)
    foreign = node.current(other)
    assert own is not None
    assert foreign is not None

    # Another enterprise's evaluation, whether or not it exists: PERMISSION_DENIED before existence.
    for name in (foreign.name, f"enterprises/{other}/evaluations/999999"):
        with pytest.raises(grpc.RpcError) as err:
            node.file(platform, uscc, name)
        assert reason(err) == (grpc.StatusCode.PERMISSION_DENIED, "ERROR_REASON_OBJECTION_TARGET_NOT_OWNED")
    # An unknown evaluation of the enterprise itself.
    with pytest.raises(grpc.RpcError) as err:
        node.file(platform, uscc, f"enterprises/{uscc}/evaluations/999999")
    assert reason(err) == (grpc.StatusCode.NOT_FOUND, "ERROR_REASON_OBJECTION_EVALUATION_NOT_FOUND")
    assert uscc not in (err.value.details() or "")
    # A second open objection on the same evaluation.
    filed = node.file(platform, uscc, own.name)
    with pytest.raises(grpc.RpcError) as err:
        node.file(platform, uscc, own.name)
    assert reason(err) == (grpc.StatusCode.ALREADY_EXISTS, "ERROR_REASON_OBJECTION_DUPLICATE")
    # A record department may not answer an evaluation objection.
    with pytest.raises(grpc.RpcError) as err:
        node.answer(filed.name, own.name, ob.OUTCOME_UPHELD, department="departments/sx-tax")
    assert reason(err) == (grpc.StatusCode.PERMISSION_DENIED, "ERROR_REASON_OBJECTION_NOT_ROUTED_TO_CALLER")
    # The scoring team may not answer a record objection.
    create_departments(node.registry)
    accepted = (
        ingestion(node.registry.channel)
        .IngestBatch(
            rec_pb.IngestBatchRequest(records=[wire(tax_record(uscc, 3), 1)]), metadata=as_department("sx-tax")
        )
        .results[0]
    )
    assert accepted.outcome == rec_pb.RECORD_OUTCOME_ACCEPTED, accepted
    record_objection = node.objections.FileObjection(
        ob.FileObjectionRequest(
            platform=platform,
            filer_kind=ob.FILER_KIND_ENTERPRISE,
            filer=f"enterprises/{uscc}",
            enterprise=uscc,
            records=[ob.RecordTarget(record=accepted.record, version=1)],
            reasons="the tax was paid",
            receive_time=ts(datetime.now(UTC) - timedelta(hours=1)),
        )
    ).objection
    with pytest.raises(grpc.RpcError) as err:
        node.objections.AnswerObjection(
            ob.AnswerObjectionRequest(
                name=record_objection.name,
                department=SCORING_TEAM,
                target=ob.Target(record=ob.RecordTarget(record=accepted.record, version=1)),
                outcome=ob.OUTCOME_UPHELD,
            )
        )
    assert reason(err) == (grpc.StatusCode.PERMISSION_DENIED, "ERROR_REASON_OBJECTION_NOT_ROUTED_TO_CALLER")
    # Any other non-department answerer is malformed.
    with pytest.raises(grpc.RpcError) as err:
        node.answer(filed.name, own.name, ob.OUTCOME_UPHELD, department="node:registry")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_scoring_refuses_malformed_and_unknown_evaluation_names(node: Node) -> None:
    _, uscc = node.enterprise()
    own = node.current(uscc)
    assert own is not None
    for name in ("evaluations/1", f"enterprises/{uscc}/evaluations/x", f"enterprises/{uscc}/records/1"):
        with pytest.raises(grpc.RpcError) as err:
            node.by_name(name)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as err:
        node.by_name(f"enterprises/{uscc}/evaluations/999999")
    assert reason(err) == (grpc.StatusCode.NOT_FOUND, "ERROR_REASON_EVALUATION_NOT_FOUND")
    with pytest.raises(grpc.RpcError) as err:
        node.scoring.ClearEvaluationDispute(sc.ClearEvaluationDisputeRequest(name=own.name, objection="objections/o-1"))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as err:
        node.scoring.AttachEvaluationStatement(
            sc.AttachEvaluationStatementRequest(name=own.name, objection="objections/o-1", statement="too early")
        )
    assert reason(err) == (grpc.StatusCode.NOT_FOUND, "ERROR_REASON_EVALUATION_DISPUTE_NOT_FOUND")
    # Idempotent: set twice, clear twice; another outcome afterwards is refused.
    for _ in range(2):
        got = node.scoring.SetEvaluationDispute(
            sc.SetEvaluationDisputeRequest(name=own.name, objection="objections/o-1")
        ).evaluation
        assert (got.in_dispute, got.dispute_objection) == (True, "objections/o-1")
    for _ in range(2):
        got = node.scoring.ClearEvaluationDispute(
            sc.ClearEvaluationDisputeRequest(
                name=own.name, objection="objections/o-1", outcome=sc.EVALUATION_DISPUTE_OUTCOME_UPHELD
            )
        ).evaluation
        assert not got.in_dispute
    with pytest.raises(grpc.RpcError) as err:
        node.scoring.ClearEvaluationDispute(
            sc.ClearEvaluationDisputeRequest(
                name=own.name, objection="objections/o-1", outcome=sc.EVALUATION_DISPUTE_OUTCOME_CORRECTED
            )
        )
    assert reason(err) == (grpc.StatusCode.FAILED_PRECONDITION, "ERROR_REASON_EVALUATION_DISPUTE_CLOSED")
    first = node.scoring.ReEvaluate(sc.ReEvaluateRequest(enterprise=f"enterprises/{uscc}", request_id="re-1"))
    again = node.scoring.ReEvaluate(sc.ReEvaluateRequest(enterprise=f"enterprises/{uscc}", request_id="re-1"))
    assert first.evaluation.name == again.evaluation.name != own.name
