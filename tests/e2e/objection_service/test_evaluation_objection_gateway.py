"""An objection on an evaluation through the real gateway, with every service a real process: an institution receives
the evaluation, the enterprise's platform files the objection, the gateway stamps the evaluation in dispute, the scoring
team corrects it, and the gateway releases a new evaluation without the stamp; the institution gets a notice."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from creditnode.gateway.v1 import gateway_service_pb2 as gw
from creditnode.objection.v1 import objection_service_pb2 as ob
from creditnode.objection.v1 import objection_service_pb2_grpc as ob_grpc
from creditnode.scoring.v1 import scoring_service_pb2 as sc
from creditnode.scoring.v1 import scoring_service_pb2_grpc as sc_grpc
from tests.consent_support.signing import ts
from tests.gateway_support import Node, running_node, signed_objection

BANK = "institutions/boc-xian"


@pytest.fixture
def node(tmp_path: Path, database_url: str) -> Iterator[Node]:
    with running_node(tmp_path, database_url) as n:
        yield n


def until(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.1)


def address(node: Node, service: str) -> str:
    return next(p.address for p in node.procs if p.name == service)


def test_a_corrected_evaluation_objection_through_the_gateway(node: Node) -> None:
    stub = node.callers["xian"].stub
    e = node.enterprise
    node.callers["xian"].stub.GrantAuthorization(
        gw.GrantAuthorizationRequest(grant=e.grant(BANK, items=("TAX_PAYMENT",), max_uses=10)), timeout=10
    )

    def evaluation_for_the_bank() -> gw.GetEvaluationResponse | None:
        request = gw.GetEvaluationRequest(
            enterprise=e.name, purpose="PRE_LOAN", institution=BANK, request_id=secrets.token_hex(8)
        )
        try:
            return stub.GetEvaluation(request, timeout=10)
        except grpc.RpcError as exc:
            if exc.code() in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.NOT_FOUND):
                return None  # the authorization (consent watch) or the first evaluation is not there yet
            raise

    # The institution receives the evaluation before the objection: it is an earlier recipient.
    first: list[gw.GetEvaluationResponse] = []

    def received() -> bool:
        got = evaluation_for_the_bank()
        first.extend([got] if got is not None else [])
        return bool(first)

    until(received, "an evaluation released to the institution")
    disputed = first[0].evaluation
    assert disputed.name.startswith(f"{e.name}/evaluations/")
    assert not disputed.in_dispute

    # The enterprise's platform files the objection through the gateway; it is routed to the scoring team.
    objection = ob.FileObjectionRequest(
        platform="platforms/forged",  # the gateway sets the platform from the caller's certificate
        filer_kind=ob.FILER_KIND_ENTERPRISE,
        filer=e.name,
        enterprise=e.uscc,
        evaluation=disputed.name,
        reasons="the score does not reflect the arrears we settled",
        request_id=secrets.token_hex(8),
    )
    objection.receive_time.CopyFrom(ts(datetime.now(UTC) - timedelta(hours=1)))
    filed = stub.FileObjection(signed_objection(e, objection), timeout=10).result.objection
    assert (filed.platform, filed.status) == ("platforms/xian", ob.OBJECTION_STATUS_ROUTED)
    assert [line.department for line in filed.lines] == ["node:scoring"]

    with (
        grpc.insecure_channel(address(node, "scoring")) as sch,
        grpc.insecure_channel(address(node, "objection")) as och,
    ):
        scoring = sc_grpc.ScoringServiceStub(sch)
        objections = ob_grpc.ObjectionServiceStub(och)

        def flagged() -> bool:
            return scoring.GetEvaluationByName(sc.GetEvaluationByNameRequest(name=disputed.name)).evaluation.in_dispute

        until(flagged, "the in-dispute flag in scoring")
        # Every release while the objection is open carries the stamp.
        stamped = evaluation_for_the_bank()
        assert stamped is not None
        assert (stamped.evaluation.in_dispute, stamped.evaluation.dispute_objection) == (True, filed.name)
        portrait = stub.GetPortrait(
            gw.GetPortraitRequest(
                enterprise=e.name, purpose="PRE_LOAN", institution=BANK, request_id=secrets.token_hex(8)
            ),
            timeout=10,
        ).portrait
        assert (portrait.in_dispute, portrait.dispute_objection) == (True, filed.name)  # the same score, contested

        # The scoring team answers CORRECTED: scoring re-evaluates, then the flag goes.
        answered = objections.AnswerObjection(
            ob.AnswerObjectionRequest(
                name=filed.name,
                department="node:scoring",
                target=ob.Target(evaluation=disputed.name),
                outcome=ob.OUTCOME_CORRECTED,
                request_id=secrets.token_hex(8),
            ),
            timeout=20,
        ).objection
        assert answered.status == ob.OBJECTION_STATUS_RESOLVED

        def reevaluated() -> bool:
            current = scoring.GetEvaluation(sc.GetEvaluationRequest(enterprise=e.name)).evaluation
            return current.name != disputed.name and not current.in_dispute

        until(reevaluated, "a new evaluation without the flag")
        released = evaluation_for_the_bank()
        assert released is not None
        assert released.evaluation.name != disputed.name
        assert not released.evaluation.in_dispute
        assert released.receipt.leaf_index > first[0].receipt.leaf_index

        notices = objections.ListCorrectionNotices(ob.ListCorrectionNoticesRequest(recipient=BANK)).notices
        mine = [n for n in notices if n.objection == filed.name]
        assert [(c.target.evaluation, c.item, c.outcome) for n in mine for c in n.changes] == [
            (disputed.name, "evaluation", ob.OUTCOME_CORRECTED)
        ]
        # The enterprise's platform follows the outcome through the gateway.
        followed = stub.GetObjection(gw.GetObjectionRequest(name=filed.name), timeout=10).result.objection
        assert followed.status == ob.OBJECTION_STATUS_RESOLVED
