"""What the scoring use cases need from storage and from other services, as plain types and protocols.

Storage contracts (every backend passes the same conformance suite):
- ``evaluations.add`` appends to an enterprise's history, current as of its Asia/Shanghai day; ``current`` is the
  newest one; ``confirm`` moves an evaluation's day on (never back) when a day's re-check found it unchanged.
- ``enterprises.stale`` lists active enterprises whose records were last evaluated before an instant.
- ``alerts.add`` returns None when the institution already has an alert with that key (replayed record change).
- ``alerts.after`` returns an institution's deliverable alerts with a cursor above ``cursor``, in cursor order.
- ``cursors`` hold how far each consumed stream got; ``save`` sets it (0 after a compaction lists again).
- ``disputes`` hold one row per (enterprise, objection); ``put`` inserts or replaces it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from types import TracebackType
from typing import Protocol, Self

from services.scoring.domain.disputes import NO_DISPUTE, DisputeView, EvaluationDispute
from services.scoring.domain.engine import Evaluation
from services.scoring.domain.records import Record, RecordRef


@dataclass(frozen=True)
class PublishedModel:
    """A model document as published; the current model is the last one published."""

    version: str
    title: str
    document: str
    published_at: datetime


@dataclass(frozen=True)
class StoredEvaluation:
    """An evaluation as kept in an enterprise's history."""

    evaluation_id: int
    uscc: str
    evaluation: Evaluation
    evaluated_at: datetime
    record_revision: int
    # as_of is the Asia/Shanghai day the evaluation is current for: the day it was made, moved on by each day's
    # re-check that found nothing in it changed (None only for one never read back from a store)
    as_of: date | None = None
    # dispute is what objections on it show now (filled in by the use cases, never stored with the evaluation).
    dispute: DisputeView = NO_DISPUTE


@dataclass(frozen=True)
class ScenarioModelDoc:
    """An institution's scenario model (a scenario document over a base model version)."""

    institution_id: str
    scenario_id: str
    base_version: str
    document: str
    created_at: datetime
    dropped: Mapping[str, str] = field(default_factory=dict)


class LoanStatus(StrEnum):
    OUTSTANDING = "OUTSTANDING"
    CLOSED = "CLOSED"


@dataclass(frozen=True)
class LoanEntry:
    """One loan of the register with its repayments."""

    loan_id: str
    institution_id: str
    uscc: str
    platform_id: str
    city: str
    amount_yuan: Decimal
    term_months: int
    credit: bool
    first_loan: bool
    small_micro: bool
    granted_on: date
    status: LoanStatus
    created_at: datetime
    repayments: tuple[tuple[date, Decimal], ...] = ()
    # closed_on is the day a loan was closed (written off or settled, or repaid in full); None while outstanding
    closed_on: date | None = None

    @property
    def outstanding_yuan(self) -> Decimal:
        return max(self.amount_yuan - sum((a for _, a in self.repayments), Decimal(0)), Decimal(0))


@dataclass(frozen=True)
class Alert:
    """A risk event for one lending institution; ``cursor`` is its position in the institution's stream."""

    cursor: int
    institution_id: str
    uscc: str
    loan_id: str
    risk: str
    severity: str
    reason: str
    evidence: tuple[RecordRef, ...]
    flags: tuple[str, ...]
    key: str
    created_at: datetime


@dataclass(frozen=True)
class EnterpriseState:
    """An enterprise as scoring knows it: registered or gone, and its records as last processed."""

    uscc: str
    platform_id: str
    active: bool
    records: tuple[Record, ...] = ()
    records_as_of: datetime | None = None
    record_revision: int = 0


class Models(Protocol):
    def add(self, model: PublishedModel) -> bool:
        """Publish ``model``; False, storing nothing, when its version is stored already (on PostgreSQL after
        waiting for a transaction storing it concurrently to end)."""
        ...

    def get(self, version: str) -> PublishedModel | None: ...

    def current(self) -> PublishedModel | None: ...


class Enterprises(Protocol):
    def get(self, uscc: str, *, for_update: bool = False) -> EnterpriseState | None:
        """The enterprise's state; with ``for_update``, locked until the transaction ends (writers on one enterprise
        queue up, so two replicas handling the same change cannot both act on it)."""
        ...

    def add(self, state: EnterpriseState) -> bool:
        """Store the state of an enterprise not stored yet; False, writing nothing, when it is stored already (on
        PostgreSQL after waiting for a transaction storing it concurrently to end)."""
        ...

    def put(self, state: EnterpriseState) -> None: ...

    def forget_revisions(self) -> None:
        """Set every enterprise's processed record revision to 0 (the registry's revisions started again)."""
        ...

    def active(self, after: str, limit: int) -> list[EnterpriseState]:
        """Active enterprises with a code above ``after``, ordered by code (for batch re-evaluation)."""
        ...

    def stale(self, before: datetime, after: str, limit: int) -> list[EnterpriseState]:
        """Active enterprises whose records were last evaluated (``records_as_of``) before ``before`` or never, with a
        code above ``after``, ordered by code (for the day's re-check)."""
        ...

    def checked(self, uscc: str, at: datetime) -> None:
        """Set the enterprise's ``records_as_of`` to ``at``, leaving its records and revision as they are."""
        ...


class Evaluations(Protocol):
    def add(self, uscc: str, evaluation: Evaluation, at: datetime, record_revision: int) -> StoredEvaluation:
        """Append; the evaluation is current as of ``at``'s Asia/Shanghai day."""
        ...

    def confirm(self, evaluation_id: int, day: date) -> None:
        """The evaluation is still current on ``day`` (its day is never moved back)."""
        ...

    def current(self, uscc: str) -> StoredEvaluation | None: ...

    def current_basis(self, usccs: list[str]) -> dict[str, tuple[str, int]]:
        """(model version, record revision) of each enterprise's current evaluation; none for one never evaluated."""
        ...

    def get(self, uscc: str, evaluation_id: int) -> StoredEvaluation | None:
        """The evaluation with that id when it is ``uscc``'s; None otherwise."""
        ...

    def history(self, uscc: str, before_id: int | None, limit: int) -> list[StoredEvaluation]:
        """Newest first; only ids below ``before_id`` when given."""
        ...


class EvaluationDisputes(Protocol):
    def get(self, uscc: str, objection: str, *, for_update: bool = False) -> EvaluationDispute | None:
        """The objection's dispute; with ``for_update``, locked until the transaction ends (two deliveries of one
        outcome queue up, and the later reads what the first stored)."""
        ...

    def put(self, dispute: EvaluationDispute) -> None: ...

    def for_enterprise(self, uscc: str) -> list[EvaluationDispute]: ...


class ScenarioModels(Protocol):
    def get(self, institution_id: str, scenario_id: str) -> ScenarioModelDoc | None: ...

    def put(self, scenario: ScenarioModelDoc) -> None: ...


class Loans(Protocol):
    def get(self, loan_id: str) -> LoanEntry | None: ...

    def add(self, loan: LoanEntry) -> None: ...

    def save(self, loan: LoanEntry) -> None:
        """Store a loan's status and repayments (it was read in this unit of work)."""
        ...

    def outstanding_for(self, uscc: str, *, for_update: bool = False) -> list[LoanEntry]:
        """The enterprise's outstanding loans; with ``for_update``, locked until the transaction ends (a repayment
        closing one waits, or, if it committed first, the loan is not returned)."""
        ...

    def all(self) -> list[LoanEntry]: ...

    def borrowers_of(self, institution_id: str) -> set[str]:
        """The USCCs the institution has reported a loan to (outstanding or not)."""
        ...


class Alerts(Protocol):
    def add(self, alert: Alert, deliverable: bool) -> Alert | None:
        """Store an alert (cursor assigned here); None when the institution has one with that key already."""
        ...

    def after(self, institution_id: str, cursor: int, limit: int) -> list[Alert]: ...

    def acked(self, institution_id: str) -> int: ...

    def last_cursor(self, institution_id: str) -> int:
        """The highest cursor of the institution's alerts, withheld ones included (0 when it has none)."""
        ...

    def ack(self, institution_id: str, up_to: int) -> int:
        """Raise the acknowledged cursor to ``up_to`` (never lower it); returns the acknowledged cursor."""
        ...


class Cursors(Protocol):
    def load(self, stream: str) -> int: ...

    def save(self, stream: str, revision: int) -> None: ...


class Requests(Protocol):
    """Idempotency: what a mutation with a request id produced, and the fingerprint of its request."""

    def get(self, method: str, request_id: str) -> tuple[str, str] | None:
        """(fingerprint, result key) stored for the request id, or None."""
        ...

    def put(self, method: str, request_id: str, fingerprint: str, result: str) -> None: ...


class Platforms(Protocol):
    def region(self, platform_id: str) -> str | None: ...

    def put(self, platform_id: str, region_code: str) -> None: ...


class ScoringUnitOfWork(Protocol):
    """One transaction over the scoring store; rolls back unless committed."""

    @property
    def models(self) -> Models: ...

    @property
    def enterprises(self) -> Enterprises: ...

    @property
    def evaluations(self) -> Evaluations: ...

    @property
    def disputes(self) -> EvaluationDisputes: ...

    @property
    def scenarios(self) -> ScenarioModels: ...

    @property
    def loans(self) -> Loans: ...

    @property
    def alerts(self) -> Alerts: ...

    @property
    def cursors(self) -> Cursors: ...

    @property
    def requests(self) -> Requests: ...

    @property
    def platforms(self) -> Platforms: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None: ...

    def commit(self) -> None: ...


@dataclass(frozen=True)
class RecordPage:
    """An enterprise's current records and the record revision they reflect."""

    records: Sequence[Record]
    revision: int


class RecordSource(Protocol):
    """The registry's records of one enterprise (personal fields masked: scoring needs none)."""

    def enterprise_records(self, uscc: str) -> RecordPage | None:
        """None when the registry does not know the enterprise."""
        ...


class Decision(StrEnum):
    ALLOW = "ALLOW"
    DENY = "DENY"


@dataclass(frozen=True)
class MonitoringDecision:
    """A POST_LOAN_MONITORING check's answer: the decision and, for an ALLOW, how far back the data may reach under
    the matching authorization (``data_since``; None when consent gave none)."""

    decision: Decision
    data_since: datetime | None = None


class MonitoringConsent(Protocol):
    """Whether an institution holds a POST_LOAN_MONITORING authorization from the enterprise for these items."""

    def check(self, institution_id: str, uscc: str, items: Sequence[str]) -> MonitoringDecision:
        """Raises Unavailable when the decision cannot be made (the caller fails closed)."""
        ...
