"""A loan reported before its platform's region reached scoring is counted under that region once it is known."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from services.scoring import usecases
from services.scoring.data import model_text
from tests.unit.scoring_service.fakes import FakeConsent, FakeRecordSource, FakeUnitOfWork, Store
from tests.unit.scoring_service.test_usecases import USCC


def test_a_loan_reported_before_its_platforms_region_is_counted_under_that_region() -> None:
    store = Store()
    sc = usecases.Scoring(
        writer=lambda: FakeUnitOfWork(store),
        reader=lambda: FakeUnitOfWork(store),
        records=FakeRecordSource(),
        consent=FakeConsent(),
        clock=lambda: datetime(2025, 7, 1, tzinfo=UTC),
    )
    usecases.ensure_model(sc, model_text())
    usecases.on_enterprise(sc, USCC, "xian", True)
    granted = usecases.NewLoan("l-1", "bank-a", USCC, "xian", Decimal(1000), 12, True, True, True, date(2025, 6, 1))
    usecases.report_loan(sc, granted)  # the platform's event has not arrived yet
    usecases.on_platform(sc, "xian", "610100")

    rows, _ = usecases.effectiveness(sc, ["2025"], ("city",), date(2025, 7, 1))

    assert [(r.city, r.loans_granted) for r in rows] == [("610100", 1)]
