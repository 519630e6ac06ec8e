"""Portraits: positive and risk tags with their evidence, dimension summaries and flags."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from services.scoring.domain.engine import assess
from services.scoring.domain.model import Model
from services.scoring.domain.portrait import portrait
from tests.unit.scoring.builders import AS_OF, Records, months


def test_a_steady_high_tech_taxpayer_gets_positive_tags(model: Model, records: Records) -> None:
    records.add(
        "REG_BASIC", established_on=date(2012, 3, 1), status="ACTIVE", registered_capital_yuan=Decimal(10_000_000)
    )
    cert = records.add(
        "HONOR_HIGH_TECH", granted_on=date(2025, 1, 1), expires_on=date(2028, 1, 1), certificate_number="c"
    )
    records.add("TAX_CREDIT_GRADE", year=2025, grade="A")
    records.monthly("TAX_PAYMENT", months("2024-11", 24), tax_paid_yuan=Decimal(5000))
    records.monthly("SI_HEADCOUNT", months("2025-08", 3), insured_count=20)
    records.monthly("SI_HEADCOUNT", months("2026-08", 3), insured_count=30)
    shown = portrait(model, assess(model, records.items, AS_OF))
    codes = [t.code for t in shown.positive]
    assert {"HIGH_TECH", "STEADY_TAXPAYER", "GROWING_HEADCOUNT", "ESTABLISHED"} <= set(codes)
    assert shown.risks == ()
    high_tech = next(t for t in shown.positive if t.code == "HIGH_TECH")
    assert [r.record_id for r in high_tech.evidence] == [cert.record_id]


def test_expired_honours_and_arrears_show_as_risks_not_merits(model: Model, records: Records) -> None:
    records.add("HONOR_HIGH_TECH", granted_on=date(2020, 1, 1), expires_on=date(2023, 1, 1), certificate_number="c")
    records.add("TAX_ARREARS", tax_type="VAT", amount_yuan=Decimal(100), announced_on=date(2026, 1, 1), cleared=False)
    records.add("COURT_ENFORCEMENT", case_number="e", filed_on=date(2026, 2, 1), amount_yuan=Decimal(9), status="OPEN")
    shown = portrait(model, assess(model, records.items, AS_OF))
    assert "HIGH_TECH" not in [t.code for t in shown.positive]
    assert {"TAX_ARREARS", "OPEN_ENFORCEMENT"} <= {t.code for t in shown.risks}


def test_dimension_summaries_cover_every_dimension(model: Model, records: Records) -> None:
    shown = portrait(model, assess(model, records.items, AS_OF))
    assert [d for d, _ in shown.dimensions] == list(model.dimensions)
    assert all(v is None or 0.0 <= v <= 100.0 for _, v in shown.dimensions)
    assert shown.model_version == "basic-v1"


def test_a_portrait_resting_on_a_disputed_record_says_so(model: Model, records: Records) -> None:
    cert = records.add(
        "HONOR_HIGH_TECH", granted_on=date(2025, 1, 1), expires_on=date(2028, 1, 1), certificate_number="c"
    )
    assert not portrait(model, assess(model, records.items, AS_OF)).disputed
    records.items[records.items.index(cert)] = replace(cert, in_dispute=True)
    shown = portrait(model, assess(model, records.items, AS_OF))
    assert [r.in_dispute for t in shown.positive if t.code == "HIGH_TECH" for r in t.evidence] == [True]
    assert shown.disputed


def test_a_portrait_whose_score_rests_on_a_disputed_record_says_so_without_a_tag(
    model: Model, records: Records
) -> None:
    records.add("TAX_CREDIT_GRADE", year=2025, grade="A", in_dispute=True)
    assessment = assess(model, records.items, AS_OF)
    shown = portrait(model, assessment)
    assert any(c.disputed for c in assessment.evaluation.contributions)
    assert not any(r.in_dispute for t in (*shown.positive, *shown.risks) for r in t.evidence)
    assert shown.disputed
