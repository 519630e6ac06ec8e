"""SQLAlchemy implementations of the scoring service's ports, and its unit of work."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from services.kit.db import SqlUnitOfWork, insert_if_absent
from services.kit.workdays import local_date
from services.scoring.domain.disputes import DisputeOutcome, EvaluationDispute
from services.scoring.domain.engine import Contribution, Evaluation
from services.scoring.domain.ports import (
    Alert,
    EnterpriseState,
    LoanEntry,
    LoanStatus,
    PublishedModel,
    ScenarioModelDoc,
    StoredEvaluation,
)
from services.scoring.domain.records import Record, RecordRef
from services.scoring.store.models import (
    AlertAckRow,
    AlertRow,
    CursorRow,
    EnterpriseRow,
    EvaluationDisputeRow,
    EvaluationRow,
    LoanRow,
    ModelRow,
    PlatformRow,
    RequestRow,
    ScenarioModelRow,
)

# ---------------------------------------------------------------------- JSON codecs


def _value(v: object) -> Any:
    if isinstance(v, bool | int | str) or v is None:
        return v
    if isinstance(v, Decimal):
        return {"d": str(v)}
    if isinstance(v, datetime):
        return {"t": v.isoformat()}
    if isinstance(v, date):
        return {"day": v.isoformat()}
    if isinstance(v, float):
        return {"f": repr(v)}
    raise TypeError(f"cannot store a {type(v).__name__} field value")


def _unvalue(v: Any) -> object:
    if isinstance(v, dict):
        if "d" in v:
            return Decimal(v["d"])
        if "t" in v:
            return datetime.fromisoformat(v["t"])
        if "day" in v:
            return date.fromisoformat(v["day"])
        if "f" in v:
            return float(v["f"])
    return v


def encode_records(records: tuple[Record, ...]) -> str:
    return json.dumps([_encoded(r) for r in records], ensure_ascii=False)


def _encoded(r: Record) -> dict[str, object]:
    d: dict[str, object] = {
        "id": r.record_id,
        "item": r.item_code,
        "fields": {k: _value(v) for k, v in r.fields.items()},
        "at": r.event_time.isoformat(),
        "v": r.version,
        "disputed": r.in_dispute,
    }
    # Written whenever the end is known, null for no end: a row without it was stored before ends were kept, or read
    # from a registry of the previous release during a rolling upgrade (not known, so read again).
    if r.publicity_known:
        d["until"] = None if r.publicity_end is None else r.publicity_end.isoformat()
    return d


def decode_records(text: str) -> tuple[Record, ...]:
    return tuple(
        Record(
            d["id"],
            d["item"],
            {k: _unvalue(v) for k, v in d["fields"].items()},
            datetime.fromisoformat(d["at"]),
            d["v"],
            d["disputed"],
            None if d.get("until") is None else datetime.fromisoformat(d["until"]),
            "until" in d,
        )
        for d in json.loads(text)
    )


def _refs(refs: tuple[RecordRef, ...]) -> list[list[object]]:
    return [
        [r.record_id, r.version, r.item_code, r.in_dispute, None if r.event_time is None else r.event_time.isoformat()]
        for r in refs
    ]


def _unref(a: Any, b: Any, c: Any, d: Any, at: Any = None) -> RecordRef:
    # Rows written before event times were kept hold four fields: read with no event time (counted as too old).
    return RecordRef(str(a), int(b), str(c), bool(d), None if at is None else datetime.fromisoformat(at))


def _unrefs(data: list[list[Any]]) -> tuple[RecordRef, ...]:
    return tuple(_unref(*r) for r in data)


def encode_evaluation(e: Evaluation) -> str:
    return json.dumps(
        {
            "raw": e.raw_score,
            "capped": e.capped,
            "contributions": [
                [
                    c.indicator,
                    c.dimension,
                    c.value,
                    c.bin,
                    c.points,
                    c.weight,
                    c.contribution,
                    c.missing,
                    c.excluded,
                    _refs(c.evidence),
                    c.disputed,
                ]
                for c in e.contributions
            ],
        },
        ensure_ascii=False,
    )


def decode_evaluation(row: EvaluationRow) -> Evaluation:
    data = json.loads(row.payload)
    parts = tuple(
        Contribution(a, b, c, d, e, f, g, h, i, _unrefs(j), k)
        for a, b, c, d, e, f, g, h, i, j, k in data["contributions"]
    )
    return Evaluation(
        row.model_version,
        row.score,
        row.grade,
        float(data["raw"]),
        parts,
        row.coverage,
        tuple(json.loads(row.flags)),
        bool(data["capped"]),
    )


# ---------------------------------------------------------------------- repositories


class SqlModels:
    def __init__(self, session: Session) -> None:
        self.s = session

    @staticmethod
    def _domain(r: ModelRow) -> PublishedModel:
        return PublishedModel(r.version, r.title, r.document, r.published_at)

    def add(self, model: PublishedModel) -> bool:
        # The version is unique: a concurrent publication of it inserts nothing here instead of failing the transaction.
        m = model
        row = {"version": m.version, "title": m.title, "document": m.document, "published_at": m.published_at}
        return insert_if_absent(self.s, ModelRow, row)

    def get(self, version: str) -> PublishedModel | None:
        row = self.s.scalar(select(ModelRow).where(ModelRow.version == version))
        return None if row is None else self._domain(row)

    def current(self) -> PublishedModel | None:
        row = self.s.scalar(select(ModelRow).order_by(ModelRow.seq.desc()).limit(1))
        return None if row is None else self._domain(row)


class SqlEnterprises:
    def __init__(self, session: Session) -> None:
        self.s = session

    @staticmethod
    def _domain(r: EnterpriseRow) -> EnterpriseState:
        return EnterpriseState(
            r.uscc, r.platform_id, r.active, decode_records(r.records_json), r.records_as_of, r.record_revision
        )

    def get(self, uscc: str, *, for_update: bool = False) -> EnterpriseState | None:
        row = self.s.get(EnterpriseRow, uscc, with_for_update=for_update or None)
        return None if row is None else self._domain(row)

    def add(self, state: EnterpriseState) -> bool:
        # Not put's read-then-insert: a row another transaction committed after this one found none to lock would be
        # read and overwritten as if it were the one this transaction examined.
        return insert_if_absent(
            self.s,
            EnterpriseRow,
            {
                "uscc": state.uscc,
                "platform_id": state.platform_id,
                "active": state.active,
                "records_json": encode_records(state.records),
                "records_as_of": state.records_as_of,
                "record_revision": state.record_revision,
            },
        )

    def put(self, state: EnterpriseState) -> None:
        row = self.s.get(EnterpriseRow, state.uscc)
        if row is None:
            row = EnterpriseRow(uscc=state.uscc)
            self.s.add(row)
        row.platform_id = state.platform_id
        row.active = state.active
        row.records_json = encode_records(state.records)
        row.records_as_of = state.records_as_of
        row.record_revision = state.record_revision
        self.s.flush()

    def forget_revisions(self) -> None:
        self.s.execute(update(EnterpriseRow).values(record_revision=0))
        self.s.expire_all()

    def active(self, after: str, limit: int) -> list[EnterpriseState]:
        rows = self.s.scalars(
            select(EnterpriseRow)
            .where(EnterpriseRow.active.is_(True), EnterpriseRow.uscc > after)
            .order_by(EnterpriseRow.uscc)
            .limit(limit)
        )
        return [self._domain(r) for r in rows]

    def stale(self, before: datetime, after: str, limit: int) -> list[EnterpriseState]:
        rows = self.s.scalars(
            select(EnterpriseRow)
            .where(
                EnterpriseRow.active.is_(True),
                or_(EnterpriseRow.records_as_of.is_(None), EnterpriseRow.records_as_of < before),
                EnterpriseRow.uscc > after,
            )
            .order_by(EnterpriseRow.uscc)
            .limit(limit)
        )
        return [self._domain(r) for r in rows]

    def checked(self, uscc: str, at: datetime) -> None:
        # Only the time: rewriting the records' JSON for every enterprise every day would cost for nothing.
        self.s.execute(update(EnterpriseRow).where(EnterpriseRow.uscc == uscc).values(records_as_of=at))
        self.s.expire_all()


def _as_of(r: EvaluationRow) -> date:
    # rows made before the day was kept are current for the day they were made
    return date.fromisoformat(r.as_of) if r.as_of else local_date(r.evaluated_at)


class SqlEvaluations:
    def __init__(self, session: Session) -> None:
        self.s = session

    @staticmethod
    def _domain(r: EvaluationRow) -> StoredEvaluation:
        return StoredEvaluation(r.id, r.uscc, decode_evaluation(r), r.evaluated_at, r.record_revision, _as_of(r))

    def add(self, uscc: str, evaluation: Evaluation, at: datetime, record_revision: int) -> StoredEvaluation:
        row = EvaluationRow(
            uscc=uscc,
            model_version=evaluation.model_version,
            score=evaluation.score,
            grade=evaluation.grade,
            coverage=evaluation.coverage,
            flags=json.dumps(list(evaluation.flags)),
            payload=encode_evaluation(evaluation),
            evaluated_at=at,
            record_revision=record_revision,
            as_of=local_date(at).isoformat(),
        )
        self.s.add(row)
        self.s.flush()
        return self._domain(row)

    def confirm(self, evaluation_id: int, day: date) -> None:
        row = self.s.get(EvaluationRow, evaluation_id)
        if row is not None and _as_of(row) < day:
            row.as_of = day.isoformat()
            self.s.flush()

    def current(self, uscc: str) -> StoredEvaluation | None:
        row = self.s.scalar(
            select(EvaluationRow).where(EvaluationRow.uscc == uscc).order_by(EvaluationRow.id.desc()).limit(1)
        )
        return None if row is None else self._domain(row)

    def current_basis(self, usccs: list[str]) -> dict[str, tuple[str, int]]:
        out: dict[str, tuple[str, int]] = {}
        for i in range(0, len(usccs), 500):  # bound lists stay below the backends' parameter limits
            latest = (
                select(func.max(EvaluationRow.id))
                .where(EvaluationRow.uscc.in_(usccs[i : i + 500]))
                .group_by(EvaluationRow.uscc)
            )
            rows = self.s.execute(
                select(EvaluationRow.uscc, EvaluationRow.model_version, EvaluationRow.record_revision).where(
                    EvaluationRow.id.in_(latest)
                )
            )
            out.update({uscc: (version, revision) for uscc, version, revision in rows})
        return out

    def get(self, uscc: str, evaluation_id: int) -> StoredEvaluation | None:
        row = self.s.get(EvaluationRow, evaluation_id)
        return None if row is None or row.uscc != uscc else self._domain(row)

    def history(self, uscc: str, before_id: int | None, limit: int) -> list[StoredEvaluation]:
        query = select(EvaluationRow).where(EvaluationRow.uscc == uscc)
        if before_id is not None:
            query = query.where(EvaluationRow.id < before_id)
        return [self._domain(r) for r in self.s.scalars(query.order_by(EvaluationRow.id.desc()).limit(limit))]


class SqlEvaluationDisputes:
    def __init__(self, session: Session) -> None:
        self.s = session

    @staticmethod
    def _domain(r: EvaluationDisputeRow) -> EvaluationDispute:
        return EvaluationDispute(
            uscc=r.uscc,
            objection=r.objection,
            evaluation_id=r.evaluation_id,
            opened_at=r.opened_at,
            outcome=DisputeOutcome(r.outcome) if r.outcome else None,
            closed_at=r.closed_at,
            through_evaluation_id=r.through_evaluation_id,
            statement=r.statement,
        )

    def get(self, uscc: str, objection: str, *, for_update: bool = False) -> EvaluationDispute | None:
        row = self.s.get(EvaluationDisputeRow, (uscc, objection), with_for_update=for_update or None)
        return None if row is None else self._domain(row)

    def put(self, dispute: EvaluationDispute) -> None:
        row = self.s.get(EvaluationDisputeRow, (dispute.uscc, dispute.objection))
        if row is None:
            row = EvaluationDisputeRow(uscc=dispute.uscc, objection=dispute.objection)
            self.s.add(row)
        row.evaluation_id = dispute.evaluation_id
        row.opened_at = dispute.opened_at
        row.outcome = dispute.outcome.value if dispute.outcome else None
        row.closed_at = dispute.closed_at
        row.through_evaluation_id = dispute.through_evaluation_id
        row.statement = dispute.statement
        self.s.flush()  # two first deliveries racing meet the primary key here; the loser is retried

    def for_enterprise(self, uscc: str) -> list[EvaluationDispute]:
        rows = self.s.scalars(
            select(EvaluationDisputeRow)
            .where(EvaluationDisputeRow.uscc == uscc)
            .order_by(EvaluationDisputeRow.opened_at, EvaluationDisputeRow.objection)
        )
        return [self._domain(r) for r in rows]


class SqlScenarioModels:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, institution_id: str, scenario_id: str) -> ScenarioModelDoc | None:
        r = self.s.get(ScenarioModelRow, (institution_id, scenario_id))
        if r is None:
            return None
        return ScenarioModelDoc(
            r.institution_id, r.scenario_id, r.base_version, r.document, r.created_at, json.loads(r.dropped)
        )

    def put(self, scenario: ScenarioModelDoc) -> None:
        self.s.add(
            ScenarioModelRow(
                institution_id=scenario.institution_id,
                scenario_id=scenario.scenario_id,
                base_version=scenario.base_version,
                document=scenario.document,
                dropped=json.dumps(dict(scenario.dropped), ensure_ascii=False),
                created_at=scenario.created_at,
            )
        )
        self.s.flush()


class SqlLoans:
    def __init__(self, session: Session) -> None:
        self.s = session
        # Strong references to the rows handed out: optimistic locking needs the version as it was read.
        self._loaded: dict[str, LoanRow] = {}

    def _domain(self, r: LoanRow) -> LoanEntry:
        self._loaded[r.loan_id] = r
        return LoanEntry(
            r.loan_id,
            r.institution_id,
            r.uscc,
            r.platform_id,
            r.city,
            Decimal(r.amount_yuan),
            r.term_months,
            r.credit,
            r.first_loan,
            r.small_micro,
            date.fromisoformat(r.granted_on),
            LoanStatus(r.status),
            r.created_at,
            tuple((date.fromisoformat(d), Decimal(a)) for d, a in json.loads(r.repayments)),
            date.fromisoformat(r.closed_on) if r.closed_on else None,
        )

    @staticmethod
    def _repayments(loan: LoanEntry) -> str:
        return json.dumps([[d.isoformat(), str(a)] for d, a in loan.repayments])

    def get(self, loan_id: str) -> LoanEntry | None:
        row = self.s.get(LoanRow, loan_id)
        return None if row is None else self._domain(row)

    def add(self, loan: LoanEntry) -> None:
        row = LoanRow(
            loan_id=loan.loan_id,
            institution_id=loan.institution_id,
            uscc=loan.uscc,
            platform_id=loan.platform_id,
            city=loan.city,
            amount_yuan=str(loan.amount_yuan),
            term_months=loan.term_months,
            credit=loan.credit,
            first_loan=loan.first_loan,
            small_micro=loan.small_micro,
            granted_on=loan.granted_on.isoformat(),
            status=loan.status.value,
            repayments=self._repayments(loan),
            created_at=loan.created_at,
            closed_on=loan.closed_on.isoformat() if loan.closed_on else None,
        )
        self.s.add(row)
        self.s.flush()
        self._loaded[loan.loan_id] = row

    def save(self, loan: LoanEntry) -> None:
        row = self._loaded[loan.loan_id]
        row.status = loan.status.value
        row.repayments = self._repayments(loan)
        row.closed_on = loan.closed_on.isoformat() if loan.closed_on else None
        self.s.flush()

    def outstanding_for(self, uscc: str, *, for_update: bool = False) -> list[LoanEntry]:
        query = (
            select(LoanRow)
            .where(LoanRow.uscc == uscc, LoanRow.status == LoanStatus.OUTSTANDING.value)
            .order_by(LoanRow.loan_id)
        )
        rows = self.s.scalars(query.with_for_update() if for_update else query)
        return [self._domain(r) for r in rows]

    def all(self) -> list[LoanEntry]:
        return [self._domain(r) for r in self.s.scalars(select(LoanRow).order_by(LoanRow.loan_id))]

    def borrowers_of(self, institution_id: str) -> set[str]:
        return set(self.s.scalars(select(LoanRow.uscc).where(LoanRow.institution_id == institution_id).distinct()))


class SqlAlerts:
    def __init__(self, session: Session) -> None:
        self.s = session

    @staticmethod
    def _domain(r: AlertRow) -> Alert:
        return Alert(
            r.id,
            r.institution_id,
            r.uscc,
            r.loan_id,
            r.risk,
            r.severity,
            r.reason,
            _unrefs(json.loads(r.evidence)),
            tuple(json.loads(r.flags)),
            r.key,
            r.created_at,
        )

    def _locked_ack(self, institution_id: str) -> AlertAckRow:
        """The institution's ack row, made if missing, locked until the transaction ends."""
        row = self.s.get(AlertAckRow, institution_id, with_for_update=True)
        if row is None:
            insert_if_absent(self.s, AlertAckRow, {"institution_id": institution_id, "acked_cursor": 0})
            row = self.s.get(AlertAckRow, institution_id, with_for_update=True)
            assert row is not None
        return row

    def add(self, alert: Alert, deliverable: bool) -> Alert | None:
        # Alert ids come from a sequence when inserted, not when committed: two transactions adding alerts for one
        # institution at once could commit a lower id after a higher one, past which a WatchAlerts cursor had already
        # moved (never delivered). Holding the institution's ack row locked from before the insert to the commit makes
        # its alerts visible in id order.
        self._locked_ack(alert.institution_id)
        clash = self.s.scalar(
            select(AlertRow.id).where(AlertRow.institution_id == alert.institution_id, AlertRow.key == alert.key)
        )
        if clash is not None:
            return None
        row = AlertRow(
            institution_id=alert.institution_id,
            uscc=alert.uscc,
            loan_id=alert.loan_id,
            risk=alert.risk,
            severity=alert.severity,
            reason=alert.reason,
            evidence=json.dumps(_refs(alert.evidence)),
            flags=json.dumps(list(alert.flags)),
            key=alert.key,
            deliverable=deliverable,
            created_at=alert.created_at,
        )
        self.s.add(row)
        self.s.flush()  # a concurrent writer of the same key fails on the unique constraint and retries
        return self._domain(row)

    def after(self, institution_id: str, cursor: int, limit: int) -> list[Alert]:
        rows = self.s.scalars(
            select(AlertRow)
            .where(AlertRow.institution_id == institution_id, AlertRow.id > cursor, AlertRow.deliverable.is_(True))
            .order_by(AlertRow.id)
            .limit(limit)
        )
        return [self._domain(r) for r in rows]

    def acked(self, institution_id: str) -> int:
        row = self.s.get(AlertAckRow, institution_id)
        return 0 if row is None else row.acked_cursor

    def last_cursor(self, institution_id: str) -> int:
        return self.s.scalar(select(func.max(AlertRow.id)).where(AlertRow.institution_id == institution_id)) or 0

    def ack(self, institution_id: str, up_to: int) -> int:
        row = self._locked_ack(institution_id)
        row.acked_cursor = max(row.acked_cursor, up_to)
        self.s.flush()
        return row.acked_cursor


class SqlCursors:
    def __init__(self, session: Session) -> None:
        self.s = session

    def load(self, stream: str) -> int:
        row = self.s.get(CursorRow, stream)
        return 0 if row is None else row.revision

    def save(self, stream: str, revision: int) -> None:
        row = self.s.get(CursorRow, stream)
        if row is None:
            self.s.add(CursorRow(stream=stream, revision=revision))
        else:
            row.revision = revision
        self.s.flush()


class SqlRequests:
    def __init__(self, session: Session) -> None:
        self.s = session

    def get(self, method: str, request_id: str) -> tuple[str, str] | None:
        row = self.s.get(RequestRow, (method, request_id))
        return None if row is None else (row.fingerprint, row.result)

    def put(self, method: str, request_id: str, fingerprint: str, result: str) -> None:
        self.s.add(RequestRow(method=method, request_id=request_id, fingerprint=fingerprint, result=result))
        self.s.flush()


class SqlPlatforms:
    def __init__(self, session: Session) -> None:
        self.s = session

    def region(self, platform_id: str) -> str | None:
        row = self.s.get(PlatformRow, platform_id)
        return None if row is None else row.region_code

    def put(self, platform_id: str, region_code: str) -> None:
        row = self.s.get(PlatformRow, platform_id)
        if row is None:
            self.s.add(PlatformRow(platform_id=platform_id, region_code=region_code))
        else:
            row.region_code = region_code
        self.s.flush()


class SqlScoringUnitOfWork(SqlUnitOfWork):
    """One transaction over every scoring repository."""

    models: SqlModels
    enterprises: SqlEnterprises
    evaluations: SqlEvaluations
    disputes: SqlEvaluationDisputes
    scenarios: SqlScenarioModels
    loans: SqlLoans
    alerts: SqlAlerts
    cursors: SqlCursors
    requests: SqlRequests
    platforms: SqlPlatforms

    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        super().__init__(session_factory)

    def __enter__(self) -> SqlScoringUnitOfWork:
        super().__enter__()
        s = self.session
        self.models = SqlModels(s)
        self.enterprises = SqlEnterprises(s)
        self.evaluations = SqlEvaluations(s)
        self.disputes = SqlEvaluationDisputes(s)
        self.scenarios = SqlScenarioModels(s)
        self.loans = SqlLoans(s)
        self.alerts = SqlAlerts(s)
        self.cursors = SqlCursors(s)
        self.requests = SqlRequests(s)
        self.platforms = SqlPlatforms(s)
        return self
