"""Routing, the three outcomes and their effects, statements, correction notices and the reinsertion guard."""

from __future__ import annotations

import hashlib
import itertools
from datetime import datetime

import pytest

from services.kit.errors import FailedPrecondition, InvalidArgument, PermissionDenied
from services.objection.domain import (
    EVALUATION_HANDLER,
    ActorKind,
    CorrectionNoticeDue,
    DisputeFlagCleared,
    DisputeRouted,
    NoticeChange,
    ObjectionResolved,
    ObjectionStatus,
    Outcome,
    Recipient,
    RecipientKind,
    RecordCorrected,
    ReevaluationRequested,
    ReinsertionGuardRequested,
    RoutingFailed,
    StatementAttached,
    TargetMarkedUnverifiable,
    TimelineKind,
    reinsertion_fingerprint,
)
from tests.unit.objection.fakes import ACME, MARKET, OTHER, TAX, World, bank, cst, digest, platform


@pytest.fixture
def world() -> World:
    return World()


# --- routing ---------------------------------------------------------------------------------------------------------


def test_an_item_missing_from_the_sharing_list_is_alerted_once_and_routed_later(world: World) -> None:
    world.departments.mapping.pop("market.penalty")
    objection = world.file(records=(world.tax_record, world.market_record))
    assert objection.status is ObjectionStatus.FORWARDED
    events = objection.pull_events()
    assert [e.item for e in events if isinstance(e, RoutingFailed)] == ["market.penalty"]
    assert [e.department for e in events if isinstance(e, DisputeRouted)] == [TAX]

    objection.route(world.departments, at=cst(2025, 3, 12))
    assert objection.pull_events() == []  # still missing: no second alert
    assert objection.status is ObjectionStatus.FORWARDED

    world.departments.mapping["market.penalty"] = MARKET
    objection.route(world.departments, at=cst(2025, 3, 13))
    routed = [e for e in objection.pull_events() if isinstance(e, DisputeRouted)]
    assert [(e.department, e.targets, e.due_before) for e in routed] == [
        (MARKET, (world.market_record,), cst(2025, 4, 1, 0))
    ]
    assert objection.status is ObjectionStatus.ROUTED
    assert [e.kind for e in objection.timeline].count(TimelineKind.ROUTING_FAILED) == 1


def test_routing_again_when_routed_does_nothing(world: World) -> None:
    objection = world.file()
    objection.pull_events()
    objection.route(world.departments, at=cst(2025, 3, 12))
    assert objection.pull_events() == []


def test_a_routed_target_can_be_answered_while_another_waits_for_routing(world: World) -> None:
    world.departments.mapping.pop("market.penalty")
    objection = world.file(records=(world.tax_record, world.market_record))
    world.answer(objection, world.tax_record, Outcome.UPHELD, cst(2025, 3, 12))
    assert objection.status is ObjectionStatus.FORWARDED
    assert objection.is_open


# --- who may answer --------------------------------------------------------------------------------------------------


def test_a_department_answering_a_dispute_not_routed_to_it(world: World) -> None:
    objection = world.file(records=(world.tax_record, world.market_record))
    with pytest.raises(PermissionDenied) as err:
        world.answer(objection, world.tax_record, Outcome.UPHELD, cst(2025, 3, 12), department=MARKET)
    assert err.value.reason == "ERROR_REASON_OBJECTION_NOT_ROUTED_TO_CALLER"
    # A target that is not in the objection at all gets the same answer.
    with pytest.raises(PermissionDenied) as err:
        world.answer(objection, world.foreign_record, Outcome.UPHELD, cst(2025, 3, 12), department=TAX)
    assert err.value.reason == "ERROR_REASON_OBJECTION_NOT_ROUTED_TO_CALLER"
    assert all(line.outcome is None for line in objection.lines)


def test_a_department_with_nothing_in_the_objection(world: World) -> None:
    objection = world.file()
    with pytest.raises(PermissionDenied):
        world.answer(objection, world.tax_record, Outcome.CORRECTED, cst(2025, 3, 12), department="departments/court")


def test_each_target_is_answered_once(world: World) -> None:
    objection = world.file(records=(world.tax_record, world.market_record))
    world.answer(objection, world.tax_record, Outcome.UPHELD, cst(2025, 3, 12))
    with pytest.raises(FailedPrecondition) as err:
        world.answer(objection, world.tax_record, Outcome.CANNOT_VERIFY, cst(2025, 3, 13))
    assert err.value.reason == "ERROR_REASON_OBJECTION_ALREADY_ANSWERED"
    assert err.value.metadata == {"outcome": "UPHELD"}


def test_answer_time_must_carry_a_time_zone(world: World) -> None:
    objection = world.file()
    with pytest.raises(InvalidArgument):
        world.answer(objection, world.tax_record, Outcome.UPHELD, datetime(2025, 3, 12))


# --- the three outcomes ----------------------------------------------------------------------------------------------


def test_corrected_record_clears_the_flag_supersedes_the_version_and_guards_against_reinsertion(world: World) -> None:
    objection = world.file()
    objection.pull_events()
    world.records.add(world.tax_record.record_id, 2, ACME, "tax.arrears", TAX)
    world.answer(objection, world.tax_record, Outcome.CORRECTED, cst(2025, 3, 14), corrected_version=2)
    events = objection.pull_events()
    cleared = [e for e in events if isinstance(e, DisputeFlagCleared)]
    assert [(e.target, e.outcome) for e in cleared] == [(world.tax_record, Outcome.CORRECTED)]
    corrected = [e for e in events if isinstance(e, RecordCorrected)]
    assert [(e.record_id, e.disputed_version, e.corrected_version) for e in corrected] == [
        (world.tax_record.record_id, 1, 2)
    ]
    guards = [e for e in events if isinstance(e, ReinsertionGuardRequested)]
    old_digest = digest(f"{world.tax_record.record_id}/1")
    assert [(g.provider, g.enterprise, g.item, g.content_sha256) for g in guards] == [
        (TAX, ACME, "tax.arrears", old_digest)
    ]
    assert guards[0].fingerprint == reinsertion_fingerprint(TAX, ACME, "tax.arrears", old_digest)
    answered = objection.timeline[-2]
    assert answered.kind is TimelineKind.ANSWERED
    assert (answered.actor_kind, answered.actor_id) == (ActorKind.DEPARTMENT, TAX)
    assert answered.detail == {"department": TAX, "outcome": "CORRECTED", "corrected_version": "2"}


def test_corrected_needs_a_new_version(world: World) -> None:
    objection = world.file()
    with pytest.raises(InvalidArgument) as invalid:
        world.answer(objection, world.tax_record, Outcome.CORRECTED, cst(2025, 3, 14))
    assert invalid.value.metadata["field"] == "corrected_version"
    for version in (1, 5):  # not newer; not in the registry
        with pytest.raises(FailedPrecondition) as err:
            world.answer(objection, world.tax_record, Outcome.CORRECTED, cst(2025, 3, 14), corrected_version=version)
        assert err.value.reason == "ERROR_REASON_OBJECTION_CORRECTION_INVALID"
    assert objection.lines[0].outcome is None


def test_a_corrected_version_below_one_is_invalid_not_a_failed_lookup(world: World) -> None:
    # Versions start at 1, as at filing: a negative one is a malformed request, and the registry is not asked.
    objection = world.file()
    asked: list[int] = []
    version = world.records.version

    def counting(record_id: str, v: int) -> object:
        asked.append(v)
        return version(record_id, v)

    world.records.version = counting  # type: ignore[method-assign,assignment]
    with pytest.raises(InvalidArgument) as invalid:
        world.answer(objection, world.tax_record, Outcome.CORRECTED, cst(2025, 3, 14), corrected_version=-2)
    assert invalid.value.metadata["field"] == "corrected_version"
    assert asked == []
    assert objection.lines[0].outcome is None


def test_only_a_corrected_record_names_a_version(world: World) -> None:
    objection = world.file()
    world.records.add(world.tax_record.record_id, 2, ACME, "tax.arrears", TAX)
    with pytest.raises(InvalidArgument):
        world.answer(objection, world.tax_record, Outcome.UPHELD, cst(2025, 3, 14), corrected_version=2)


def test_upheld_clears_the_flag_and_shows_a_statement_given_at_filing(world: World) -> None:
    objection = world.file(statement="企业说明：欠税已于3月补缴")
    objection.pull_events()
    world.answer(objection, world.tax_record, Outcome.UPHELD, cst(2025, 3, 14))
    events = objection.pull_events()
    assert [(e.target, e.outcome) for e in events if isinstance(e, DisputeFlagCleared)] == [
        (world.tax_record, Outcome.UPHELD)
    ]
    assert [e.statement for e in events if isinstance(e, StatementAttached)] == ["企业说明：欠税已于3月补缴"]
    assert not any(isinstance(e, (RecordCorrected, ReinsertionGuardRequested)) for e in events)


def test_upheld_then_the_enterprise_attaches_a_statement(world: World) -> None:
    objection = world.file()
    world.answer(objection, world.tax_record, Outcome.UPHELD, cst(2025, 3, 14))
    objection.pull_events()
    assert not [e for e in objection.events if isinstance(e, StatementAttached)]
    objection.attach_statement(enterprise=ACME, target=world.tax_record, statement=" 我们不同意 ", at=cst(2025, 3, 20))
    events = objection.pull_events()
    assert [(e.target, e.statement) for e in events if isinstance(e, StatementAttached)] == [
        (world.tax_record, "我们不同意")
    ]
    assert objection.lines[0].statement == "我们不同意"
    entry = objection.timeline[-1]
    assert (entry.kind, entry.actor_kind, entry.detail) == (TimelineKind.STATEMENT_ATTACHED, ActorKind.ENTERPRISE, {})


def test_cannot_verify_marks_the_record_with_the_enterprises_statement(world: World) -> None:
    objection = world.file(statement="该处罚已被撤销")
    objection.pull_events()
    world.answer(objection, world.tax_record, Outcome.CANNOT_VERIFY, cst(2025, 3, 14))
    events = objection.pull_events()
    marked = [e for e in events if isinstance(e, TargetMarkedUnverifiable)]
    assert [(e.target, e.statement) for e in marked] == [(world.tax_record, "该处罚已被撤销")]
    # The mark replaces the flag: no "cleared" for an unverifiable record.
    assert not any(isinstance(e, DisputeFlagCleared) for e in events)


def test_cannot_verify_without_a_statement_yet_then_one_is_attached(world: World) -> None:
    objection = world.file()
    world.answer(objection, world.tax_record, Outcome.CANNOT_VERIFY, cst(2025, 3, 14))
    marked = [e for e in objection.pull_events() if isinstance(e, TargetMarkedUnverifiable)]
    assert marked[0].statement is None
    objection.attach_statement(enterprise=ACME, target=world.tax_record, statement="补充说明", at=cst(2025, 3, 15))
    assert [e.statement for e in objection.pull_events() if isinstance(e, StatementAttached)] == ["补充说明"]


def test_statements_only_by_the_enterprise_on_upheld_or_unverifiable_targets(world: World) -> None:
    objection = world.file(records=(world.tax_record, world.market_record))
    with pytest.raises(FailedPrecondition) as open_err:
        objection.attach_statement(enterprise=ACME, target=world.tax_record, statement="x", at=cst(2025, 3, 12))
    assert open_err.value.reason == "ERROR_REASON_ILLEGAL_TRANSITION"
    world.records.add(world.tax_record.record_id, 2, ACME, "tax.arrears", TAX)
    world.answer(objection, world.tax_record, Outcome.CORRECTED, cst(2025, 3, 14), corrected_version=2)
    with pytest.raises(FailedPrecondition):
        objection.attach_statement(enterprise=ACME, target=world.tax_record, statement="x", at=cst(2025, 3, 15))
    world.answer(objection, world.market_record, Outcome.UPHELD, cst(2025, 3, 14))
    with pytest.raises(PermissionDenied):
        objection.attach_statement(enterprise=OTHER, target=world.market_record, statement="x", at=cst(2025, 3, 15))
    with pytest.raises(InvalidArgument):
        objection.attach_statement(enterprise=ACME, target=world.foreign_record, statement="x", at=cst(2025, 3, 15))
    with pytest.raises(InvalidArgument):
        objection.attach_statement(enterprise=ACME, target=world.market_record, statement="  ", at=cst(2025, 3, 15))


# --- resolution --------------------------------------------------------------------------------------------------


def test_resolution_requests_reevaluation_and_notifies_everyone_who_received_a_disputed_record(world: World) -> None:
    log = world.disclosures
    bank_b = Recipient(RecipientKind.INSTITUTION, "institutions/bank-b")
    bank_c = Recipient(RecipientKind.INSTITUTION, "institutions/bank-c")
    tax, market = world.tax_record.record_id, world.market_record.record_id
    log.disclose(bank_c, ACME, "tax.arrears", cst(2025, 1, 5), tax)  # long before the objection: noticed too
    log.disclose(platform(), ACME, "tax.arrears", cst(2025, 3, 10, 12), tax)  # after receipt, before forward
    log.disclose(bank(), ACME, "tax.arrears", cst(2025, 3, 12), tax)
    log.disclose(bank(), ACME, "market.penalty", cst(2025, 3, 13), market)
    log.disclose(bank(), ACME, "tax.arrears", cst(2025, 3, 13), tax)  # the same recipient twice: one notice
    log.disclose(bank_b, OTHER, "tax.arrears", cst(2025, 3, 12), tax)  # another enterprise
    log.disclose(bank_b, ACME, "court.judgment", cst(2025, 3, 12), "judgment-1")  # an item not disputed
    log.disclose(bank_b, ACME, "tax.arrears", cst(2025, 3, 12), "another-tax-record")  # not the disputed record
    log.disclose(bank_b, ACME, "tax.arrears", cst(2025, 3, 20), tax)  # after resolution

    objection = world.file(records=(world.tax_record, world.market_record))
    world.records.add(world.tax_record.record_id, 2, ACME, "tax.arrears", TAX)
    world.answer(objection, world.tax_record, Outcome.CORRECTED, cst(2025, 3, 14), corrected_version=2)
    assert objection.is_open
    objection.pull_events()
    world.answer(objection, world.market_record, Outcome.UPHELD, cst(2025, 3, 15))
    assert objection.status is ObjectionStatus.RESOLVED
    assert objection.resolved_at == cst(2025, 3, 15)
    events = objection.pull_events()

    assert [e.enterprise for e in events if isinstance(e, ReevaluationRequested)] == [ACME]
    notices = {e.recipient: e.changes for e in events if isinstance(e, CorrectionNoticeDue)}
    tax_change = NoticeChange(world.tax_record, "tax.arrears", Outcome.CORRECTED, 2)
    market_change = NoticeChange(world.market_record, "market.penalty", Outcome.UPHELD, None)
    assert notices == {bank_c: (tax_change,), platform(): (tax_change,), bank(): (tax_change, market_change)}
    resolved = [e for e in events if isinstance(e, ObjectionResolved)]
    assert [(e.platform, e.enterprise, e.handled_on_time) for e in resolved] == [(world.command().platform, ACME, True)]
    assert objection.timeline[-1].kind is TimelineKind.RESOLVED


def test_an_evaluation_dispute_is_answered_by_the_scoring_team(world: World) -> None:
    world.disclosures.disclose(bank(), ACME, "evaluation", cst(2025, 3, 11, 12))
    objection = world.file(records=(), evaluation=world.evaluation)
    objection.pull_events()
    with pytest.raises(PermissionDenied):
        world.answer(objection, world.evaluation, Outcome.CORRECTED, cst(2025, 3, 12), department=TAX)
    world.answer(objection, world.evaluation, Outcome.CORRECTED, cst(2025, 3, 12), department=EVALUATION_HANDLER)
    events = objection.pull_events()
    assert [(e.target, e.outcome) for e in events if isinstance(e, DisputeFlagCleared)] == [
        (world.evaluation, Outcome.CORRECTED)
    ]
    assert [e.enterprise for e in events if isinstance(e, ReevaluationRequested)] == [ACME]
    assert [e.recipient for e in events if isinstance(e, CorrectionNoticeDue)] == [bank()]
    assert not any(isinstance(e, RecordCorrected) for e in events)
    answered = [entry for entry in objection.timeline if entry.kind is TimelineKind.ANSWERED]
    assert (answered[0].actor_kind, answered[0].actor_id) == (ActorKind.NODE, EVALUATION_HANDLER)


def test_timeline_is_append_only(world: World) -> None:
    objection = world.file(records=(world.tax_record, world.market_record))
    snapshots = [objection.timeline]
    objection.extend(days=3, reason="on-site check", by="operator-7", at=cst(2025, 3, 12), policy=world.policy)
    snapshots.append(objection.timeline)
    world.answer(objection, world.tax_record, Outcome.UPHELD, cst(2025, 3, 13))
    snapshots.append(objection.timeline)
    world.answer(objection, world.market_record, Outcome.CANNOT_VERIFY, cst(2025, 3, 14))
    snapshots.append(objection.timeline)
    for earlier, later in itertools.pairwise(snapshots):
        assert later[: len(earlier)] == earlier
        assert len(later) > len(earlier)
    assert [entry.seq for entry in snapshots[-1]] == list(range(1, len(snapshots[-1]) + 1))


# --- the fingerprint -------------------------------------------------------------------------------------------------


def test_fingerprint_is_the_documented_digest() -> None:
    content = digest("v1")
    expected = hashlib.sha256(
        "\x1f".join(["creditnode.objection.reinsertion.v1", TAX, ACME, "tax.arrears", content]).encode()
    ).hexdigest()
    assert reinsertion_fingerprint(TAX, ACME, "tax.arrears", content.upper()) == expected
    assert reinsertion_fingerprint(MARKET, ACME, "tax.arrears", content) != expected
    with pytest.raises(ValueError, match="U\\+001F"):
        reinsertion_fingerprint("a\x1fb", ACME, "tax.arrears", content)
