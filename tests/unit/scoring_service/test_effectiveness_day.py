"""GetEffectiveness without ``progress_on`` reports on today's date in Xi'an, not the UTC date."""

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


def test_progress_defaults_to_the_day_in_shanghai() -> None:
    store = Store()
    sc = usecases.Scoring(
        writer=lambda: FakeUnitOfWork(store),
        reader=lambda: FakeUnitOfWork(store),
        records=FakeRecordSource(),
        consent=FakeConsent(),
        clock=lambda: NEW_YEAR_MORNING,
    )
    usecases.ensure_model(sc, model_text())
    usecases.on_enterprise(sc, USCC, "xian", True)
    granted = usecases.NewLoan("l-1", "bank-a", USCC, "xian", Decimal(1000), 12, True, True, True, date(2025, 6, 1))
    usecases.report_loan(sc, granted)
    usecases.repay_loan(sc, "l-1", Decimal(0), date(2026, 1, 1), True, "r-1", "fp")  # written off this morning

    got = ScoringServicer(sc).GetEffectiveness(pb.GetEffectivenessRequest(periods=["2025"]), None)  # type: ignore[arg-type]

    assert (got.progress.on.year, got.progress.on.month, got.progress.on.day) == (2026, 1, 1)
    assert got.progress.credit_balance_yuan == "0"
