"""GetEffectiveness in the service: today is Xi'an's day, and a loan's city is its platform's region, whenever the
region reached scoring."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from creditnode.scoring.v1 import scoring_service_pb2 as pb
from services.scoring import usecases
from services.scoring.api.servicer import ScoringServicer
from services.scoring.data import model_text
from tests.unit.scoring_service.fakes import FakeConsent, FakeRecordSource, FakeUnitOfWork, Store
from tests.unit.scoring_service.test_usecases import USCC

# 07:00 on 1 January 2026 in Xi'an: still 31 December 2025 in UTC.
NEW_YEAR_MORNING = datetime(2025, 12, 31, 23, tzinfo=UTC)


def _scoring_with_a_loan(now: datetime) -> usecases.Scoring:
    """Scoring at ``now`` with one credit loan of 1,000 yuan to USCC through platforms/xian, granted 1 June 2025."""
    store = Store()
    sc = usecases.Scoring(
        writer=lambda: FakeUnitOfWork(store),
        reader=lambda: FakeUnitOfWork(store),
        records=FakeRecordSource(),
        consent=FakeConsent(),
        clock=lambda: now,
    )
    usecases.ensure_model(sc, model_text())
    usecases.on_enterprise(sc, USCC, "xian", True)
    granted = usecases.NewLoan("l-1", "bank-a", USCC, "xian", Decimal(1000), 12, True, True, True, date(2025, 6, 1))
    usecases.report_loan(sc, granted)
    return sc


def test_progress_defaults_to_the_day_in_shanghai() -> None:
    sc = _scoring_with_a_loan(NEW_YEAR_MORNING)
    usecases.repay_loan(sc, "l-1", Decimal(0), date(2026, 1, 1), True, "r-1", "fp")  # written off this morning

    got = ScoringServicer(sc).GetEffectiveness(pb.GetEffectivenessRequest(periods=["2025"]), None)  # type: ignore[arg-type]

    assert (got.progress.on.year, got.progress.on.month, got.progress.on.day) == (2026, 1, 1)
    assert got.progress.credit_balance_yuan == "0"


def test_a_loan_reported_before_its_platforms_region_is_counted_under_that_region() -> None:
    sc = _scoring_with_a_loan(datetime(2025, 7, 1, tzinfo=UTC))  # the platform's event has not arrived yet
    usecases.on_platform(sc, "xian", "610100")

    rows, _ = usecases.effectiveness(sc, ["2025"], ("city",), date(2025, 7, 1))

    assert [(r.city, r.loans_granted) for r in rows] == [("610100", 1)]
