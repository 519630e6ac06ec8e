"""The objection API's promises at its edges, with real servers on real ports: free texts are checked before they are
stored (on PostgreSQL a NUL byte would fail in the database as INTERNAL), and a list's last page has no token."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from creditnode.objection.v1 import objection_service_pb2 as ob
from services.kit.status import error_info
from tests.integration.objection_service import test_evaluation_objections as evaluation_tests
from tests.integration.objection_service.test_evaluation_objections import BANK, SCORING_TEAM, Node
from tests.registry_helpers import ts

# Registry, scoring and objection on real ports, as test_evaluation_objections.py starts them.
node = evaluation_tests.node


def refused(call: Callable[[], object]) -> tuple[grpc.StatusCode, str, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()
    info = error_info(err.value)
    assert info is not None, "every failure carries an ErrorInfo"
    return err.value.code(), info.reason, info.metadata.get("field", "")


def file(node: Node, platform: str, uscc: str, evaluation: str, **kw: str) -> ob.Objection:
    request = ob.FileObjectionRequest(
        platform=platform,
        filer_kind=ob.FILER_KIND_ENTERPRISE,
        filer=f"enterprises/{uscc}",
        enterprise=uscc,
        evaluation=evaluation,
        reasons=kw.pop("reasons", "the score ignores the arrears we settled"),
        **kw,
    )
    request.receive_time.CopyFrom(ts(datetime.now(UTC) - timedelta(hours=1)))
    return node.objections.FileObjection(request).objection


def invalid(field: str) -> tuple[grpc.StatusCode, str, str]:
    return grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD", field


def test_free_texts_with_control_characters_are_invalid(node: Node) -> None:
    platform, uscc = node.enterprise()
    evaluation = node.current(uscc)
    assert evaluation is not None
    assert refused(lambda: file(node, platform, uscc, evaluation.name, reasons="wrong\x00score")) == invalid("reasons")
    assert refused(lambda: file(node, platform, uscc, evaluation.name, statement="ours\x1b[2J")) == invalid("statement")
    # Newlines and tabs are text.
    filed = file(node, platform, uscc, evaluation.name, reasons="the score\n\tignores the arrears we settled")
    extend = ob.ExtendObjectionRequest(name=filed.name, days=3, reason="waiting\x00", operator="operators/zhang")
    assert refused(lambda: node.objections.ExtendObjection(extend)) == invalid("reason")
    node.answer(filed.name, evaluation.name, ob.OUTCOME_UPHELD)
    attach = ob.AttachStatementRequest(
        name=filed.name, enterprise=uscc, target=ob.Target(evaluation=evaluation.name), statement="we\x00disagree"
    )
    assert refused(lambda: node.objections.AttachStatement(attach)) == invalid("statement")


def test_the_last_page_of_a_listing_has_no_token(node: Node) -> None:
    platform, uscc = node.enterprise()
    evaluation = node.current(uscc)
    assert evaluation is not None
    node.disclosures.disclose(BANK, uscc, ["evaluation"])
    filed = node.file(platform, uscc, evaluation.name)
    node.answer(filed.name, evaluation.name, ob.OUTCOME_UPHELD)

    listed = node.objections.ListObjections(ob.ListObjectionsRequest(enterprise=uscc, page_size=1))
    assert [o.name for o in listed.objections] == [filed.name]
    assert listed.next_page_token == ""
    routed = node.objections.ListObjections(ob.ListObjectionsRequest(department=SCORING_TEAM, page_size=1))
    assert [o.name for o in routed.objections] == [filed.name]
    assert routed.next_page_token == ""
    notices = node.objections.ListCorrectionNotices(ob.ListCorrectionNoticesRequest(recipient=BANK, page_size=1))
    assert [n.objection for n in notices.notices] == [filed.name]
    assert notices.next_page_token == ""


def test_names_and_parties_with_control_characters_are_invalid(node: Node) -> None:
    # A NUL in an objection's name reached the database: INTERNAL on PostgreSQL, NOT_FOUND on SQLite.
    platform, uscc = node.enterprise()
    evaluation = node.current(uscc)
    assert evaluation is not None
    filed = file(node, platform, uscc, evaluation.name)
    bad = filed.name + "\x00"
    get = ob.GetObjectionRequest(name=bad, requester="supervisors/li")
    assert refused(lambda: node.objections.GetObjection(get)) == invalid("name")
    answer = ob.AnswerObjectionRequest(
        name=bad, department=SCORING_TEAM, target=ob.Target(evaluation=evaluation.name), outcome=ob.OUTCOME_UPHELD
    )
    assert refused(lambda: node.objections.AnswerObjection(answer)) == invalid("name")
    attach = ob.AttachStatementRequest(
        name=bad, enterprise=uscc, target=ob.Target(evaluation=evaluation.name), statement="we disagree"
    )
    assert refused(lambda: node.objections.AttachStatement(attach)) == invalid("name")
    extend = ob.ExtendObjectionRequest(name=bad, days=3, reason="site visit", operator="operators/zhang")
    assert refused(lambda: node.objections.ExtendObjection(extend)) == invalid("name")
    # The enterprise an institution objects about is looked up in the gateway's log: refused before that.
    by_bank = ob.FileObjectionRequest(
        platform=platform,
        filer_kind=ob.FILER_KIND_INSTITUTION,
        filer=BANK,
        enterprise=uscc + "\x00",
        evaluation=evaluation.name,
        reasons="the score ignores the arrears they settled",
    )
    by_bank.receive_time.CopyFrom(ts(datetime.now(UTC) - timedelta(hours=1)))
    assert refused(lambda: node.objections.FileObjection(by_bank)) == invalid("enterprise")


def test_a_malformed_evaluation_is_refused_naming_the_requests_field(node: Node) -> None:
    # FileObjectionRequest.evaluation is a field of the request itself, not of a Target message.
    platform, uscc = node.enterprise()
    assert refused(lambda: file(node, platform, uscc, "evaluations/1")) == invalid("evaluation")
    evaluation = node.current(uscc)
    assert evaluation is not None
    filed = file(node, platform, uscc, evaluation.name)
    # In a Target (answers, statements) the field is the target's.
    answer = ob.AnswerObjectionRequest(
        name=filed.name,
        department=SCORING_TEAM,
        target=ob.Target(evaluation="evaluations/1"),
        outcome=ob.OUTCOME_UPHELD,
    )
    assert refused(lambda: node.objections.AnswerObjection(answer)) == invalid("target.evaluation")


def test_a_malformed_uscc_is_refused_naming_the_field_before_anything_is_stored(node: Node) -> None:
    platform, uscc = node.enterprise()
    evaluation = node.current(uscc)
    assert evaluation is not None
    wrong_digit = uscc[:17] + next(c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if c != uscc[17])
    for bad in (uscc[:17], uscc + "0", uscc[:17] + "I", wrong_digit):
        assert refused(lambda bad=bad: file(node, platform, bad, evaluation.name)) == (
            grpc.StatusCode.INVALID_ARGUMENT,
            "ERROR_REASON_INVALID_USCC",
            "enterprise",
        )
    listed = node.objections.ListObjections(ob.ListObjectionsRequest(platform=platform))
    assert list(listed.objections) == []
