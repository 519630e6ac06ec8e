"""A loan closed with something left outstanding (written off or settled) leaves the credit balance from that day."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from services.scoring import usecases
from tests.unit.scoring_service.test_usecases import USCC, World


def test_a_loan_closed_with_an_amount_outstanding_has_no_balance_after_its_close(world: World) -> None:
    sc, _, _, _ = world
    usecases.on_enterprise(sc, USCC, "xian", True)
    usecases.report_loan(
        sc, usecases.NewLoan("loan-1", "bank-a", USCC, "xian", Decimal(1000), 12, True, True, True, date(2026, 3, 1))
    )
    usecases.repay_loan(sc, "loan-1", Decimal(400), date(2026, 5, 10), False, "r1", "f1")
    closed = usecases.repay_loan(sc, "loan-1", Decimal(0), date(2026, 7, 15), True, "r2", "f2")  # written off
    assert closed.status.value == "CLOSED"
    rows, progress = usecases.effectiveness(sc, ["2026-05", "2026-07", "2026-06"], ["institution"], date(2026, 8, 1))
    balance = {r.period: r.credit_balance_yuan for r in rows}
    assert balance == {"2026-05": Decimal(600), "2026-06": Decimal(600), "2026-07": Decimal(0)}
    assert progress.credit_balance_yuan == 0
    # the register still says what was left unpaid when it closed
    assert usecases.get_loan(sc, "loan-1").outstanding_yuan == Decimal(600)
