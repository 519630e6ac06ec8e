"""Filing an objection: what is recorded, and every kind of bad input refused with its reason."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from services.kit.errors import AlreadyExists, DomainError, InvalidArgument, NotFound, PermissionDenied
from services.objection.domain import (
    EVALUATION_HANDLER,
    DisputeFlagRaised,
    DisputeRouted,
    EvaluationRef,
    Filer,
    FilerKind,
    ForwardTimeliness,
    ObjectionPolicy,
    ObjectionStatus,
    Outcome,
    RecordRef,
    TimelineKind,
)
from tests.unit.objection.fakes import ACME, BANK, MARKET, OTHER, PLATFORM, TAX, World, bank, cst, digest


@pytest.fixture
def world() -> World:
    return World()


def test_an_enterprise_objection_is_recorded_flagged_and_routed(world: World) -> None:
    objection = world.file(records=(world.tax_record, world.market_record), statement="  我方已缴清欠税  ")
    assert objection.status is ObjectionStatus.ROUTED
    assert objection.forward_timeliness is ForwardTimeliness.ON_TIME
    assert [(line.target, line.item, line.department) for line in objection.lines] == [
        (world.tax_record, "tax.arrears", TAX),
        (world.market_record, "market.penalty", MARKET),
    ]
    assert objection.departments == {TAX, MARKET}
    assert all(line.statement == "我方已缴清欠税" for line in objection.lines)
    events = objection.pull_events()
    flags = [e for e in events if isinstance(e, DisputeFlagRaised)]
    assert [(f.enterprise, f.target) for f in flags] == [(ACME, world.tax_record), (ACME, world.market_record)]
    routed = {e.department: e.targets for e in events if isinstance(e, DisputeRouted)}
    assert routed == {TAX: (world.tax_record,), MARKET: (world.market_record,)}
    assert objection.pull_events() == []
    kinds = [entry.kind for entry in objection.timeline]
    assert kinds == [
        TimelineKind.RECEIVED_BY_PLATFORM,
        TimelineKind.FORWARDED_TO_NODE,
        TimelineKind.ROUTED,
        TimelineKind.ROUTED,
    ]
    assert objection.timeline[0].at == cst(2025, 3, 10, 9)
    assert objection.timeline[1].detail == {"timeliness": "ON_TIME", "deadline_last_day": "2025-03-12"}
    assert [entry.seq for entry in objection.timeline] == [1, 2, 3, 4]


def test_timeline_never_shows_reasons_or_statements(world: World) -> None:
    objection = world.file(reasons="secret reason text", statement="secret statement text")
    world.answer(objection, world.tax_record, Outcome.UPHELD, cst(2025, 3, 12))
    shown = repr(objection.timeline)
    assert "secret" not in shown


def test_attachment_digests_are_kept_in_lower_case(world: World) -> None:
    objection = world.file(attachments=(digest("a").upper(),))
    assert objection.attachments == (digest("a"),)


def test_an_evaluation_objection_goes_to_the_scoring_team(world: World) -> None:
    objection = world.file(records=(), evaluation=world.evaluation)
    assert objection.lines[0].department == EVALUATION_HANDLER
    assert objection.lines[0].item == "evaluation"
    assert objection.status is ObjectionStatus.ROUTED


# --- bad input named by the issue ----------------------------------------------------------------------------------


def test_objection_on_a_record_the_enterprise_does_not_own(world: World) -> None:
    with pytest.raises(PermissionDenied) as err:
        world.file(records=(world.tax_record, world.foreign_record))
    assert err.value.reason == "ERROR_REASON_OBJECTION_TARGET_NOT_OWNED"
    assert err.value.metadata == {"target_index": "1"}
    assert OTHER not in str(err.value)
    assert ACME not in str(err.value)


def test_objection_on_an_unknown_record_is_answered_like_one_not_owned(world: World) -> None:
    with pytest.raises(PermissionDenied) as err:
        world.file(records=(RecordRef("no-such-record", 1),))
    assert err.value.reason == "ERROR_REASON_OBJECTION_TARGET_NOT_OWNED"


def test_objection_on_an_unknown_version_of_an_own_record(world: World) -> None:
    with pytest.raises(NotFound) as err:
        world.file(records=(RecordRef(world.tax_record.record_id, 7),))
    assert err.value.reason == "ERROR_REASON_OBJECTION_VERSION_NOT_FOUND"


def test_objection_on_another_enterprises_evaluation(world: World) -> None:
    world.evaluations.add("eval-other", OTHER)
    for evaluation in (EvaluationRef("eval-other"), EvaluationRef("eval-missing")):
        with pytest.raises(PermissionDenied) as err:
            world.file(records=(), evaluation=evaluation)
        assert err.value.reason == "ERROR_REASON_OBJECTION_TARGET_NOT_OWNED"


def test_duplicate_objection_on_the_same_record(world: World) -> None:
    world.file()
    with pytest.raises(AlreadyExists) as err:
        world.file(records=(world.market_record, world.tax_record))
    assert err.value.reason == "ERROR_REASON_OBJECTION_DUPLICATE"
    assert err.value.metadata == {"target_index": "1"}


def test_duplicate_objection_on_another_version_of_the_same_record(world: World) -> None:
    world.file()
    newer = world.records.add(world.tax_record.record_id, 2, ACME, "tax.arrears", TAX)
    with pytest.raises(AlreadyExists):
        world.file(records=(newer,))


def test_duplicate_objection_by_an_institution_on_a_record_the_enterprise_disputes(world: World) -> None:
    world.file()
    world.disclosures.disclose(bank(), ACME, "tax.arrears", cst(2025, 3, 1))
    with pytest.raises(AlreadyExists):
        world.file(filer=Filer(FilerKind.INSTITUTION, BANK))


def test_a_record_can_be_disputed_again_once_the_objection_is_resolved(world: World) -> None:
    first = world.file()
    world.answer(first, world.tax_record, Outcome.UPHELD, cst(2025, 3, 12))
    assert not first.is_open
    second = world.file(received_at=cst(2025, 4, 1), forwarded_at=cst(2025, 4, 1, 15))
    assert second.is_open


def test_duplicate_evaluation_objection(world: World) -> None:
    world.file(records=(), evaluation=world.evaluation)
    with pytest.raises(AlreadyExists):
        world.file(records=(), evaluation=world.evaluation)


def test_institution_that_never_received_the_enterprises_data(world: World) -> None:
    world.disclosures.disclose(bank(), OTHER, "tax.arrears", cst(2025, 3, 1))
    with pytest.raises(PermissionDenied) as err:
        world.file(filer=Filer(FilerKind.INSTITUTION, BANK))
    assert err.value.reason == "ERROR_REASON_OBJECTION_DATA_NEVER_RECEIVED"


def test_institution_permission_is_checked_before_the_records(world: World) -> None:
    with pytest.raises(PermissionDenied) as err:
        world.file(filer=Filer(FilerKind.INSTITUTION, BANK), records=(RecordRef("no-such-record", 1),))
    assert err.value.reason == "ERROR_REASON_OBJECTION_DATA_NEVER_RECEIVED"


def test_a_disclosure_after_the_forward_does_not_count(world: World) -> None:
    world.disclosures.disclose(bank(), ACME, "tax.arrears", cst(2025, 3, 11, 9, 0, 1))
    with pytest.raises(PermissionDenied):
        world.file(filer=Filer(FilerKind.INSTITUTION, BANK))


def test_institution_that_received_the_data_may_object(world: World) -> None:
    world.disclosures.disclose(bank(), ACME, "market.penalty", cst(2025, 2, 1))
    objection = world.file(filer=Filer(FilerKind.INSTITUTION, BANK))
    assert objection.filer == Filer(FilerKind.INSTITUTION, BANK)
    assert objection.platform == PLATFORM


# --- malformed requests ---------------------------------------------------------------------------------------------


def _bad(world: World) -> list[tuple[dict[str, Any], str]]:
    return [
        ({"objection_id": ""}, "objection_id"),
        ({"platform": " "}, "platform"),
        ({"enterprise": "x" * 201, "filer": Filer(FilerKind.ENTERPRISE, "x" * 201)}, "enterprise"),
        ({"filer": Filer(FilerKind.ENTERPRISE, OTHER)}, "filer.id"),
        ({"filer": Filer(FilerKind.INSTITUTION, BANK), "statement": "not theirs to give"}, "statement"),
        ({"records": ()}, "targets"),
        ({"evaluation": EvaluationRef("eval-1")}, "targets"),
        ({"records": (world.tax_record, RecordRef(world.tax_record.record_id, 2))}, "records"),
        ({"records": (RecordRef("r", 0),)}, "records.version"),
        ({"records": (RecordRef("", 1),)}, "records.record_id"),
        ({"records": tuple(RecordRef(f"r{i}", 1) for i in range(51))}, "records"),
        ({"records": (), "evaluation": EvaluationRef("")}, "evaluation.evaluation_id"),
        ({"reasons": "   "}, "reasons"),
        ({"reasons": "x" * 4001}, "reasons"),
        ({"statement": "  "}, "statement"),
        ({"statement": "x" * 2001}, "statement"),
        ({"attachments": ("not-a-digest",)}, "attachments"),
        ({"attachments": (digest("a"), digest("a").upper())}, "attachments"),
        ({"attachments": tuple(digest(str(i)) for i in range(21))}, "attachments"),
        ({"received_at": datetime(2025, 3, 10, 9)}, "receive_time"),
        ({"forwarded_at": datetime(2025, 3, 11, 9)}, "forwarded_at"),
        ({"received_at": cst(2025, 3, 11, 9, 5, 1)}, "receive_time"),
    ]


def test_malformed_requests_name_the_field(world: World) -> None:
    for overrides, field_name in _bad(world):
        with pytest.raises(InvalidArgument) as err:
            world.file(**overrides)
        assert err.value.reason == "ERROR_REASON_INVALID_FIELD", overrides
        assert err.value.metadata["field"] == field_name, overrides
    assert list(world.objections) == []


def test_a_platform_clock_slightly_ahead_is_tolerated(world: World) -> None:
    objection = world.file(received_at=cst(2025, 3, 11, 9, 4), forwarded_at=cst(2025, 3, 11, 9))
    assert objection.forward_timeliness is ForwardTimeliness.ON_TIME


def test_errors_carry_no_personal_data(world: World) -> None:
    attempts: list[dict[str, Any]] = [
        {"records": (world.foreign_record,)},
        {"filer": Filer(FilerKind.INSTITUTION, BANK)},
        {"records": (RecordRef(world.tax_record.record_id, 9),)},
        {"reasons": "x" * 4001},
    ]
    for overrides in attempts:
        with pytest.raises(DomainError) as err:
            world.file(**overrides)
        text = f"{err.value} {err.value.metadata}"
        assert ACME not in text
        assert OTHER not in text
        assert "xxxx" not in text


def test_policy_rejects_nonsense_periods() -> None:
    with pytest.raises(ValueError, match="positive"):
        ObjectionPolicy(handling_days=0)
    with pytest.raises(ValueError, match="positive"):
        ObjectionPolicy(forward_working_days=0)
    with pytest.raises(ValueError, match="clock_skew"):
        ObjectionPolicy(clock_skew=timedelta(minutes=-1))
