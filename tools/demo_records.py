"""Reproducible synthetic credit records for demo enterprises, covering every item of the sharing list.

``generate(usccs, seed)`` yields plain dicts, one per record, shaped like an ingestion request::

    {"department": "sx-tax", "item_code": "TAX_PAYMENT", "list_version": 1, "source_record_id": "...",
     "source_version": 1, "uscc": "...", "event_time": datetime, "received_at": datetime,
     "fields": {"period": "2026-03", "tax_paid_yuan": Decimal("48211.37"), ...}}

Field values use Python types (str, int, Decimal, date, bool). ``received_at`` is a simulated delivery time (most
deliveries are on time, some late) so a demo can be loaded with a fake clock and still show realistic timeliness.
Every enterprise gets a seeded profile (size, sector, financial health) from which all of its records follow, so
tax paid, insured headcount and utility bills move together, and the troubled enterprises are the ones with arrears,
enforcement cases and dishonesty listings. The same (usccs, seed, as_of) always gives the same records.

Run ``python -m tools.demo_records USCC... [--seed N]`` to print a summary.
"""

from __future__ import annotations

import argparse
import hashlib
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from services.kit.workdays import WorkCalendar
from services.registry.domain.sharing_list import CHINA_TZ, SharingList, WorkingDays, load_sharing_list

DEFAULT_AS_OF = datetime(2026, 11, 30, 12, 0, tzinfo=CHINA_TZ)
MONTHS_OF_HISTORY = 24
LIST_VERSION = 1
CENT = Decimal("0.01")

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马胡朱郭何罗高林郑梁谢宋唐许"
    "韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金贾"
)
COMPOUND = ("欧阳", "司马", "上官", "诸葛")
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌辉鹏飞宇浩然晨阳欣怡子涵俊峰海燕玉兰"
PREFIXES = (
    "秦川",
    "长安",
    "华岳",
    "汉唐",
    "丝路",
    "渭河",
    "终南",
    "大雁",
    "曲江",
    "浐灞",
    "沣东",
    "骊山",
    "延河",
    "汉江",
)
BIRTH_REGIONS = ("610102", "610103", "610104", "610113", "610302", "610402", "610502", "610602", "610702", "612701")
COURTS = (
    "西安市中级人民法院",
    "西安市雁塔区人民法院",
    "西安市未央区人民法院",
    "宝鸡市中级人民法院",
    "咸阳市秦都区人民法院",
    "渭南市临渭区人民法院",
    "榆林市中级人民法院",
)
BANKS = (
    "中国工商银行股份有限公司西安分行",
    "中国建设银行股份有限公司陕西省分行",
    "西安银行股份有限公司",
    "长安银行股份有限公司",
    "陕西秦农农村商业银行股份有限公司",
    "中国农业银行股份有限公司陕西省分行",
)
PARTNERS = (
    ("KZ", "Astana Trading LLP"),
    ("DE", "Rhein Maschinen GmbH"),
    ("US", "Pacific Supply Inc."),
    ("RU", "OOO Volga Import"),
    ("VN", "Hanoi Components JSC"),
    ("UZ", "Tashkent Textile LLC"),
)


class Sector(StrEnum):
    """What the enterprise does; decides which items concern it."""

    MANUFACTURING = "MANUFACTURING"
    SOFTWARE = "SOFTWARE"
    TRADE = "TRADE"
    CONSTRUCTION = "CONSTRUCTION"
    FOOD = "FOOD"
    LOGISTICS = "LOGISTICS"
    AGRICULTURE = "AGRICULTURE"


# sector -> (industry code, enterprise name word, monthly tax per employee in yuan, electricity kWh per employee)
SECTORS: dict[Sector, tuple[str, str, int, int]] = {
    Sector.MANUFACTURING: ("C3484", "机械制造", 1800, 900),
    Sector.SOFTWARE: ("I6513", "信息科技", 2600, 120),
    Sector.TRADE: ("F5179", "商贸", 1500, 80),
    Sector.CONSTRUCTION: ("E4819", "建设工程", 1300, 150),
    Sector.FOOD: ("C1391", "食品", 1100, 600),
    Sector.LOGISTICS: ("G5438", "物流", 1000, 200),
    Sector.AGRICULTURE: ("A0141", "农业科技", 600, 300),
}


class Health(StrEnum):
    """How the enterprise is doing; drives trends, arrears and adverse records."""

    THRIVING = "THRIVING"
    STEADY = "STEADY"
    STRESSED = "STRESSED"
    DISTRESSED = "DISTRESSED"


# health -> (monthly headcount drift, share of utility months unpaid, chance of an adverse public record per year)
HEALTH: dict[Health, tuple[float, float, float]] = {
    Health.THRIVING: (0.012, 0.0, 0.03),
    Health.STEADY: (0.002, 0.01, 0.08),
    Health.STRESSED: (-0.01, 0.12, 0.35),
    Health.DISTRESSED: (-0.03, 0.35, 0.8),
}


@dataclass(frozen=True)
class Profile:
    """The seeded facts one enterprise's records are derived from."""

    uscc: str
    name: str
    sector: Sector
    health: Health
    established: date
    employees: int
    region_code: str
    legal_rep: str
    legal_rep_id: str
    phone: str
    exporter: bool
    # Departments are not equally punctual: the chance that a delivery makes its deadline.
    punctuality: float


class _Builder:
    """Produces one enterprise's records with a private random stream."""

    def __init__(
        self, profile: Profile, seed: int, sharing_list: SharingList, as_of: datetime, calendar: WorkingDays
    ) -> None:
        self.p = profile
        self.rng = random.Random(f"{seed}:{profile.uscc}")
        self.list = sharing_list
        self.calendar = calendar
        self.as_of = as_of
        self.seed = seed
        self.counters: Counter[str] = Counter()
        self.out: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ plumbing

    def emit(
        self,
        item_code: str,
        event: datetime,
        fields: dict[str, Any],
        *,
        source_version: int = 1,
        source_index: int | None = None,
        delay: timedelta | None = None,
    ) -> dict[str, Any] | None:
        """Add a record (unless it would be delivered after the demo's "now") and return it."""
        item = self.list.item(item_code)
        if item is None:
            raise KeyError(item_code)
        if source_index is None:
            self.counters[item_code] += 1
            source_index = self.counters[item_code]
        received = event + delay if delay is not None else self._delivery(item_code, event)
        if received > self.as_of:
            return None  # not delivered yet at the demo's "now"
        digest = hashlib.sha256(f"{self.seed}|{self.p.uscc}|{item_code}|{source_index}".encode()).hexdigest()[:20]
        record = {
            "department": item.department,
            "item_code": item_code,
            "list_version": LIST_VERSION,
            "source_record_id": f"{item.department}.{digest}",
            "source_version": source_version,
            "uscc": self.p.uscc,
            "event_time": event,
            "received_at": received,
            "fields": {k: v for k, v in fields.items() if v is not None},
            "_index": source_index,
        }
        self.out.append(record)
        return record

    def follow_up(self, first: dict[str, Any] | None, day: date | None, fields: dict[str, Any]) -> None:
        """Version 2 of a delivered source record on ``day`` (a listing removed, a case closed), if that has come."""
        if first is None or day is None:
            return
        event = max(self.at(day), first["event_time"])
        self.revise(first, event, fields, self._delivery(first["item_code"], event))

    def revise(self, first: dict[str, Any], event: datetime, fields: dict[str, Any], received: datetime) -> None:
        """Version 2 of ``first``; a department sends it only after version 1 went out."""
        received = max(received, first["received_at"] + timedelta(hours=1))
        index = int(first["_index"])
        self.emit(first["item_code"], event, fields, source_version=2, source_index=index, delay=received - event)

    def _delivery(self, item_code: str, event: datetime) -> datetime:
        item = self.list.item(item_code)
        assert item is not None
        due = item.deadline.due_before(event, self.calendar)
        window = (due - event).total_seconds()
        if self.rng.random() < self.p.punctuality:
            return event + timedelta(seconds=window * self.rng.uniform(0.05, 0.95))
        return due + timedelta(hours=self.rng.uniform(1, 24 * 20))

    def at(self, day: date, hour: int = 10) -> datetime:
        return datetime.combine(day, time(hour, self.rng.randrange(60)), CHINA_TZ)

    def months(self) -> list[tuple[int, int]]:
        """The last MONTHS_OF_HISTORY complete months before as_of, oldest first, not before establishment."""
        year, month = self.as_of.year, self.as_of.month
        out = []
        for _ in range(MONTHS_OF_HISTORY):
            month -= 1
            if month == 0:
                year, month = year - 1, 12
            if (year, month) >= (self.p.established.year, self.p.established.month):
                out.append((year, month))
        return out[::-1]

    def period_close(self, year: int, month: int) -> datetime:
        nxt = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
        return datetime.combine(nxt - timedelta(days=1), time(23, 0), CHINA_TZ)

    def money(self, value: float) -> Decimal:
        return Decimal(str(max(value, 0.0))).quantize(CENT)

    def day_between(self, start: date, end: date) -> date:
        span = max((end - start).days, 0)
        return start + timedelta(days=self.rng.randint(0, span))

    def recent_day(self, years: float = 3.0) -> date:
        start = max(self.p.established, (self.as_of - timedelta(days=int(365 * years))).date())
        return self.day_between(start, (self.as_of - timedelta(days=30)).date())

    def if_past(self, day: date) -> date | None:
        """The day, or None when it lies after the demo's "now" (the event has not happened yet)."""
        return day if day < self.as_of.date() else None

    def adverse(self, scale: float = 1.0) -> bool:
        return self.rng.random() < HEALTH[self.p.health][2] * scale

    def case_number(self, kind: str, year: int) -> str:
        court = self.rng.choice(("陕01", "陕0113", "陕0112", "陕03", "陕0402", "陕0502"))
        return f"({year}){court}{kind}{self.rng.randint(100, 9999)}号"

    # ------------------------------------------------------------------ items

    def build(self) -> list[dict[str, Any]]:
        for step in (
            self.registration,
            self.annual_reports,
            self.supervision,
            self.penalties,
            self.tax_monthly,
            self.tax_yearly,
            self.tax_adverse,
            self.social_insurance,
            self.housing_fund,
            self.utilities,
            self.judicial,
            self.discipline,
            self.honours,
            self.environment,
            self.customs,
            self.finance,
        ):
            step()
        return self.out

    def registration(self) -> None:
        p = self.p
        cancelled = p.health is Health.DISTRESSED and self.rng.random() < 0.1
        self.emit(
            "REG_BASIC",
            self.at(p.established),
            {
                "enterprise_name": p.name,
                "established_on": p.established,
                "registered_capital_yuan": Decimal(self.rng.choice((50, 100, 200, 500, 1000, 3000, 5000)) * 10_000),
                "industry_code": SECTORS[p.sector][0],
                "enterprise_type": self.rng.choice(
                    (
                        "有限责任公司(自然人投资或控股)",
                        "有限责任公司(自然人独资)",
                        "股份有限公司(非上市、自然人投资或控股)",
                    )
                ),
                "status": "REVOKED" if cancelled else "ACTIVE",
                "region_code": p.region_code,
                "registered_address": f"陕西省西安市{self.rng.choice(('雁塔区', '未央区', '高新区', '长安区'))}"
                f"{self.rng.choice(PREFIXES)}路{self.rng.randint(1, 300)}号",
                "legal_representative": p.legal_rep,
                "legal_rep_id_number": p.legal_rep_id,
                "contact_phone": p.phone if self.rng.random() < 0.8 else None,
            },
            delay=timedelta(hours=self.rng.uniform(0.2, 20)),
        )
        for _ in range(self.rng.choice((0, 0, 1, 2))):
            changed = self.recent_day()
            kind, before, after = self.rng.choice(
                (
                    ("REGISTERED_CAPITAL", "500万元人民币", "1000万元人民币"),
                    ("ADDRESS", "陕西省西安市雁塔区丈八东路", "陕西省西安市高新区锦业路"),
                    ("BUSINESS_SCOPE", "一般项目：技术服务", "一般项目：技术服务；货物进出口"),
                    ("SHAREHOLDER", f"{p.legal_rep}（100%）", f"{p.legal_rep}（70%）、{_person(self.rng)}（30%）"),
                )
            )
            self.emit(
                "REG_CHANGE",
                self.at(changed),
                {"change_item": kind, "changed_on": changed, "before_value": before, "after_value": after},
            )

    def annual_reports(self) -> None:
        for year in range(max(self.p.established.year, self.as_of.year - 3), self.as_of.year):
            late = self.rng.random() < (0.03 if self.p.health in (Health.THRIVING, Health.STEADY) else 0.3)
            submitted = (
                date(year + 1, 7, 1) + timedelta(days=self.rng.randint(5, 120))
                if late
                else date(year + 1, 1, 1) + timedelta(days=self.rng.randint(30, 175))
            )
            if self.at(submitted) > self.as_of:
                continue
            self.emit(
                "REG_ANNUAL_REPORT",
                self.at(submitted),
                {
                    "year": year,
                    "submitted_on": submitted,
                    "on_time": not late,
                    "employee_count": self.p.employees,
                    "contact_phone": self.p.phone,
                    "email": f"office{self.rng.randint(1, 99)}@{self.p.sector.lower()}.cn",
                },
            )
            if late:
                listed = date(year + 1, 7, 1) + timedelta(days=self.rng.randint(0, 3))
                listing = {
                    "listed_on": listed,
                    "reason": "未依照《企业信息公示暂行条例》第八条规定的期限公示年度报告",
                    "authority": "西安市市场监督管理局",
                }
                first = self.emit("AMR_ABNORMAL_OPERATION", self.at(listed), listing)
                removed = self.if_past(submitted + timedelta(days=self.rng.randint(3, 20)))
                self.follow_up(first, removed, {**listing, "removed_on": removed})

    def supervision(self) -> None:
        if self.p.health is Health.DISTRESSED and self.rng.random() < 0.5:
            listed = self.recent_day(2)
            self.emit(
                "AMR_SERIOUS_VIOLATION",
                self.at(listed),
                {
                    "decision_number": f"陕市监严违〔{listed.year}〕{self.rng.randint(1, 300)}号",
                    "listed_on": listed,
                    "reason": "被列入经营异常名录届满3年仍未履行相关义务",
                },
            )
        if self.adverse(0.4):
            committed = self.recent_day()
            self.emit(
                "CREDIT_COMMITMENT",
                self.at(committed),
                {
                    "commitment_number": f"XYCN-{committed.year}-{self.rng.randint(10000, 99999)}",
                    "commitment_type": "审批替代型",
                    "committed_on": committed,
                    "status": "BREACHED",
                },
            )
        for _ in range(self.rng.choice((0, 1, 1, 2))):
            committed = self.recent_day()
            self.emit(
                "CREDIT_COMMITMENT",
                self.at(committed),
                {
                    "commitment_number": f"XYCN-{committed.year}-{self.rng.randint(10000, 99999)}",
                    "commitment_type": self.rng.choice(("审批替代型", "主动型", "行业自律型")),
                    "committed_on": committed,
                    "status": self.rng.choice(("IN_FORCE", "FULFILLED")),
                },
            )

    def _penalty(self, item: str, prefix: str, kinds: tuple[str, ...], authority: str) -> None:
        decided = self.recent_day()
        kind = self.rng.choice(kinds)
        amount = 0 if kind == "警告" else self.rng.choice((2000, 5000, 10000, 30000, 50000, 100000))
        self.emit(
            item,
            self.at(decided),
            {
                "decision_number": f"{prefix}〔{decided.year}〕{self.rng.randint(1, 500)}号",
                "decided_on": decided,
                "penalty_type": kind,
                "amount_yuan": Decimal(amount),
                "authority": authority,
                "violation": "违反相关法律法规规定的行为",
            },
        )

    def penalties(self) -> None:
        if self.adverse(0.6):
            self._penalty(
                "AMR_PENALTY", "雁市监处罚", ("警告", "罚款", "没收违法所得、罚款"), "西安市雁塔区市场监督管理局"
            )
        industrial = self.p.sector in (Sector.MANUFACTURING, Sector.FOOD, Sector.CONSTRUCTION)
        if industrial and self.adverse(0.5):
            self._penalty("ENV_PENALTY", "陕环罚", ("罚款", "责令停产整治、罚款"), "陕西省生态环境厅")
        if industrial and self.adverse(0.4):
            self._penalty("SAFETY_PENALTY", "陕应急罚", ("警告", "罚款"), "陕西省应急管理厅")

    def tax_monthly(self) -> None:
        per_head = SECTORS[self.p.sector][2]
        drift = HEALTH[self.p.health][0]
        for index, (year, month) in enumerate(self.months()):
            trend = (1 + drift) ** index
            season = 1.15 if month in (3, 6, 9, 12) else 1.0
            paid = self.p.employees * per_head * trend * season * self.rng.uniform(0.8, 1.2)
            period = f"{year:04d}-{month:02d}"
            close = self.period_close(year, month)
            fields = {
                "period": period,
                "tax_paid_yuan": self.money(paid),
                "vat_paid_yuan": self.money(paid * 0.6),
                "income_tax_paid_yuan": self.money(paid * 0.25),
            }
            first = self.emit("TAX_PAYMENT", close, fields)
            if first is not None and self.rng.random() < 0.04:
                # A restatement: the same source record, version 2, some weeks later.
                fixed = dict(fields, tax_paid_yuan=self.money(paid * 1.03), vat_paid_yuan=self.money(paid * 0.63))
                self.revise(first, close, fixed, close + timedelta(days=self.rng.randint(30, 60)))
            sales = paid * self.rng.uniform(11, 16)
            self.emit(
                "TAX_INVOICE",
                close,
                {
                    "period": period,
                    "invoices_issued_count": max(1, int(sales / self.rng.uniform(3000, 20000))),
                    "sales_amount_yuan": self.money(sales),
                    "invoices_received_count": int(sales / self.rng.uniform(5000, 30000)),
                    "purchase_amount_yuan": self.money(sales * self.rng.uniform(0.5, 0.8)),
                },
            )

    def tax_yearly(self) -> None:
        grades = {
            Health.THRIVING: ("A", "A", "B"),
            Health.STEADY: ("A", "B", "B", "M"),
            Health.STRESSED: ("B", "M", "C"),
            Health.DISTRESSED: ("C", "D", "D"),
        }
        per_head = SECTORS[self.p.sector][2]
        for year in range(max(self.p.established.year + 1, self.as_of.year - 3), self.as_of.year):
            evaluated = date(year + 1, 4, self.rng.randint(1, 25))
            if self.at(evaluated) < self.as_of:
                self.emit(
                    "TAX_CREDIT_GRADE",
                    self.at(evaluated),
                    {
                        "year": year,
                        "grade": self.rng.choice(grades[self.p.health]),
                        "evaluated_on": evaluated,
                    },
                )
            filed = date(year + 1, 5, self.rng.randint(1, 31))
            revenue = self.p.employees * per_head * 12 * self.rng.uniform(11, 16)
            margin = {Health.THRIVING: 0.12, Health.STEADY: 0.06, Health.STRESSED: 0.0, Health.DISTRESSED: -0.1}
            assets = revenue * self.rng.uniform(0.6, 1.5)
            leverage = {Health.THRIVING: 0.35, Health.STEADY: 0.5, Health.STRESSED: 0.72, Health.DISTRESSED: 0.95}
            profit = revenue * (margin[self.p.health] + self.rng.uniform(-0.03, 0.03))
            self.emit(
                "TAX_FINANCIAL_STATEMENT",
                self.at(filed),
                {
                    "year": year,
                    "revenue_yuan": self.money(revenue),
                    "profit_yuan": Decimal(str(round(profit, 2))),
                    "total_assets_yuan": self.money(assets),
                    "total_liabilities_yuan": self.money(assets * leverage[self.p.health] * self.rng.uniform(0.9, 1.1)),
                    "operating_cash_flow_yuan": Decimal(str(round(profit * self.rng.uniform(0.5, 1.4), 2))),
                },
            )

    def tax_adverse(self) -> None:
        if self.p.health in (Health.STRESSED, Health.DISTRESSED) and self.adverse(0.5):
            announced = self.recent_day(2)
            self.emit(
                "TAX_ARREARS",
                self.at(announced),
                {
                    "tax_type": self.rng.choice(("增值税", "企业所得税", "城镇土地使用税")),
                    "amount_yuan": self.money(self.rng.uniform(20_000, 800_000)),
                    "announced_on": announced,
                    "cleared": self.p.health is Health.STRESSED and self.rng.random() < 0.5,
                    "legal_representative": self.p.legal_rep,
                },
            )
        if self.p.health is Health.DISTRESSED and self.rng.random() < 0.2:
            announced = self.recent_day(2)
            self.emit(
                "TAX_MAJOR_VIOLATION",
                self.at(announced),
                {
                    "case_number": f"陕税稽罚〔{announced.year}〕{self.rng.randint(1, 200)}号",
                    "case_nature": self.rng.choice(("偷税", "虚开增值税专用发票", "逃避追缴欠税")),
                    "announced_on": announced,
                    "amount_yuan": self.money(self.rng.uniform(1_000_000, 9_000_000)),
                    "responsible_person": self.p.legal_rep,
                },
            )

    def social_insurance(self) -> None:
        drift = HEALTH[self.p.health][0]
        unpaid = HEALTH[self.p.health][1]
        for index, (year, month) in enumerate(self.months()):
            count = max(1, round(self.p.employees * (1 + drift) ** index * self.rng.uniform(0.97, 1.03)))
            period = f"{year:04d}-{month:02d}"
            close = self.period_close(year, month)
            self.emit("SI_HEADCOUNT", close, {"period": period, "insured_count": count})
            if self.rng.random() < unpaid:
                self.emit(
                    "SI_ARREARS",
                    close,
                    {
                        "period": period,
                        "amount_yuan": self.money(count * self.rng.uniform(900, 1400)),
                        "cleared": self.rng.random() < 0.4,
                    },
                )

    def housing_fund(self) -> None:
        if self.p.health is Health.DISTRESSED and self.rng.random() < 0.5:
            return  # many troubled small firms never open housing fund accounts
        share = self.rng.uniform(0.5, 0.95)
        drift = HEALTH[self.p.health][0]
        for index, (year, month) in enumerate(self.months()):
            contributors = max(1, round(self.p.employees * share * (1 + drift) ** index))
            self.emit(
                "HOUSING_FUND_PAYMENT",
                self.period_close(year, month),
                {
                    "period": f"{year:04d}-{month:02d}",
                    "contributors_count": contributors,
                    "amount_yuan": self.money(contributors * self.rng.uniform(600, 1500)),
                },
            )

    def utilities(self) -> None:
        kwh_per_head = SECTORS[self.p.sector][3]
        unpaid = HEALTH[self.p.health][1]
        drift = HEALTH[self.p.health][0]
        for item, price, per_head, unit in (
            ("UTIL_ELECTRICITY", 0.75, kwh_per_head, "consumption_kwh"),
            ("UTIL_WATER", 4.5, 3, "consumption_m3"),
            ("UTIL_GAS", 2.9, 8, "consumption_m3"),
        ):
            arrears = 0
            for index, (year, month) in enumerate(self.months()):
                usage = self.p.employees * per_head * (1 + drift) ** index * self.rng.uniform(0.85, 1.15)
                due = usage * price
                if self.rng.random() < unpaid:
                    arrears += 1
                    paid = due * self.rng.uniform(0.0, 0.6)
                else:
                    paid = due * (1 + 0.5 * min(arrears, 2)) if arrears else due  # paying back some arrears
                    arrears = 0
                self.emit(
                    item,
                    self.period_close(year, month),
                    {
                        "period": f"{year:04d}-{month:02d}",
                        "amount_due_yuan": self.money(due),
                        "amount_paid_yuan": self.money(paid),
                        "arrears_months": arrears,
                        unit: self.money(usage),
                    },
                )

    def judicial(self) -> None:
        for _ in range(self.rng.choice((0, 0, 1, 2))):
            judged = self.recent_day()
            self.emit(
                "COURT_JUDGMENT",
                self.at(judged),
                {
                    "case_number": self.case_number("民初", judged.year),
                    "role": "PLAINTIFF",
                    "cause": "买卖合同纠纷",
                    "judged_on": judged,
                    "amount_yuan": self.money(self.rng.uniform(30_000, 600_000)),
                    "court": self.rng.choice(COURTS),
                },
            )
        if not self.adverse(0.8):
            return
        judged = self.recent_day(2.5)
        amount = self.money(self.rng.uniform(80_000, 3_000_000))
        self.emit(
            "COURT_JUDGMENT",
            self.at(judged),
            {
                "case_number": self.case_number("民初", judged.year),
                "role": "DEFENDANT",
                "cause": self.rng.choice(("金融借款合同纠纷", "买卖合同纠纷", "建设工程施工合同纠纷", "劳动争议")),
                "judged_on": judged,
                "amount_yuan": amount,
                "court": self.rng.choice(COURTS),
            },
        )
        filed = judged + timedelta(days=self.rng.randint(40, 120))
        if self.at(filed) >= self.as_of - timedelta(days=10):
            return
        closed = self.p.health is not Health.DISTRESSED and self.rng.random() < 0.6
        case = self.case_number("执", filed.year)
        enforcement = {"case_number": case, "filed_on": filed, "amount_yuan": amount, "court": self.rng.choice(COURTS)}
        first = self.emit("COURT_ENFORCEMENT", self.at(filed), {**enforcement, "status": "OPEN"})
        if closed:
            closed_on = self.if_past(filed + timedelta(days=self.rng.randint(30, 90)))
            self.follow_up(first, closed_on, {**enforcement, "status": "CLOSED", "closed_on": closed_on})
        if closed or self.p.health is not Health.DISTRESSED:
            return
        listed = filed + timedelta(days=self.rng.randint(20, 60))
        if self.at(listed) < self.as_of - timedelta(days=5):
            self.emit(
                "COURT_DISHONEST_DEBTOR",
                self.at(listed),
                {
                    "case_number": case,
                    "listed_on": listed,
                    "obligation": "偿还借款本金及利息",
                    "court": self.rng.choice(COURTS),
                },
            )
            self.emit(
                "COURT_CONSUMPTION_RESTRICTION",
                self.at(listed),
                {
                    "case_number": case,
                    "issued_on": listed,
                    "restricted_person": self.p.legal_rep,
                },
            )

    def discipline(self) -> None:
        if self.p.health is Health.DISTRESSED and self.rng.random() < 0.3:
            accepted = self.recent_day(1)
            self.emit(
                "COURT_BANKRUPTCY",
                self.at(accepted),
                {
                    "case_number": self.case_number("破", accepted.year),
                    "accepted_on": accepted,
                    "proceeding": self.rng.choice(("REORGANIZATION", "LIQUIDATION")),
                },
            )
        if self.p.health is Health.DISTRESSED and self.rng.random() < 0.4:
            established = self.recent_day(2)
            self.emit(
                "DISCIPLINE_MALICIOUS_EVASION",
                self.at(established),
                {
                    "decision_number": f"陕信办认〔{established.year}〕{self.rng.randint(1, 99)}号",
                    "established_on": established,
                    "authority": "陕西省社会信用体系建设领导小组办公室",
                    "amount_yuan": self.money(self.rng.uniform(500_000, 5_000_000)),
                },
            )
        labour_heavy = self.p.sector in (Sector.CONSTRUCTION, Sector.MANUFACTURING, Sector.LOGISTICS, Sector.FOOD)
        if labour_heavy and self.p.health is Health.DISTRESSED and self.rng.random() < 0.5:
            listed = self.recent_day(2)
            self.emit(
                "HRSS_WAGE_ARREARS_LIST",
                self.at(listed),
                {
                    "decision_number": f"陕人社欠薪〔{listed.year}〕{self.rng.randint(1, 99)}号",
                    "listed_on": listed,
                    "amount_yuan": self.money(self.rng.uniform(100_000, 2_000_000)),
                    "responsible_person": self.p.legal_rep,
                },
            )

    def _certificate(self, item: str, prefix: str, years: int, extra: dict[str, Any] | None = None) -> None:
        granted = self.recent_day()
        self.emit(
            item,
            self.at(granted),
            {
                "certificate_number": f"{prefix}{granted.year}{self.rng.randint(10000, 99999)}",
                "granted_on": granted,
                "expires_on": date(granted.year + years, granted.month, min(granted.day, 28)),
                **(extra or {}),
            },
        )

    def honours(self) -> None:
        good = self.p.health in (Health.THRIVING, Health.STEADY)
        tech = self.p.sector in (Sector.SOFTWARE, Sector.MANUFACTURING, Sector.AGRICULTURE)
        if good and tech and self.rng.random() < 0.5:
            self._certificate("HONOR_HIGH_TECH", "GR", 3)
        if tech and self.rng.random() < 0.6:
            self._certificate("HONOR_TECH_SME", "2024610", 1)
        if good and tech and self.rng.random() < 0.25:
            level = "NATIONAL_LITTLE_GIANT" if self.rng.random() < 0.2 else "PROVINCIAL"
            self._certificate("HONOR_SPECIALIZED_SME", "SXZJTX", 3, {"level": level})
        if good and self.rng.random() < 0.3:
            year = self.as_of.year - self.rng.randint(1, 2)
            granted = date(year + 1, 3, self.rng.randint(1, 28))
            self.emit(
                "HONOR_CONTRACT_CREDIT",
                self.at(granted),
                {
                    "year": year,
                    "granted_on": granted,
                    "expires_on": date(year + 3, 3, 31),
                },
            )
        for _ in range(self.rng.randint(0, 4) if tech else 0):
            granted = self.recent_day()
            kind = self.rng.choice(("INVENTION", "UTILITY_MODEL", "UTILITY_MODEL", "DESIGN"))
            serial = self.rng.randint(10_000_000, 99_999_999)
            number = f"ZL{granted.year}{self.rng.choice('123')}{serial}.{self.rng.randint(0, 9)}"
            self.emit(
                "HONOR_PATENT",
                self.at(granted),
                {
                    "patent_number": number,
                    "patent_type": kind,
                    "granted_on": granted,
                    "title": self.rng.choice(("一种智能控制装置", "一种数据处理方法及系统", "一种节能型加工设备")),
                },
            )

    def environment(self) -> None:
        if self.p.sector not in (Sector.MANUFACTURING, Sector.FOOD, Sector.CONSTRUCTION):
            return
        ratings = {
            Health.THRIVING: ("GREEN", "BLUE"),
            Health.STEADY: ("BLUE", "BLUE", "YELLOW"),
            Health.STRESSED: ("YELLOW", "RED"),
            Health.DISTRESSED: ("RED", "BLACK"),
        }
        for year in range(self.as_of.year - 2, self.as_of.year):
            evaluated = date(year + 1, 6, self.rng.randint(1, 30))
            if self.at(evaluated) < self.as_of:
                self.emit(
                    "ENV_CREDIT_RATING",
                    self.at(evaluated),
                    {
                        "year": year,
                        "rating": self.rng.choice(ratings[self.p.health]),
                        "evaluated_on": evaluated,
                    },
                )

    def customs(self) -> None:
        if not self.p.exporter:
            return
        rating = {Health.THRIVING: "ADVANCED_CERTIFIED", Health.DISTRESSED: "DISHONEST"}.get(
            self.p.health, "REGISTERED"
        )
        effective = self.recent_day()
        self.emit("CUSTOMS_CREDIT_RATING", self.at(effective), {"rating": rating, "effective_on": effective})
        partners = self.rng.sample(PARTNERS, k=2)
        drift = HEALTH[self.p.health][0]
        for index, (year, month) in enumerate(self.months()):
            exports = self.p.employees * 9000 * (1 + drift) ** index * self.rng.uniform(0.6, 1.4)
            close = self.period_close(year, month)
            period = f"{year:04d}-{month:02d}"
            self.emit(
                "CUSTOMS_TRADE",
                close,
                {
                    "period": period,
                    "export_yuan": self.money(exports),
                    "import_yuan": self.money(exports * self.rng.uniform(0.1, 0.5)),
                },
            )
            for country, name in partners:
                self.emit(
                    "CUSTOMS_TRADE_PARTNERS",
                    close,
                    {
                        "period": period,
                        "partner_country": country,
                        "partner_name": name,
                        "trade_yuan": self.money(exports * self.rng.uniform(0.2, 0.45)),
                    },
                )

    def finance(self) -> None:
        if self.rng.random() < 0.35:
            registered = self.recent_day()
            mortgage = {
                "certificate_number": f"陕({registered.year})西安市不动产证明第{self.rng.randint(10**6, 10**7)}号",
                "registered_on": registered,
                "mortgagee": self.rng.choice(BANKS),
                "secured_amount_yuan": self.money(self.rng.uniform(500_000, 20_000_000)),
            }
            first = self.emit("REAL_ESTATE_MORTGAGE", self.at(registered), {**mortgage, "status": "ACTIVE"})
            if self.p.health is Health.THRIVING and self.rng.random() < 0.5:
                released = self.if_past(registered + timedelta(days=self.rng.randint(300, 700)))
                self.follow_up(first, released, {**mortgage, "status": "RELEASED", "released_on": released})
        if self.rng.random() < (0.1 if self.p.health is Health.THRIVING else 0.25):
            registered = self.recent_day()
            self.emit(
                "REG_EQUITY_PLEDGE",
                self.at(registered),
                {
                    "registration_number": f"610000{registered.year}{self.rng.randint(100000, 999999)}",
                    "registered_on": registered,
                    "pledged_equity_yuan": Decimal(self.rng.choice((100, 300, 500)) * 10_000),
                    "pledgor": self.p.legal_rep,
                    "pledgee": self.rng.choice(BANKS),
                    "status": "VALID",
                },
            )


def _id_number(rng: random.Random, birth: date) -> str:
    """A well-formed synthetic resident ID (GB 11643 check digit); it belongs to nobody."""
    body = f"{rng.choice(BIRTH_REGIONS)}{birth:%Y%m%d}{rng.randint(0, 999):03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(d) * w for d, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def _person(rng: random.Random) -> str:
    surname = rng.choice(COMPOUND) if rng.random() < 0.03 else rng.choice(SURNAMES)
    return surname + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def profile_for(uscc: str, seed: int, as_of: datetime = DEFAULT_AS_OF) -> Profile:
    """The seeded profile of one enterprise."""
    rng = random.Random(f"profile:{seed}:{uscc}")
    sector = rng.choice(list(Sector))
    health = rng.choices(list(Health), weights=(25, 45, 20, 10))[0]
    established = as_of.date() - timedelta(days=rng.randint(400, 365 * 15))
    region = uscc[2:8] if uscc[2:4] == "61" and uscc[2:8].isdigit() else "610100"
    birth = date(rng.randint(1960, 1995), rng.randint(1, 12), rng.randint(1, 28))
    return Profile(
        uscc=uscc,
        name=f"陕西{rng.choice(PREFIXES)}{SECTORS[sector][1]}有限公司",
        sector=sector,
        health=health,
        established=established,
        employees=rng.choice((6, 12, 25, 40, 60, 90, 150, 280)),
        region_code=region,
        legal_rep=_person(rng),
        legal_rep_id=_id_number(rng, birth),
        phone=f"1{rng.choice('3589')}{rng.randint(0, 9)}{rng.randint(0, 99_999_999):08d}",
        exporter=sector in (Sector.MANUFACTURING, Sector.TRADE, Sector.FOOD) and rng.random() < 0.4,
        punctuality=rng.uniform(0.85, 0.99),
    )


def generate(
    usccs: list[str], seed: int, *, as_of: datetime = DEFAULT_AS_OF, sharing_list: SharingList | None = None
) -> Iterator[dict[str, Any]]:
    """Yield every enterprise's records (enterprise by enterprise, items in list order), delivered before as_of."""
    listing = sharing_list or load_sharing_list()
    calendar = WorkCalendar.load()  # the registry's: deliveries are on time or late as it will judge them
    order = {item.code: index for index, item in enumerate(listing.items)}
    for uscc in usccs:
        records = _Builder(profile_for(uscc, seed, as_of), seed, listing, as_of, calendar).build()
        records.sort(key=lambda r: (order[r["item_code"]], r["event_time"], r["source_version"]))
        for record in records:
            del record["_index"]
            yield record


def main() -> None:
    """Print a per-item summary of what the generator makes for the given codes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("usccs", nargs="+")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    counts = Counter(record["item_code"] for record in generate(args.usccs, args.seed))
    for code, count in sorted(counts.items()):
        print(f"{code:32} {count:6}")


if __name__ == "__main__":
    main()
