"""The loan store: the day a loan was closed (effectiveness stops counting its balance from then), and whom an
institution lent to (fitting reads only its own borrowers)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from services.scoring.domain.ports import LoanEntry, LoanStatus
from tests.integration.scoring_service.test_store_conformance import NOW, UowFactory, uow  # noqa: F401


def test_a_closed_loan_keeps_its_closing_day(uow: UowFactory) -> None:  # noqa: F811
    entry = LoanEntry(
        "loan-1",
        "bank-a",
        "91610100MA6TEST001",
        "xian",
        "610100",
        Decimal(1000),
        12,
        True,
        False,
        True,
        date(2026, 6, 1),
        LoanStatus.OUTSTANDING,
        NOW,
    )
    with uow() as u:
        u.loans.add(entry)
        u.commit()
    with uow() as u:
        got = u.loans.get("loan-1")
        assert got is not None
        assert got.closed_on is None
        u.loans.save(replace(got, status=LoanStatus.CLOSED, closed_on=date(2026, 9, 30)))
        u.commit()
    with uow() as u:
        closed = u.loans.get("loan-1")
        assert closed is not None
        assert (closed.status, closed.closed_on) == (LoanStatus.CLOSED, date(2026, 9, 30))
        assert closed.outstanding_yuan == Decimal(1000)  # written off: nothing was repaid
        assert [x.closed_on for x in u.loans.all()] == [date(2026, 9, 30)]
    with uow() as u:
        assert u.loans.borrowers_of("bank-a") == {"91610100MA6TEST001"}  # closed or not, still its borrower
        assert u.loans.borrowers_of("bank-b") == set()
