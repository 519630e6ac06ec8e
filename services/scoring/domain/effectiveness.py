"""Effectiveness (应用成效): credit-loan balance, small and micro share, first-time loans, and progress to the plan.

The plan's targets (end of 2025): credit (unsecured) loans of at least 1.2 trillion yuan, about 20% of them to small
and micro enterprises. Balances are stocks at a period's last day; grants and first-time loans are flows in the period.
Money is Decimal yuan throughout so sums are exact.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from services.kit.errors import InvalidArgument

PLAN_CREDIT_BALANCE_YUAN = Decimal("1200000000000")  # 1.2 万亿元
PLAN_SMALL_MICRO_SHARE = Decimal("0.20")
GROUP_KEYS = ("platform", "city", "institution")
ALL = "*"
_PERIOD = re.compile(r"([0-9]{4})(?:-([0-9]{2})|-Q([1-4]))?")  # ASCII digits: \d takes any script's


@dataclass(frozen=True)
class Loan:
    """One loan in the loan register, as the lending institution reports it."""

    loan_id: str
    enterprise_id: str
    institution: str
    platform: str
    city: str
    granted_on: date
    amount_yuan: Decimal
    credit: bool  # 信用贷款: unsecured
    small_micro: bool  # the borrower is a small or micro enterprise (划型)
    first_loan: bool  # 首贷户: the borrower's first loan from any bank
    repayments: tuple[tuple[date, Decimal], ...] = ()
    closed_on: date | None = None  # written off or settled: no balance from that day, whatever was left unpaid

    def balance(self, on: date) -> Decimal:
        if self.granted_on > on or (self.closed_on is not None and self.closed_on <= on):
            return Decimal(0)
        repaid = sum((amount for day, amount in self.repayments if day <= on), Decimal(0))
        return max(self.amount_yuan - repaid, Decimal(0))


@dataclass(frozen=True)
class Period:
    """A month (2025-06), a quarter (2025-Q2) or a year (2025), as a closed date range."""

    label: str
    start: date
    end: date


def period(label: str) -> Period:
    m = _PERIOD.fullmatch(label)
    if m is None:
        raise InvalidArgument("ERROR_REASON_INVALID_FIELD", "period is YYYY, YYYY-MM or YYYY-Qn", {"field": "periods"})
    year = int(m.group(1))
    if year < 1:
        raise InvalidArgument("ERROR_REASON_INVALID_FIELD", "year is 0001 to 9999", {"field": "periods"})
    if m.group(2):
        month = int(m.group(2))
        if not 1 <= month <= 12:
            raise InvalidArgument("ERROR_REASON_INVALID_FIELD", "month is 01 to 12", {"field": "periods"})
        first, last = month, month
    elif m.group(3):
        first = 3 * int(m.group(3)) - 2
        last = first + 2
    else:
        first, last = 1, 12
    return Period(label, date(year, first, 1), date(year, last, calendar.monthrange(year, last)[1]))


@dataclass(frozen=True)
class EffectRow:
    """Figures of one group (``*`` = all) in one period."""

    period: str
    platform: str
    city: str
    institution: str
    loans_granted: int
    amount_granted_yuan: Decimal
    credit_loans_granted: int
    credit_amount_granted_yuan: Decimal
    first_loans: int
    first_loan_amount_yuan: Decimal
    credit_balance_yuan: Decimal
    small_micro_credit_balance_yuan: Decimal
    small_micro_share: Decimal | None


@dataclass(frozen=True)
class Progress:
    """Progress against the plan's targets on one day."""

    on: date
    credit_balance_yuan: Decimal
    target_balance_yuan: Decimal
    balance_progress: Decimal
    small_micro_share: Decimal | None
    target_share: Decimal
    share_progress: Decimal | None


def _share(part: Decimal, whole: Decimal) -> Decimal | None:
    return None if whole == 0 else part / whole


def first_loans(register: Iterable[Loan]) -> set[str]:
    """Ids of the loans that really are their borrower's first, judged over the whole register.

    An institution flags a loan as first when the borrower is new *to it*, often enough; but an enterprise has one
    first loan from any bank. Only a flagged loan on the enterprise's earliest grant day in the register counts (one
    per enterprise, the lowest id on a tie), however the loans were grouped or in which order they were reported.
    """
    earliest: dict[str, date] = {}
    flagged: dict[str, list[Loan]] = {}
    for loan in register:
        if loan.enterprise_id not in earliest or loan.granted_on < earliest[loan.enterprise_id]:
            earliest[loan.enterprise_id] = loan.granted_on
        if loan.first_loan:
            flagged.setdefault(loan.enterprise_id, []).append(loan)
    first = set()
    for enterprise_id, candidates in flagged.items():
        on_first_day = [x.loan_id for x in candidates if x.granted_on == earliest[enterprise_id]]
        if on_first_day:
            first.add(min(on_first_day))
    return first


def effectiveness(
    loans: Iterable[Loan], periods: Sequence[str], by: Sequence[str] = ("platform", "city")
) -> list[EffectRow]:
    """One row per period and group; ``by`` picks grouping keys among platform, city and institution."""
    for key in by:
        if key not in GROUP_KEYS:
            raise InvalidArgument(
                "ERROR_REASON_INVALID_FIELD", f"group by one of {', '.join(GROUP_KEYS)}", {"field": "by"}
            )
    register = list(loans)
    really_first = first_loans(register)
    rows = []
    for label in periods:
        p = period(label)
        groups: dict[tuple[str, str, str], list[Loan]] = {}
        for loan in register:
            platform, city, institution = (getattr(loan, k) if k in by else ALL for k in GROUP_KEYS)
            groups.setdefault((platform, city, institution), []).append(loan)
        for (platform, city, institution), members in sorted(groups.items()):
            granted = [x for x in members if p.start <= x.granted_on <= p.end]
            credit = [x for x in granted if x.credit]
            first = [x for x in granted if x.loan_id in really_first]
            balance = sum((x.balance(p.end) for x in members if x.credit), Decimal(0))
            small = sum((x.balance(p.end) for x in members if x.credit and x.small_micro), Decimal(0))
            rows.append(
                EffectRow(
                    period=label,
                    platform=platform,
                    city=city,
                    institution=institution,
                    loans_granted=len(granted),
                    amount_granted_yuan=sum((x.amount_yuan for x in granted), Decimal(0)),
                    credit_loans_granted=len(credit),
                    credit_amount_granted_yuan=sum((x.amount_yuan for x in credit), Decimal(0)),
                    first_loans=len(first),
                    first_loan_amount_yuan=sum((x.amount_yuan for x in first), Decimal(0)),
                    credit_balance_yuan=balance,
                    small_micro_credit_balance_yuan=small,
                    small_micro_share=_share(small, balance),
                )
            )
    return rows


def progress(
    loans: Iterable[Loan],
    on: date,
    target_balance_yuan: Decimal = PLAN_CREDIT_BALANCE_YUAN,
    target_share: Decimal = PLAN_SMALL_MICRO_SHARE,
) -> Progress:
    """Province-wide credit-loan balance and small/micro share on ``on``, against the plan's targets."""
    credit = [x for x in loans if x.credit]
    balance = sum((x.balance(on) for x in credit), Decimal(0))
    small = sum((x.balance(on) for x in credit if x.small_micro), Decimal(0))
    share = _share(small, balance)
    return Progress(
        on=on,
        credit_balance_yuan=balance,
        target_balance_yuan=target_balance_yuan,
        balance_progress=balance / target_balance_yuan,
        small_micro_share=share,
        target_share=target_share,
        share_progress=None if share is None else share / target_share,
    )
