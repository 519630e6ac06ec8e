"""Extractions: each kind computes its raw value from records as of a time, and names the records it used."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from services.scoring.domain.engine import assess, extract
from services.scoring.domain.model import GRADES, Model
from tests.unit.scoring.builders import AS_OF, Records, months


def value(model: Model, records: Records, code: str, as_of: datetime = AS_OF) -> float | None:
    return extract(model, records.items, as_of)[code].value


def test_years_since_uses_the_latest_registration(model: Model, records: Records) -> None:
    records.add("REG_BASIC", date(2015, 1, 1), established_on=date(2014, 11, 30), status="ACTIVE")
    assert value(model, records, "years_in_business") == pytest.approx(12.0, abs=0.01)


def test_latest_takes_the_newest_version_of_a_record(model: Model, records: Records) -> None:
    records.add("TAX_CREDIT_GRADE", record_id="g", version=1, year=2025, grade="B")
    records.add("TAX_CREDIT_GRADE", record_id="g", version=2, year=2025, grade="A")
    records.add("TAX_CREDIT_GRADE", year=2023, grade="D")
    got = extract(model, records.items, AS_OF)["tax_credit_grade"]
    assert got.value == 5.0  # A, from version 2 of the 2025 grade; the older year does not win
    assert [(r.record_id, r.version) for r in got.evidence] == [("g", 2)]


def test_records_of_events_after_the_evaluation_time_are_ignored(model: Model, records: Records) -> None:
    records.add("COURT_ENFORCEMENT", AS_OF + timedelta(days=1), status="OPEN", filed_on=date(2026, 12, 1))
    assert value(model, records, "open_enforcement_cases") == 0.0
    assert value(model, records, "open_enforcement_cases", AS_OF + timedelta(days=2)) == 1.0


def test_count_applies_conditions_and_the_window(model: Model, records: Records) -> None:
    records.add("COURT_JUDGMENT", role="DEFENDANT", judged_on=date(2025, 6, 1))
    records.add("COURT_JUDGMENT", role="DEFENDANT", judged_on=date(2024, 11, 30))  # just outside 24 months
    records.add("COURT_JUDGMENT", role="PLAINTIFF", judged_on=date(2026, 1, 1))
    assert value(model, records, "defendant_judgments_24m") == 1.0


def test_no_adverse_record_counts_as_zero_not_missing(model: Model, records: Records) -> None:
    assert value(model, records, "tax_arrears_open") == 0.0
    assert value(model, records, "tax_credit_grade") is None


def test_active_listing_ends_when_removed(model: Model, records: Records) -> None:
    records.add("COURT_DISHONEST_DEBTOR", listed_on=date(2025, 1, 1), removed_on=date(2026, 3, 1))
    records.add("AMR_ABNORMAL_OPERATION", listed_on=date(2026, 5, 1), reason="x")
    assert value(model, records, "dishonest_debtor_active") == 0.0
    assert value(model, records, "abnormal_operation_listed") == 1.0


def test_trend_compares_the_last_window_with_the_one_a_lag_earlier(model: Model, records: Records) -> None:
    # data for 2026-11 are not in yet: the 12-month window is 2025-11..2026-10, the earlier one 2024-11..2025-10
    for p in months("2024-11", 12):
        records.add("TAX_PAYMENT", date(int(p[:4]), int(p[5:]), 28), period=p, tax_paid_yuan=Decimal(1000))
    for p in months("2025-11", 12):
        records.add("TAX_PAYMENT", date(int(p[:4]), int(p[5:]), 28), period=p, tax_paid_yuan=Decimal(1250))
    assert value(model, records, "tax_paid_trend") == pytest.approx(0.25)


def test_headcount_trend_uses_three_months_a_year_apart(model: Model, records: Records) -> None:
    records.monthly("SI_HEADCOUNT", months("2025-08", 3), insured_count=20)
    records.monthly("SI_HEADCOUNT", months("2026-08", 3), insured_count=15)
    assert value(model, records, "insured_headcount_trend") == pytest.approx(-0.25)


def test_latest_max_reads_each_utility_at_its_latest_period(model: Model, records: Records) -> None:
    records.add("UTIL_ELECTRICITY", period="2026-09", amount_due_yuan=100, amount_paid_yuan=0, arrears_months=3)
    records.add("UTIL_ELECTRICITY", period="2026-10", amount_due_yuan=100, amount_paid_yuan=400, arrears_months=0)
    records.add("UTIL_WATER", period="2026-10", amount_due_yuan=50, amount_paid_yuan=0, arrears_months=2)
    records.add("UTIL_GAS", period="2025-01", amount_due_yuan=50, amount_paid_yuan=0, arrears_months=9)  # stale
    assert value(model, records, "utility_arrears_months") == 2.0
    assert value(model, records, "utility_payment_ratio") == pytest.approx(400 / 250)


def test_distinct_periods_counts_months_with_a_payment(model: Model, records: Records) -> None:
    records.monthly("HOUSING_FUND_PAYMENT", months("2025-11", 12), contributors_count=5, amount_yuan=Decimal(2500))
    records.add("HOUSING_FUND_PAYMENT", period="2026-10", contributors_count=5, amount_yuan=Decimal(0))
    records.monthly("HOUSING_FUND_PAYMENT", ["2026-11"], contributors_count=5, amount_yuan=Decimal(2500))  # too new
    assert value(model, records, "housing_fund_months") == 12.0


def test_a_scale_maps_enums_and_bools(model: Model, records: Records) -> None:
    records.add("REG_BASIC", established_on=date(2020, 1, 1), status="REVOKED")
    records.add("REG_ANNUAL_REPORT", year=2025, submitted_on=date(2026, 7, 1), on_time=False)
    records.add("REG_ANNUAL_REPORT", year=2024, submitted_on=date(2025, 6, 1), on_time=True)
    assert value(model, records, "registration_active") == 0.0
    assert value(model, records, "annual_report_on_time") == 0.0


def test_evidence_carries_the_dispute_flag(model: Model, records: Records) -> None:
    records.add("TAX_ARREARS", cleared=False, in_dispute=True, tax_type="VAT", amount_yuan=Decimal(10))
    got = extract(model, records.items, AS_OF)["tax_arrears_open"]
    assert got.value == 1.0
    assert got.disputed


# 00:30 on 1 January 2026 in Xi'an: still 31 December 2025 in UTC.
SHANGHAI_NEW_YEAR = datetime(2025, 12, 31, 16, 30, tzinfo=UTC)


def test_a_listing_dated_today_in_shanghai_applies_before_utc_midnight(model: Model, records: Records) -> None:
    records.add(
        "DISCIPLINE_MALICIOUS_EVASION", datetime(2025, 12, 31, 16, 10, tzinfo=UTC), established_on=date(2026, 1, 1)
    )
    evaluation = assess(model, records.items, SHANGHAI_NEW_YEAR).evaluation
    assert value(model, records, "malicious_evasion_active", SHANGHAI_NEW_YEAR) == 1.0
    assert "MALICIOUS_DEBT_EVASION" in evaluation.flags
    assert evaluation.grade_index >= GRADES.index("CCC")


def test_a_dated_window_ends_at_midnight_in_shanghai(model: Model, records: Records) -> None:
    # 24 months before 2026-01-01 is 2024-01-01: a judgment of that day has left the window
    records.add("COURT_JUDGMENT", date(2024, 1, 2), role="DEFENDANT", judged_on=date(2024, 1, 1))
    assert value(model, records, "defendant_judgments_24m", SHANGHAI_NEW_YEAR) == 0.0
    assert value(model, records, "defendant_judgments_24m", SHANGHAI_NEW_YEAR - timedelta(hours=1)) == 1.0


def test_monthly_windows_follow_the_month_in_shanghai(model: Model, records: Records) -> None:
    # January in Xi'an: December's payment is in the 12-month window, which no longer reaches back to December 2024
    records.add("HOUSING_FUND_PAYMENT", date(2025, 1, 5), period="2024-12", amount_yuan=Decimal(100))
    december = records.add(
        "HOUSING_FUND_PAYMENT", datetime(2025, 12, 31, 16, 5, tzinfo=UTC), period="2025-12", amount_yuan=Decimal(100)
    )
    assert value(model, records, "housing_fund_months", SHANGHAI_NEW_YEAR) == 1.0
    extracted = extract(model, records.items, SHANGHAI_NEW_YEAR)["housing_fund_months"]
    assert [r.record_id for r in extracted.evidence] == [december.record_id]
