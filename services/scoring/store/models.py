"""SQLAlchemy models of the scoring service's own database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kit.db import UtcDateTime, service_metadata

# Evaluation and alert ids (and the disputes' references to evaluations) outgrow 32 bits: BIGINT on PostgreSQL, whose
# INTEGER stops at 2**31 - 1; SQLite's INTEGER already holds 64 bits (and only INTEGER makes its rowid the key).
_ID = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    """Every table of the scoring service hangs off this base: one metadata per service."""

    metadata = service_metadata()


metadata = Base.metadata


class ModelRow(Base):
    """Published indicator systems; the one with the highest ``seq`` is current."""

    __tablename__ = "models"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    document: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = mapped_column(UtcDateTime())


class EnterpriseRow(Base):
    """Enterprises as scoring knows them, with their records as last processed (the monitoring baseline)."""

    __tablename__ = "enterprises"

    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, index=True)
    records_json: Mapped[str] = mapped_column(Text)
    # when the records were last evaluated: the day's re-check looks for those before today's start
    records_as_of: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)
    record_revision: Mapped[int] = mapped_column(BigInteger)


class EvaluationRow(Base):
    """Every evaluation made; the highest id of an enterprise is its current one."""

    __tablename__ = "evaluations"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    uscc: Mapped[str] = mapped_column(String(18))
    model_version: Mapped[str] = mapped_column(String(80))
    score: Mapped[int] = mapped_column(Integer)
    grade: Mapped[str] = mapped_column(String(3))
    coverage: Mapped[float] = mapped_column()
    flags: Mapped[str] = mapped_column(String(400))
    payload: Mapped[str] = mapped_column(Text)
    evaluated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    record_revision: Mapped[int] = mapped_column(BigInteger)
    # the Asia/Shanghai day (ISO) it is current for; NULL for rows made before it was kept: evaluated_at's day
    as_of: Mapped[str | None] = mapped_column(String(10), nullable=True)

    __table_args__ = (Index("ix_evaluations_uscc_id", "uscc", "id"),)


class EvaluationDisputeRow(Base):
    """Objections on evaluations: the disputed evaluation, and the outcome, cover and statement once ended."""

    __tablename__ = "evaluation_disputes"

    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    objection: Mapped[str] = mapped_column(String(220), primary_key=True)
    evaluation_id: Mapped[int] = mapped_column(_ID)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    through_evaluation_id: Mapped[int | None] = mapped_column(_ID, nullable=True)
    statement: Mapped[str | None] = mapped_column(Text, nullable=True)


class ScenarioModelRow(Base):
    __tablename__ = "scenario_models"

    institution_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    scenario_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    base_version: Mapped[str] = mapped_column(String(80))
    document: Mapped[str] = mapped_column(Text)
    dropped: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LoanRow(Base):
    __tablename__ = "loans"

    loan_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    institution_id: Mapped[str] = mapped_column(String(40))
    uscc: Mapped[str] = mapped_column(String(18))
    platform_id: Mapped[str] = mapped_column(String(40))
    city: Mapped[str] = mapped_column(String(6))
    amount_yuan: Mapped[str] = mapped_column(String(32))
    term_months: Mapped[int] = mapped_column(Integer)
    credit: Mapped[bool] = mapped_column(Boolean)
    first_loan: Mapped[bool] = mapped_column(Boolean)
    small_micro: Mapped[bool] = mapped_column(Boolean)
    granted_on: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12))
    repayments: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    closed_on: Mapped[str | None] = mapped_column(String(10), nullable=True)

    __table_args__ = (Index("ix_loans_uscc_status", "uscc", "status"),)
    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (optimistic locking: lost updates become ABORTED)


class AlertRow(Base):
    """Alerts; ``id`` is the cursor. Withheld alerts (no POST_LOAN_MONITORING authorization) are kept, never sent."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    institution_id: Mapped[str] = mapped_column(String(40))
    uscc: Mapped[str] = mapped_column(String(18))
    loan_id: Mapped[str] = mapped_column(String(40))
    risk: Mapped[str] = mapped_column(String(60))
    severity: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)
    flags: Mapped[str] = mapped_column(String(400))
    key: Mapped[str] = mapped_column(String(400))
    deliverable: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        UniqueConstraint("institution_id", "key"),
        Index("ix_alerts_institution_id_id", "institution_id", "id"),
    )


class AlertAckRow(Base):
    """How far each institution has acknowledged its alerts."""

    __tablename__ = "alert_acks"

    institution_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    acked_cursor: Mapped[int] = mapped_column(BigInteger)


class CursorRow(Base):
    """How far each consumed stream (the registry's record and participant watches) got."""

    __tablename__ = "stream_cursors"

    stream: Mapped[str] = mapped_column(String(60), primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)


class RequestRow(Base):
    """Idempotency of mutations keyed by request id."""

    __tablename__ = "requests"

    method: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    result: Mapped[str] = mapped_column(String(200))


class PlatformRow(Base):
    """Platforms' region codes (from the participant watch), for loans' city."""

    __tablename__ = "platforms"

    platform_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6))
