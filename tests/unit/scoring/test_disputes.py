"""Evaluation disputes: what a dispute covers while open and once ended, outcomes, statements and the view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.kit.errors import FailedPrecondition, InvalidArgument
from services.scoring.domain.disputes import NO_DISPUTE, DisputeOutcome, open_dispute, view

AT = datetime(2026, 11, 30, 12, tzinfo=UTC)
USCC = "91610100MA6TEST001"


def test_an_open_dispute_covers_the_disputed_evaluation_and_every_later_one() -> None:
    d = open_dispute(USCC, "objections/o-1", 5, AT)
    assert [d.covers(i) for i in (4, 5, 6, 100)] == [False, True, True, True]
    shown = view([d], 6)
    assert (shown.in_dispute, shown.objection) == (True, "objections/o-1")
    assert view([d], 4) == NO_DISPUTE


def test_an_ended_dispute_covers_up_to_the_evaluation_current_when_it_ended() -> None:
    d = open_dispute(USCC, "objections/o-1", 5, AT).close(DisputeOutcome.UPHELD, AT, 6, None)
    assert [d.covers(i) for i in (5, 6, 7)] == [True, True, False]
    assert not view([d], 5).in_dispute


def test_an_unverifiable_outcome_marks_the_evaluation_and_shows_the_statement() -> None:
    d = open_dispute(USCC, "objections/o-1", 5, AT).close(DisputeOutcome.UNVERIFIABLE, AT, 5, "  数据来源有误 ")
    shown = view([d], 5)
    assert (shown.in_dispute, shown.unverifiable, shown.statements) == (False, True, ("数据来源有误",))
    assert view([d], 6) == NO_DISPUTE  # a later evaluation is a new one: no mark, no statement


def test_ending_again_with_the_same_outcome_is_a_replay_and_another_outcome_is_refused() -> None:
    d = open_dispute(USCC, "objections/o-1", 5, AT).close(DisputeOutcome.CORRECTED, AT, 6, None)
    assert d.close(DisputeOutcome.CORRECTED, AT + timedelta(hours=1), 9, None) is d
    with pytest.raises(FailedPrecondition) as err:
        d.close(DisputeOutcome.UPHELD, AT, 9, None)
    assert err.value.reason == "ERROR_REASON_EVALUATION_DISPUTE_CLOSED"


def test_a_statement_follows_only_an_upheld_or_unverifiable_outcome() -> None:
    d = open_dispute(USCC, "objections/o-1", 5, AT)
    with pytest.raises(FailedPrecondition):
        d.with_statement("too early")
    with pytest.raises(InvalidArgument):
        d.close(DisputeOutcome.UPHELD, AT, 5, "a statement comes after an upheld outcome, not with it")
    upheld = d.close(DisputeOutcome.UPHELD, AT, 5, None)
    assert view([upheld.with_statement("已按期缴纳")], 5).statements == ("已按期缴纳",)
    with pytest.raises(InvalidArgument):
        upheld.with_statement("   ")
    with pytest.raises(InvalidArgument):
        upheld.with_statement("长" * 2001)
    corrected = open_dispute(USCC, "objections/o-2", 5, AT).close(DisputeOutcome.CORRECTED, AT, 6, None)
    with pytest.raises(FailedPrecondition):
        corrected.with_statement("nothing to show with a corrected evaluation")


def test_the_view_names_the_earliest_open_objection_and_every_ended_statement() -> None:
    first = open_dispute(USCC, "objections/o-1", 3, AT).close(DisputeOutcome.UNVERIFIABLE, AT, 5, "first")
    second = open_dispute(USCC, "objections/o-2", 5, AT + timedelta(days=1))
    third = open_dispute(USCC, "objections/o-3", 5, AT + timedelta(days=2))
    shown = view([third, second, first], 5)
    assert (shown.in_dispute, shown.objection, shown.unverifiable, shown.statements) == (
        True,
        "objections/o-2",
        True,
        ("first",),
    )
