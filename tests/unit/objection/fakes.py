"""In-memory fakes of the objection domain's ports, and a small world to file objections in."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, timezone
from typing import Any

from services.kit.workdays import WorkCalendar, YearCalendar, library_years
from services.objection.domain import (
    EvaluationInfo,
    EvaluationRef,
    FileObjection,
    Filer,
    FilerKind,
    Objection,
    ObjectionPolicy,
    Outcome,
    Recipient,
    RecipientKind,
    RecordInfo,
    RecordRef,
    Target,
    file_objection,
)

CST = timezone(timedelta(hours=8))
# Valid GB 32100 codes (check digits by python-stdnum): filing refuses any other.
ACME = "91610000MA6TG0001A"
OTHER = "91610000MA6TG0002D"
PLATFORM = "platforms/xian"
BANK = "institutions/bank-a"
TAX = "departments/tax"
MARKET = "departments/market"


def cst(year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=CST)


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class FakeRecords:
    """Record versions by id; owner is the enterprise of the latest version."""

    def __init__(self) -> None:
        self.versions: dict[str, dict[int, RecordInfo]] = {}

    def add(self, record_id: str, version: int, enterprise: str, item: str, provider: str) -> RecordRef:
        info = RecordInfo(
            record_id=record_id,
            version=version,
            enterprise=enterprise,
            item=item,
            provider=provider,
            content_sha256=digest(f"{record_id}/{version}"),
        )
        self.versions.setdefault(record_id, {})[version] = info
        return RecordRef(record_id, version)

    def owner(self, record_id: str) -> str | None:
        versions = self.versions.get(record_id)
        return versions[max(versions)].enterprise if versions else None

    def version(self, record_id: str, version: int) -> RecordInfo | None:
        return self.versions.get(record_id, {}).get(version)


class FakeEvaluations:
    def __init__(self) -> None:
        self.by_id: dict[str, EvaluationInfo] = {}

    def add(self, evaluation_id: str, enterprise: str) -> EvaluationRef:
        self.by_id[evaluation_id] = EvaluationInfo(evaluation_id, enterprise)
        return EvaluationRef(evaluation_id)

    def evaluation(self, evaluation_id: str) -> EvaluationInfo | None:
        return self.by_id.get(evaluation_id)


class FakeDepartments:
    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping

    def department_for(self, item: str) -> str | None:
        return self.mapping.get(item)


@dataclass(frozen=True)
class Disclosure:
    recipient: Recipient
    enterprise: str
    item: str
    at: datetime
    record_id: str | None = None  # None: a derived product, which names no record


class FakeDisclosures:
    """The evidence log of disclosures, as a list."""

    def __init__(self) -> None:
        self.log: list[Disclosure] = []

    def disclose(
        self, recipient: Recipient, enterprise: str, item: str, at: datetime, record_id: str | None = None
    ) -> None:
        self.log.append(Disclosure(recipient, enterprise, item, at, record_id))

    def has_received(self, recipient: Recipient, enterprise: str, before: datetime) -> bool:
        return any(d.recipient == recipient and d.enterprise == enterprise and d.at < before for d in self.log)

    def recipients(
        self, enterprise: str, item: str, until: datetime, record_id: str | None = None
    ) -> Iterator[Recipient]:
        seen: list[Recipient] = []
        for d in self.log:
            if (d.enterprise, d.item) != (enterprise, item) or d.at > until or d.recipient in seen:
                continue
            if record_id is None or d.record_id == record_id:
                seen.append(d.recipient)
        return iter(seen)


class InMemoryObjections:
    """A repository fake; also the OpenDisputes port, as the real store would be."""

    def __init__(self) -> None:
        self.by_id: dict[str, Objection] = {}

    def add(self, objection: Objection) -> None:
        self.by_id[objection.id] = objection

    def __iter__(self) -> Iterator[Objection]:
        return iter(self.by_id.values())

    def open_objection_on(self, target: Target) -> str | None:
        for objection in self.by_id.values():
            if objection.is_open and any(line.target.key == target.key for line in objection.lines):
                return objection.id
        return None


def calendar_with(extra: Iterable[YearCalendar] = ()) -> WorkCalendar:
    """The library's years up to 2026 (so 2027 stays unknown after an upgrade), plus extra synthetic years."""
    years = {y: c for y, c in library_years().items() if y <= 2026}
    for year in extra:
        years[year.year] = year
    return WorkCalendar(years.values())


# A made-up 2027 (only 1 January off, no make-up days), standing in for a data file loaded after the fact.
SYNTHETIC_2027 = YearCalendar(
    year=2027, holidays=frozenset({date(2027, 1, 1)}), makeup_workdays=frozenset(), source="synthetic test year"
)


@dataclass
class World:
    """Fakes wired together, with an enterprise that owns two records of two items and one evaluation."""

    records: FakeRecords = field(default_factory=FakeRecords)
    evaluations: FakeEvaluations = field(default_factory=FakeEvaluations)
    departments: FakeDepartments = field(
        default_factory=lambda: FakeDepartments({"tax.arrears": TAX, "market.penalty": MARKET})
    )
    disclosures: FakeDisclosures = field(default_factory=FakeDisclosures)
    objections: InMemoryObjections = field(default_factory=InMemoryObjections)
    calendar: WorkCalendar = field(default_factory=calendar_with)
    policy: ObjectionPolicy = field(default_factory=ObjectionPolicy)
    seq: int = 0

    def __post_init__(self) -> None:
        self.tax_record = self.records.add("rec-tax-1", 1, ACME, "tax.arrears", TAX)
        self.market_record = self.records.add("rec-mkt-1", 3, ACME, "market.penalty", MARKET)
        self.foreign_record = self.records.add("rec-other-1", 1, OTHER, "tax.arrears", TAX)
        self.evaluation = self.evaluations.add("eval-1", ACME)

    def command(self, **overrides: Any) -> FileObjection:
        self.seq += 1
        base = FileObjection(
            objection_id=f"obj-{self.seq}",
            platform=PLATFORM,
            filer=Filer(FilerKind.ENTERPRISE, ACME),
            enterprise=ACME,
            reasons="the arrears were paid in full",
            received_at=cst(2025, 3, 10, 9),
            forwarded_at=cst(2025, 3, 11, 9),
            records=(self.tax_record,),
            attachments=(digest("receipt.pdf"),),
        )
        return replace(base, **overrides)

    def file(self, **overrides: Any) -> Objection:
        objection = file_objection(
            self.command(**overrides),
            records=self.records,
            evaluations=self.evaluations,
            disclosures=self.disclosures,
            open_disputes=self.objections,
            departments=self.departments,
            calendar=self.calendar,
            policy=self.policy,
        )
        self.objections.add(objection)
        return objection

    def answer(
        self,
        objection: Objection,
        target: Target,
        outcome: Outcome,
        at: datetime,
        *,
        department: str | None = None,
        corrected_version: int | None = None,
    ) -> None:
        """Answer as the department the target is routed to, unless another department is named."""
        routed_to = next((line.department for line in objection.lines if line.target == target), None)
        objection.answer(
            department=department or routed_to or "departments/none",
            target=target,
            outcome=outcome,
            at=at,
            records=self.records,
            disclosures=self.disclosures,
            corrected_version=corrected_version,
        )


def bank() -> Recipient:
    return Recipient(RecipientKind.INSTITUTION, BANK)


def platform(name: str = PLATFORM) -> Recipient:
    return Recipient(RecipientKind.PLATFORM, name)
