"""Effectiveness: credit-loan balance, small and micro share, first-time loans, by group and period, and progress."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from services.kit.errors import InvalidArgument
from services.scoring.domain.effectiveness import Loan, effectiveness, period, progress


def loan(loan_id: str, platform: str, city: str, granted: date, amount: int, **kw: object) -> Loan:
    defaults: dict[str, object] = {"credit": True, "small_micro": True, "first_loan": False, "repayments": ()}
    defaults.update(kw)
    return Loan(loan_id, f"ent-{loan_id}", "bank-a", platform, city, granted, Decimal(amount), **defaults)  # type: ignore[arg-type]


LOANS = [
    loan("1", "xian", "西安", date(2025, 1, 10), 1000, first_loan=True),
    loan(
        "2", "xian", "西安", date(2025, 2, 10), 3000, small_micro=False, repayments=((date(2025, 3, 1), Decimal(1000)),)
    ),
    loan("3", "baoji", "宝鸡", date(2025, 2, 20), 500, credit=False, first_loan=True),
    loan("4", "qinxinrong", "汉中", date(2025, 4, 1), 2000),
]


def test_balances_are_stocks_at_period_end_and_grants_are_flows() -> None:
    rows = {(r.period, r.platform): r for r in effectiveness(LOANS, ["2025-02", "2025-Q1"], by=("platform",))}
    feb = rows[("2025-02", "xian")]
    assert (feb.loans_granted, feb.amount_granted_yuan) == (1, Decimal(3000))
    assert feb.credit_balance_yuan == Decimal(4000)
    assert feb.small_micro_credit_balance_yuan == Decimal(1000)
    assert feb.small_micro_share == Decimal("0.25")
    q1 = rows[("2025-Q1", "xian")]
    assert q1.credit_balance_yuan == Decimal(3000)  # 1000 of loan 2 repaid on 1 March
    assert (q1.first_loans, q1.first_loan_amount_yuan) == (1, Decimal(1000))
    baoji = rows[("2025-Q1", "baoji")]
    assert (baoji.credit_loans_granted, baoji.credit_balance_yuan, baoji.small_micro_share) == (0, 0, None)


def test_all_enterprises_together_when_grouped_by_nothing() -> None:
    [row] = effectiveness(LOANS, ["2025"], by=())
    assert (row.platform, row.city, row.institution) == ("*", "*", "*")
    assert row.loans_granted == 4
    assert row.credit_balance_yuan == Decimal(1000 + 2000 + 2000)
    assert row.first_loans == 2


def test_progress_against_the_plans_targets() -> None:
    p = progress(LOANS, date(2025, 12, 31))
    assert p.target_balance_yuan == Decimal("1200000000000")
    assert p.credit_balance_yuan == Decimal(5000)
    assert p.balance_progress == Decimal(5000) / Decimal("1.2e12")
    assert p.small_micro_share == Decimal("0.6")
    assert p.share_progress == Decimal(3)


def test_periods_are_months_quarters_or_years() -> None:
    assert period("2024-02").end == date(2024, 2, 29)
    assert (period("2025-Q4").start, period("2025-Q4").end) == (date(2025, 10, 1), date(2025, 12, 31))
    for bad in ("2025-13", "25-01", "2025-Q5"):
        with pytest.raises(InvalidArgument):
            period(bad)
    with pytest.raises(InvalidArgument):
        effectiveness(LOANS, ["2025"], by=("enterprise_id",))


@pytest.mark.parametrize("bad", ["0000", "0000-06", "0000-Q1", "２０２５", "٢٠٢٥-01"])
def test_a_period_outside_the_calendar_is_an_invalid_field(bad: str) -> None:
    # year 0 has no dates (it was an INTERNAL error), and a period is written in ASCII digits
    with pytest.raises(InvalidArgument) as err:
        period(bad)
    assert err.value.metadata["field"] == "periods"


def test_an_enterprise_has_one_first_loan_from_any_bank() -> None:
    def lent(loan_id: str, bank: str, granted: date) -> Loan:
        return Loan(loan_id, "ent-1", bank, "xian", "西安", granted, Decimal(1000), True, True, True)

    # Bank B reports the enterprise as new to it, after bank A's first loan (reported later, out of order).
    register = [lent("b-1", "bank-b", date(2025, 5, 6)), lent("a-1", "bank-a", date(2025, 3, 1))]
    rows = {r.period: r for r in effectiveness(register, ["2025-Q1", "2025-Q2", "2025"], by=())}
    assert (rows["2025-Q1"].first_loans, rows["2025-Q1"].first_loan_amount_yuan) == (1, Decimal(1000))
    assert rows["2025-Q2"].first_loans == 0
    assert rows["2025"].first_loans == 1
    by_bank = {r.institution: r.first_loans for r in effectiveness(register, ["2025"], by=("institution",))}
    assert by_bank == {"bank-a": 1, "bank-b": 0}
