"""A labelled synthetic population of enterprises: records driven by a latent risk, and defaults drawn from it.

How defaults are generated (the honest part of ``scoring.basic_auc``):

1. Each enterprise gets a latent risk z ~ N(0, 1), never shown to the model.
2. Every record family is drawn from z plus its own noise: riskier enterprises are younger, get worse tax grades,
   pay tax and insure staff on a falling trend, fall into tax, social-insurance and utility arrears, are sued and
   enforced against, penalised and listed more often, and hold fewer honours and patents. Each link is a logistic or
   log-linear rate in z (the coefficients are below), so every record is only a noisy reading of z.
3. Default within the next 12 months is Bernoulli(sigmoid(DEFAULT_INTERCEPT + DEFAULT_SLOPE * z)), drawn from z
   alone (about 6% of enterprises), not from the records, so the records never "see" the label.

A score that reads the records well therefore ranks defaults well, but cannot rank them perfectly: the ceiling is
the AUC of z itself (``latent_auc``), reported next to the score's. Everything is drawn from one seeded numpy
generator, so a seed gives the same population on every machine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from services.scoring.domain.records import Record, month_index, months_before

DEFAULT_INTERCEPT = -3.3
DEFAULT_SLOPE = 1.4
AS_OF = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Population:
    """Enterprises' records, their default labels and the hidden latent risk."""

    as_of: datetime
    records: list[list[Record]]
    bad: npt.NDArray[np.bool_]
    latent: npt.NDArray[np.float64]


def _sigmoid(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def _period(index: int) -> str:
    year, month = divmod(index, 12)
    return f"{year:04d}-{month + 1:02d}"


def _days_ago(as_of: date, days: float) -> date:
    return as_of - timedelta(days=int(days))


class _Builder:
    """Makes one enterprise's records with stable ids and event times no later than the evaluation time."""

    def __init__(self, enterprise: int, as_of: datetime) -> None:
        self.enterprise = enterprise
        self.as_of = as_of
        self.records: list[Record] = []

    def add(self, item: str, fields: dict[str, object], on: date, in_dispute: bool = False) -> None:
        seen = datetime(on.year, on.month, on.day, 9, tzinfo=UTC) + timedelta(days=3)
        event_time = min(seen, self.as_of - timedelta(hours=1))
        record_id = f"e{self.enterprise}-{item}-{len(self.records)}"
        self.records.append(Record(record_id, item, fields, event_time, 1, in_dispute))

    def monthly(self, item: str, months: int, fields_of: list[dict[str, object]], lag: int = 1) -> None:
        """One record per month, the latest for the month before the evaluation month (data arrive a month late)."""
        end = month_index(self.as_of.year, self.as_of.month) - lag
        for k, fields in enumerate(fields_of):
            p = end - (months - 1 - k)
            year, month = divmod(p, 12)
            self.add(item, {"period": _period(p), **fields}, date(year, month + 1, 28))


Draws = dict[str, npt.NDArray[Any]]


def _draw(rng: np.random.Generator, n: int) -> Draws:
    """Every random quantity of the population, one array per quantity, each a function of z and noise."""
    z = rng.standard_normal(n)

    def bern(logit: npt.NDArray[np.float64]) -> npt.NDArray[np.bool_]:
        return np.asarray(rng.random(n) < _sigmoid(logit))

    def pois(log_rate: npt.NDArray[np.float64]) -> npt.NDArray[np.int64]:
        return rng.poisson(np.exp(log_rate))

    d: Draws = {"z": z, "bad": rng.random(n) < _sigmoid(DEFAULT_INTERCEPT + DEFAULT_SLOPE * z)}
    d["age"] = np.clip(np.exp(np.log(6.0) - 0.25 * z + 0.7 * rng.standard_normal(n)), 0.2, 40.0)
    d["capital"] = np.exp(np.log(2e6) - 0.3 * z + 1.2 * rng.standard_normal(n))
    d["revoked"] = bern(-5.5 + 1.2 * z)
    d["report_filed"] = rng.random(n) < 0.9
    d["report_on_time"] = bern(2.0 - 0.9 * z)
    d["invoices"] = rng.random(n) < 0.4
    d["sales_level"] = np.exp(np.log(3e5) + 1.0 * rng.standard_normal(n))
    d["sales_growth"] = 0.08 - 0.18 * z + 0.15 * rng.standard_normal(n)
    d["trader"] = rng.random(n) < 0.15
    d["customs_u"] = rng.random(n)
    d["grade_latent"] = -0.9 * z + 0.7 * rng.standard_normal(n)
    d["tax_level"] = np.exp(np.log(2e4) + 1.0 * rng.standard_normal(n))
    d["tax_growth"] = 0.05 - 0.15 * z + 0.2 * rng.standard_normal(n)
    d["tax_month_paid"] = _sigmoid(2.5 - 0.8 * z)
    d["tax_arrears"] = pois(-3.0 + 1.0 * z)
    d["tax_arrears_cleared"] = rng.poisson(0.1, n)
    d["headcount"] = np.maximum(1.0, np.exp(np.log(15.0) + 0.9 * rng.standard_normal(n)))
    d["headcount_growth"] = 0.03 - 0.12 * z + 0.1 * rng.standard_normal(n)
    d["si_arrears"] = pois(-3.2 + 1.1 * z)
    d["housing"] = bern(0.3 - 0.7 * z)
    d["housing_months"] = rng.binomial(12, _sigmoid(2.5 - 0.8 * z))
    d["water"], d["gas"] = rng.random(n) < 0.8, rng.random(n) < 0.3
    d["util_arrears"] = pois(-2.3 + 1.1 * z)
    d["defendant"] = pois(-1.8 + 0.9 * z)
    d["plaintiff"] = rng.poisson(0.3, n)
    d["enforcement_open"] = pois(-3.0 + 1.2 * z)
    d["enforcement_closed"] = rng.poisson(0.2, n)
    d["restriction"] = bern(-5.0 + 1.3 * z)
    d["penalties"] = pois(-2.0 + 0.7 * z)
    d["abnormal"] = bern(-3.8 + 1.2 * z)
    d["dishonest"] = bern(-5.8 + 1.6 * z)
    d["evasion"] = bern(-7.5 + 1.8 * z)
    d["serious"] = bern(-6.0 + 1.2 * z)
    d["breached"] = bern(-4.0 + 1.0 * z)
    d["high_tech"] = bern(-2.2 - 0.6 * z)
    d["tech_sme"] = bern(-1.8 - 0.5 * z)
    d["specialized"] = bern(-3.0 - 0.6 * z)
    d["patents"] = pois(0.2 - 0.5 * z + np.where(d["high_tech"], 1.0, 0.0))
    d["in_dispute"] = rng.random(n) < 0.02
    d["noise"] = rng.standard_normal((n, 24))
    d["uniform"] = rng.random((n, 24))
    d["days"] = rng.random((n, 8)) * 700.0
    return d


def generate(n: int, seed: int = 20261130, as_of: datetime = AS_OF) -> Population:
    """``n`` enterprises with records as of ``as_of`` and default labels; same seed, same population."""
    d = _draw(np.random.default_rng(seed), n)
    population = []
    for i in range(n):
        b = _Builder(i, as_of)
        for family in (_registration, _tax, _social, _utilities, _courts, _penalties_and_lists, _honours):
            family(b, d, i, as_of.date())
        population.append(b.records)
    return Population(as_of, population, np.asarray(d["bad"]), np.asarray(d["z"], dtype=np.float64))


def _registration(b: _Builder, d: Draws, i: int, today: date) -> None:
    established = _days_ago(today, d["age"][i] * 365.25)
    b.add(
        "REG_BASIC",
        {
            "established_on": established,
            "registered_capital_yuan": Decimal(int(d["capital"][i])),
            "industry_code": "C39",
            "enterprise_type": "有限责任公司",
            "status": "REVOKED" if d["revoked"][i] else "ACTIVE",
            "region_code": "610100",
        },
        established,
    )
    if d["report_filed"][i] and d["age"][i] >= 1.0:
        filed = date(today.year, 6, 20)
        b.add(
            "REG_ANNUAL_REPORT",
            {"year": today.year - 1, "submitted_on": filed, "on_time": bool(d["report_on_time"][i])},
            filed,
        )
    if d["trader"][i]:
        z, u = float(d["z"][i]), float(d["customs_u"][i])
        rating = "ADVANCED_CERTIFIED" if u < 1.0 / (1.0 + math.exp(1.5 + z)) else "REGISTERED"
        if u > 1.0 - 0.2 / (1.0 + math.exp(3.0 - 2.0 * z)):
            rating = "DISHONEST"
        b.add("CUSTOMS_CREDIT_RATING", {"rating": rating, "effective_on": _days_ago(today, d["days"][i, 0])}, today)


def _tax(b: _Builder, d: Draws, i: int, today: date) -> None:
    noise, uniform = d["noise"][i], d["uniform"][i]
    if d["invoices"][i]:
        level, growth = d["sales_level"][i], d["sales_growth"][i]
        b.monthly(
            "TAX_INVOICE",
            24,
            [
                {
                    "invoices_issued_count": 30,
                    "sales_amount_yuan": Decimal(int(level * (1 + growth) ** (k / 12) * math.exp(0.2 * noise[k]))),
                }
                for k in range(24)
            ],
        )
    age = d["age"][i]
    grade = "M" if age < 1.0 else _tax_grade(d["grade_latent"][i])  # new taxpayers are graded M
    b.add("TAX_CREDIT_GRADE", {"year": today.year - 1, "grade": grade}, date(today.year, 4, 30))
    months = min(24, int(age * 12))
    level, growth, paid = d["tax_level"][i], d["tax_growth"][i], d["tax_month_paid"][i]
    b.monthly(
        "TAX_PAYMENT",
        months,
        [
            {
                "tax_paid_yuan": Decimal(
                    int(level * (1 + growth) ** (k / 12) * math.exp(0.25 * noise[k])) if uniform[k] < paid else 0
                )
            }
            for k in range(24 - months, 24)
        ],
    )
    announced = _days_ago(today, d["days"][i, 1])
    for k in range(int(d["tax_arrears"][i])):
        fields = {
            "tax_type": "增值税",
            "amount_yuan": Decimal(5000 * (k + 1)),
            "announced_on": announced,
            "cleared": False,
        }
        b.add("TAX_ARREARS", fields, announced, in_dispute=bool(d["in_dispute"][i]))
    old = _days_ago(today, 600)
    for _ in range(int(d["tax_arrears_cleared"][i])):
        b.add(
            "TAX_ARREARS",
            {"tax_type": "印花税", "amount_yuan": Decimal(800), "announced_on": old, "cleared": True},
            old,
        )


def _social(b: _Builder, d: Draws, i: int, today: date) -> None:
    noise, headcount, growth = d["noise"][i], d["headcount"][i], d["headcount_growth"][i]
    hc_months = min(15, int(d["age"][i] * 12))
    b.monthly(
        "SI_HEADCOUNT",
        hc_months,
        [
            {"insured_count": max(0, int(headcount * (1 + growth) ** (k / 12) + 0.5 * noise[k]))}
            for k in range(15 - hc_months, 15)
        ],
    )
    now = month_index(today.year, today.month)
    for k in range(int(d["si_arrears"][i])):
        fields = {"period": _period(now - 2 - k), "amount_yuan": Decimal(3000), "cleared": False}
        b.add("SI_ARREARS", fields, months_before(today, 1))
    if d["housing"][i]:
        paid = int(d["housing_months"][i])
        staff = int(headcount)
        b.monthly(
            "HOUSING_FUND_PAYMENT",
            12,
            [
                {"contributors_count": staff, "amount_yuan": Decimal(staff * 500 if k >= 12 - paid else 0)}
                for k in range(12)
            ],
        )


def _utilities(b: _Builder, d: Draws, i: int, today: date) -> None:
    arrears = int(d["util_arrears"][i])
    for item, present in (("UTIL_ELECTRICITY", True), ("UTIL_WATER", d["water"][i]), ("UTIL_GAS", d["gas"][i])):
        if not present:
            continue
        due = int(math.exp(math.log(3000.0) + 0.5 * d["noise"][i, 12]))
        b.monthly(
            item,
            12,
            [
                {
                    "amount_due_yuan": Decimal(due),
                    "amount_paid_yuan": Decimal(due if k < 12 - arrears else 0),
                    "arrears_months": max(0, arrears - (11 - k)),
                }
                for k in range(12)
            ],
        )
        if item != "UTIL_ELECTRICITY":  # the other utilities run shorter arrears than power
            arrears = max(0, arrears - 1)


def _courts(b: _Builder, d: Draws, i: int, today: date) -> None:
    days = d["days"][i]
    for k in range(int(d["defendant"][i])):
        when = _days_ago(today, (days[2] + 97 * k) % 700)
        case = {"case_number": f"(2025)陕01民初{i}{k}号", "role": "DEFENDANT", "cause": "买卖合同纠纷"}
        b.add("COURT_JUDGMENT", {**case, "judged_on": when, "amount_yuan": Decimal(80000)}, when)
    for k in range(int(d["plaintiff"][i])):
        when = _days_ago(today, (days[3] + 53 * k) % 700)
        case = {"case_number": f"(2025)陕01民初{i}P{k}号", "role": "PLAINTIFF", "cause": "买卖合同纠纷"}
        b.add("COURT_JUDGMENT", {**case, "judged_on": when, "amount_yuan": Decimal(30000)}, when)
    opened = int(d["enforcement_open"][i])
    for k in range(opened + int(d["enforcement_closed"][i])):
        when = _days_ago(today, (days[4] + 61 * k) % 700)
        fields = {"case_number": f"(2025)陕01执{i}{k}号", "filed_on": when, "amount_yuan": Decimal(120000)}
        b.add("COURT_ENFORCEMENT", {**fields, "status": "OPEN" if k < opened else "CLOSED"}, when)
    if d["restriction"][i]:
        when = _days_ago(today, days[5])
        b.add("COURT_CONSUMPTION_RESTRICTION", {"case_number": f"(2025)陕01执限{i}号", "issued_on": when}, when)
    if d["dishonest"][i]:
        when = _days_ago(today, days[4] / 2)
        b.add("COURT_DISHONEST_DEBTOR", {"case_number": f"(2025)陕01执{i}D号", "listed_on": when}, when)


def _penalties_and_lists(b: _Builder, d: Draws, i: int, today: date) -> None:
    days = d["days"][i]
    for k in range(int(d["penalties"][i])):
        when = _days_ago(today, (days[6] + 113 * k) % 700)
        item = ("AMR_PENALTY", "ENV_PENALTY", "SAFETY_PENALTY")[k % 3]
        fields = {"decision_number": f"陕罚〔2025〕{i}{k}号", "penalty_type": "罚款", "authority": "西安市"}
        b.add(item, {**fields, "decided_on": when, "amount_yuan": Decimal(10000)}, when)
    if d["abnormal"][i]:
        when = _days_ago(today, days[7])
        b.add("AMR_ABNORMAL_OPERATION", {"listed_on": when, "reason": "通过登记的住所无法联系"}, when)
    if d["evasion"][i]:
        when = _days_ago(today, days[5] / 2)
        fields = {"decision_number": f"陕信用〔2025〕{i}号", "authority": "陕西省发展和改革委员会"}
        b.add("DISCIPLINE_MALICIOUS_EVASION", {**fields, "established_on": when}, when)
    if d["serious"][i]:
        when = _days_ago(today, days[6] / 2)
        fields = {"decision_number": f"陕市监严〔2025〕{i}号", "reason": "提交虚假材料"}
        b.add("AMR_SERIOUS_VIOLATION", {**fields, "listed_on": when}, when)
    if d["breached"][i]:
        when = _days_ago(today, 300)
        fields = {"commitment_number": f"CN{i}", "commitment_type": "审批替代型", "status": "BREACHED"}
        b.add("CREDIT_COMMITMENT", {**fields, "committed_on": when}, when)


def _honours(b: _Builder, d: Draws, i: int, today: date) -> None:
    for item, held in (("HONOR_HIGH_TECH", d["high_tech"][i]), ("HONOR_TECH_SME", d["tech_sme"][i])):
        if held:
            granted = _days_ago(today, 400)
            expires = date(granted.year + 3, granted.month, 1)
            b.add(
                item, {"certificate_number": f"GR{i}{item[-3:]}", "granted_on": granted, "expires_on": expires}, granted
            )
    if d["specialized"][i]:
        granted = _days_ago(today, 200)
        level = "NATIONAL_LITTLE_GIANT" if d["z"][i] < -1.5 else "PROVINCIAL"
        fields = {
            "certificate_number": f"ZJ{i}",
            "expires_on": date(granted.year + 3, granted.month, 1),
            "level": level,
        }
        b.add("HONOR_SPECIALIZED_SME", {**fields, "granted_on": granted}, granted)
    granted = _days_ago(today, 500)
    for k in range(int(d["patents"][i])):
        kind = "INVENTION" if k % 3 == 0 else "UTILITY_MODEL"
        b.add(
            "HONOR_PATENT", {"patent_number": f"ZL2024{i:07d}{k}", "patent_type": kind, "granted_on": granted}, granted
        )


def _tax_grade(latent: float) -> str:
    for threshold, grade in ((1.0, "A"), (0.0, "B"), (-0.8, "M"), (-1.6, "C")):
        if latent > threshold:
            return grade
    return "D"
