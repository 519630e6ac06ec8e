"""Record references carry the record version's event time, so a reader can bound an explanation by a look-back."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from services.scoring.api.servicer import ref as wire_ref
from services.scoring.domain.engine import assess
from services.scoring.domain.model import Model
from services.scoring.domain.portrait import portrait
from services.scoring.domain.records import RecordRef, ref
from services.scoring.domain.risk import detect_risks, snapshot
from tests.unit.scoring.builders import AS_OF, Records

USCC = "91610100MA6TG1234E"


def test_a_reference_carries_its_record_versions_event_time(records: Records) -> None:
    at = datetime(2025, 3, 4, 5, 6, 7, 890_000, tzinfo=UTC)
    record = records.add("TAX_CREDIT_GRADE", at, record_id="g", version=3, year=2024, grade="A")
    assert ref(record) == RecordRef("g", 3, "TAX_CREDIT_GRADE", False, at)
    assert ref(record).event_time == at


def test_evaluations_portraits_and_alerts_name_the_event_times_they_rest_on(model: Model, records: Records) -> None:
    grade = records.add("TAX_CREDIT_GRADE", datetime(2025, 4, 1, 8, tzinfo=UTC), year=2024, grade="A")
    cert = records.add(
        "HONOR_HIGH_TECH",
        datetime(2025, 1, 2, 9, tzinfo=UTC),
        granted_on=date(2025, 1, 1),
        expires_on=date(2028, 1, 1),
        certificate_number="c",
    )
    assessment = assess(model, records.items, AS_OF)
    graded = next(c for c in assessment.evaluation.contributions if c.indicator == "tax_credit_grade")
    assert [(r.record_id, r.event_time) for r in graded.evidence] == [(grade.record_id, grade.event_time)]
    high_tech = next(t for t in portrait(model, assessment).positive if t.code == "HIGH_TECH")
    assert [(r.record_id, r.event_time) for r in high_tech.evidence] == [(cert.record_id, cert.event_time)]

    before = snapshot(model, records.items, AS_OF)
    case = records.add(
        "COURT_ENFORCEMENT",
        AS_OF + timedelta(hours=1),
        case_number="k",
        filed_on=date(2026, 11, 30),
        amount_yuan=Decimal(9),
        status="OPEN",
    )
    events = detect_risks(model, before, snapshot(model, records.items, AS_OF + timedelta(days=1)))
    enforcement = next(e for e in events if e.risk == "NEW_ENFORCEMENT")
    assert [(r.record_id, r.event_time) for r in enforcement.evidence] == [(case.record_id, case.event_time)]


def test_the_wire_reference_sets_the_event_time_only_when_known() -> None:
    at = datetime(2025, 3, 4, 5, 6, 7, 890_000, tzinfo=UTC)
    known = wire_ref(USCC, RecordRef("g", 3, "TAX_CREDIT_GRADE", True, at))
    assert (known.record, known.version, known.item_code, known.in_dispute) == (
        f"enterprises/{USCC}/records/g",
        3,
        "TAX_CREDIT_GRADE",
        True,
    )
    assert known.event_time.ToDatetime(UTC) == at
    # A reference stored before event times were kept: unset, which the gateway counts as before any look-back.
    assert not wire_ref(USCC, RecordRef("g", 3, "TAX_CREDIT_GRADE")).HasField("event_time")
