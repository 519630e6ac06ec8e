"""In-memory fakes of the scoring ports, for use-case tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import TracebackType
from typing import Self

from services.kit.workdays import local_date
from services.scoring.domain.disputes import EvaluationDispute
from services.scoring.domain.engine import Evaluation
from services.scoring.domain.ports import (
    Alert,
    Decision,
    EnterpriseState,
    LoanEntry,
    LoanStatus,
    MonitoringDecision,
    PublishedModel,
    RecordPage,
    ScenarioModelDoc,
    StoredEvaluation,
)
from services.scoring.domain.records import Record
from services.scoring.domain.risk import ALERT_KEY_MAX


@dataclass
class Store:
    models: list[PublishedModel] = field(default_factory=list)
    enterprises: dict[str, EnterpriseState] = field(default_factory=dict)
    evaluations: list[StoredEvaluation] = field(default_factory=list)
    disputes: dict[tuple[str, str], EvaluationDispute] = field(default_factory=dict)
    scenarios: dict[tuple[str, str], ScenarioModelDoc] = field(default_factory=dict)
    loans: dict[str, LoanEntry] = field(default_factory=dict)
    alerts: list[tuple[Alert, bool]] = field(default_factory=list)
    acks: dict[str, int] = field(default_factory=dict)
    cursors: dict[str, int] = field(default_factory=dict)
    requests: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    platforms: dict[str, str] = field(default_factory=dict)


class FakeModels:
    def __init__(self, s: Store) -> None:
        self.s = s

    def add(self, model: PublishedModel) -> bool:
        if self.get(model.version) is not None:
            return False
        self.s.models.append(model)
        return True

    def get(self, version: str) -> PublishedModel | None:
        return next((m for m in self.s.models if m.version == version), None)

    def current(self) -> PublishedModel | None:
        return self.s.models[-1] if self.s.models else None


class FakeEnterprises:
    def __init__(self, s: Store) -> None:
        self.s = s

    def get(self, uscc: str, *, for_update: bool = False) -> EnterpriseState | None:
        return self.s.enterprises.get(uscc)

    def add(self, state: EnterpriseState) -> bool:
        if state.uscc in self.s.enterprises:
            return False
        self.s.enterprises[state.uscc] = state
        return True

    def put(self, state: EnterpriseState) -> None:
        self.s.enterprises[state.uscc] = state

    def forget_revisions(self) -> None:
        for uscc, state in list(self.s.enterprises.items()):
            self.s.enterprises[uscc] = replace(state, record_revision=0)

    def active(self, after: str, limit: int) -> list[EnterpriseState]:
        return sorted((e for e in self.s.enterprises.values() if e.active and e.uscc > after), key=lambda e: e.uscc)[
            :limit
        ]

    def stale(self, before: datetime, after: str, limit: int) -> list[EnterpriseState]:
        return [
            e
            for e in self.active(after, len(self.s.enterprises))
            if e.records_as_of is None or e.records_as_of < before
        ][:limit]

    def checked(self, uscc: str, at: datetime) -> None:
        if uscc in self.s.enterprises:
            self.s.enterprises[uscc] = replace(self.s.enterprises[uscc], records_as_of=at)


class FakeEvaluations:
    def __init__(self, s: Store) -> None:
        self.s = s

    def add(self, uscc: str, evaluation: Evaluation, at: datetime, record_revision: int) -> StoredEvaluation:
        stored = StoredEvaluation(len(self.s.evaluations) + 1, uscc, evaluation, at, record_revision, local_date(at))
        self.s.evaluations.append(stored)
        return stored

    def confirm(self, evaluation_id: int, day: date) -> None:
        for i, e in enumerate(self.s.evaluations):
            if e.evaluation_id == evaluation_id and e.as_of is not None and e.as_of < day:
                self.s.evaluations[i] = replace(e, as_of=day)

    def current(self, uscc: str) -> StoredEvaluation | None:
        return next((e for e in reversed(self.s.evaluations) if e.uscc == uscc), None)

    def current_basis(self, usccs: list[str]) -> dict[str, tuple[str, int]]:
        current = {u: self.current(u) for u in usccs}
        return {u: (e.evaluation.model_version, e.record_revision) for u, e in current.items() if e is not None}

    def get(self, uscc: str, evaluation_id: int) -> StoredEvaluation | None:
        return next((e for e in self.s.evaluations if e.evaluation_id == evaluation_id and e.uscc == uscc), None)

    def history(self, uscc: str, before_id: int | None, limit: int) -> list[StoredEvaluation]:
        rows = [e for e in reversed(self.s.evaluations) if e.uscc == uscc]
        return [e for e in rows if before_id is None or e.evaluation_id < before_id][:limit]


class FakeDisputes:
    def __init__(self, s: Store) -> None:
        self.s = s

    def get(self, uscc: str, objection: str, *, for_update: bool = False) -> EvaluationDispute | None:
        return self.s.disputes.get((uscc, objection))

    def put(self, dispute: EvaluationDispute) -> None:
        self.s.disputes[(dispute.uscc, dispute.objection)] = dispute

    def for_enterprise(self, uscc: str) -> list[EvaluationDispute]:
        return sorted((d for d in self.s.disputes.values() if d.uscc == uscc), key=lambda d: (d.opened_at, d.objection))


class FakeScenarios:
    def __init__(self, s: Store) -> None:
        self.s = s

    def get(self, institution_id: str, scenario_id: str) -> ScenarioModelDoc | None:
        return self.s.scenarios.get((institution_id, scenario_id))

    def put(self, scenario: ScenarioModelDoc) -> None:
        self.s.scenarios[(scenario.institution_id, scenario.scenario_id)] = scenario


class FakeLoans:
    def __init__(self, s: Store) -> None:
        self.s = s

    def get(self, loan_id: str) -> LoanEntry | None:
        return self.s.loans.get(loan_id)

    def add(self, loan: LoanEntry) -> None:
        self.s.loans[loan.loan_id] = loan

    def save(self, loan: LoanEntry) -> None:
        self.s.loans[loan.loan_id] = loan

    def outstanding_for(self, uscc: str, *, for_update: bool = False) -> list[LoanEntry]:
        return [x for x in self.s.loans.values() if x.uscc == uscc and x.status is LoanStatus.OUTSTANDING]

    def all(self) -> list[LoanEntry]:
        return list(self.s.loans.values())

    def borrowers_of(self, institution_id: str) -> set[str]:
        return {x.uscc for x in self.s.loans.values() if x.institution_id == institution_id}


class FakeAlerts:
    def __init__(self, s: Store) -> None:
        self.s = s

    def add(self, alert: Alert, deliverable: bool) -> Alert | None:
        # as the store's key column, which refuses a longer key (PostgreSQL; SQLite would keep it)
        assert len(alert.key) <= ALERT_KEY_MAX, f"an alert key of {len(alert.key)} characters does not fit the store"
        if any(a.institution_id == alert.institution_id and a.key == alert.key for a, _ in self.s.alerts):
            return None
        stored = replace(alert, cursor=len(self.s.alerts) + 1)
        self.s.alerts.append((stored, deliverable))
        return stored

    def after(self, institution_id: str, cursor: int, limit: int) -> list[Alert]:
        return [a for a, ok in self.s.alerts if ok and a.institution_id == institution_id and a.cursor > cursor][:limit]

    def acked(self, institution_id: str) -> int:
        return self.s.acks.get(institution_id, 0)

    def last_cursor(self, institution_id: str) -> int:
        return max((a.cursor for a, _ in self.s.alerts if a.institution_id == institution_id), default=0)

    def ack(self, institution_id: str, up_to: int) -> int:
        self.s.acks[institution_id] = max(self.s.acks.get(institution_id, 0), up_to)
        return self.s.acks[institution_id]


class FakeCursors:
    def __init__(self, s: Store) -> None:
        self.s = s

    def load(self, stream: str) -> int:
        return self.s.cursors.get(stream, 0)

    def save(self, stream: str, revision: int) -> None:
        self.s.cursors[stream] = revision


class FakeRequests:
    def __init__(self, s: Store) -> None:
        self.s = s

    def get(self, method: str, request_id: str) -> tuple[str, str] | None:
        return self.s.requests.get((method, request_id))

    def put(self, method: str, request_id: str, fingerprint: str, result: str) -> None:
        self.s.requests[(method, request_id)] = (fingerprint, result)


class FakePlatforms:
    def __init__(self, s: Store) -> None:
        self.s = s

    def region(self, platform_id: str) -> str | None:
        return self.s.platforms.get(platform_id)

    def put(self, platform_id: str, region_code: str) -> None:
        self.s.platforms[platform_id] = region_code


class FakeUnitOfWork:
    """Commits by swapping in a working copy; without commit nothing changes (like the SQL unit of work)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.committed = False

    def __enter__(self) -> Self:
        import copy

        self.work = copy.deepcopy(self.store)
        w = self.work
        self.models, self.enterprises, self.evaluations = FakeModels(w), FakeEnterprises(w), FakeEvaluations(w)
        self.scenarios, self.loans, self.alerts = FakeScenarios(w), FakeLoans(w), FakeAlerts(w)
        self.cursors, self.requests, self.platforms = FakeCursors(w), FakeRequests(w), FakePlatforms(w)
        self.disputes = FakeDisputes(w)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        return None

    def commit(self) -> None:
        self.store.__dict__.update(self.work.__dict__)
        self.committed = True


@dataclass
class FakeRecordSource:
    records: dict[str, list[Record]] = field(default_factory=dict)
    revision: int = 0
    calls: int = 0

    def add(self, uscc: str, record: Record) -> int:
        self.records.setdefault(uscc, []).append(record)
        self.revision += 1
        return self.revision

    def enterprise_records(self, uscc: str) -> RecordPage | None:
        self.calls += 1
        return RecordPage(list(self.records.get(uscc, [])), self.revision)


@dataclass
class FakeConsent:
    """ALLOW for the (institution, enterprise) pairs in ``allowed``, with the pair's ``data_since`` when one is set."""

    allowed: set[tuple[str, str]] = field(default_factory=set)
    data_since: dict[tuple[str, str], datetime] = field(default_factory=dict)
    asked: list[tuple[str, str, tuple[str, ...]]] = field(default_factory=list)

    def check(self, institution_id: str, uscc: str, items: Sequence[str]) -> MonitoringDecision:
        self.asked.append((institution_id, uscc, tuple(items)))
        if (institution_id, uscc) not in self.allowed:
            return MonitoringDecision(Decision.DENY)
        return MonitoringDecision(Decision.ALLOW, self.data_since.get((institution_id, uscc)))
