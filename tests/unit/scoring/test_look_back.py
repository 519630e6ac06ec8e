"""The look-back rule over an alert's records: older non-public records (or of unknown age) put it outside."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.scoring.domain.look_back import older_items, outside_look_back
from services.scoring.domain.records import RecordRef

SINCE = datetime(2026, 6, 1, tzinfo=UTC)
BEFORE = SINCE - timedelta(seconds=1)


def ref(item: str, at: datetime | None, record_id: str = "r1") -> RecordRef:
    return RecordRef(record_id, 1, item, False, at)


def test_a_non_public_record_older_than_data_since_is_outside_and_one_at_or_after_it_inside() -> None:
    assert outside_look_back([ref("SI_ARREARS", BEFORE)], SINCE, set())
    assert not outside_look_back([ref("SI_ARREARS", SINCE)], SINCE, set())
    assert not outside_look_back([ref("SI_ARREARS", SINCE + timedelta(days=1))], SINCE, set())


def test_one_old_record_among_new_ones_is_enough() -> None:
    evidence = [ref("SI_ARREARS", SINCE, "new"), ref("TAX_PAYMENT", BEFORE, "old")]
    assert outside_look_back(evidence, SINCE, set())
    assert older_items(evidence, SINCE) == {"TAX_PAYMENT"}


def test_a_record_of_unknown_age_counts_as_older() -> None:
    assert outside_look_back([ref("SI_ARREARS", None)], SINCE, set())


def test_public_items_are_exempt_and_an_unnamed_item_is_not_public() -> None:
    public = {"COURT_ENFORCEMENT"}
    assert not outside_look_back(
        [ref("COURT_ENFORCEMENT", BEFORE), ref("COURT_ENFORCEMENT", None, "r2")], SINCE, public
    )
    assert outside_look_back([ref("", BEFORE)], SINCE, public)
    assert outside_look_back([ref("COURT_ENFORCEMENT", BEFORE), ref("SI_ARREARS", None, "r2")], SINCE, public)


def test_no_bound_or_no_records_is_never_outside() -> None:
    assert not outside_look_back([ref("SI_ARREARS", None)], None, set())
    assert older_items([ref("SI_ARREARS", BEFORE)], None) == frozenset()
    assert not outside_look_back([], SINCE, set())
