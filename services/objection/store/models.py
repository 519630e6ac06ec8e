"""SQLAlchemy models of the objection service's own database."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kit.db import UtcDateTime, service_metadata
from services.kit.evidence.schema import add_evidence_tables

# Outbox and notice ids outgrow 32 bits (both are kept for good): BIGINT on PostgreSQL, whose INTEGER stops at
# 2**31 - 1; SQLite's INTEGER already holds 64 bits (and only INTEGER makes its rowid the key).
_ID = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    """Every table of the objection service hangs off this base: one metadata per service."""

    metadata = service_metadata()


class ObjectionRow(Base):
    """One objection; ``version`` is the optimistic lock every change bumps."""

    __tablename__ = "objections"

    objection_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    platform: Mapped[str] = mapped_column(String(200), index=True)
    filer_kind: Mapped[str] = mapped_column(String(16))
    filer_id: Mapped[str] = mapped_column(String(200))
    enterprise: Mapped[str] = mapped_column(String(200), index=True)
    reasons: Mapped[str] = mapped_column(Text)
    # attachments is a JSON list of hex SHA-256 digests.
    attachments: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    forwarded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    handling_days: Mapped[int] = mapped_column(Integer)
    forward_timeliness: Mapped[str] = mapped_column(String(16), index=True)
    forward_last_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    forward_due_before: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    # handling_due_before is clock 2's end (extensions included), kept for the overdue query.
    handling_due_before: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    overdue_alerted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # request_fingerprint is what a replay of the filing must repeat exactly.
    request_fingerprint: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy's declarative API)


class LineRow(Base):
    """One disputed target of an objection."""

    __tablename__ = "objection_lines"

    objection_id: Mapped[str] = mapped_column(ForeignKey("objections.objection_id"), primary_key=True)
    idx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    target_key: Mapped[str] = mapped_column(String(260))
    record_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    record_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    evaluation_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    item: Mapped[str] = mapped_column(String(100))
    provider: Mapped[str | None] = mapped_column(String(200), nullable=True)
    content_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    department: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    routed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    routing_alerted: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str | None] = mapped_column(String(16), nullable=True)
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    corrected_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    statement: Mapped[str | None] = mapped_column(Text, nullable=True)
    statement_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class ExtensionRow(Base):
    """A recorded extension of clock 2 (insert-only)."""

    __tablename__ = "objection_extensions"

    objection_id: Mapped[str] = mapped_column(ForeignKey("objections.objection_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    days: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    extended_by: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class TimelineRow(Base):
    """One timeline step (insert-only: the repository never updates or deletes these rows)."""

    __tablename__ = "objection_timeline"

    objection_id: Mapped[str] = mapped_column(ForeignKey("objections.objection_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    kind: Mapped[str] = mapped_column(String(40))
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(200))
    # target is the JSON of the target, or NULL.
    target: Mapped[str | None] = mapped_column(Text, nullable=True)
    # detail is a JSON object of strings.
    detail: Mapped[str] = mapped_column(Text)


class OpenTargetRow(Base):
    """The unique open-target key: two concurrent filings on the same record cannot both insert it."""

    __tablename__ = "objection_open_targets"

    target_key: Mapped[str] = mapped_column(String(260), primary_key=True)
    objection_id: Mapped[str] = mapped_column(ForeignKey("objections.objection_id"), index=True)


class OutboxRow(Base):
    """An event for another service, delivered at least once by the dispatcher; ``dedup_key`` is unique."""

    __tablename__ = "objection_outbox"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    objection_id: Mapped[str] = mapped_column(String(200), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    # payload is the event as JSON; it may hold a statement text, so it is never logged.
    payload: Mapped[str] = mapped_column(Text)
    # state is PENDING, DONE, PARKED (no consumer API yet; kept for delivery when one exists) or REFUSED (the
    # consumer refused it for good; kept for an operator, with the code and reason in last_error).
    state: Mapped[str] = mapped_column(String(8))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    __table_args__ = (Index("ix_objection_outbox_state_next_attempt_at", "state", "next_attempt_at"),)


class NoticeRow(Base):
    """A correction notice owed to one recipient of disputed data (insert-only)."""

    __tablename__ = "objection_notices"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    objection_id: Mapped[str] = mapped_column(ForeignKey("objections.objection_id"))
    recipient: Mapped[str] = mapped_column(String(200), index=True)
    enterprise: Mapped[str] = mapped_column(String(200))
    # changes is a JSON list of {target, item, outcome, corrected_version}.
    changes: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (UniqueConstraint("objection_id", "recipient"),)


class RequestRow(Base):
    """A mutation's request key (SHA-256 of the caller and its request_id) and fingerprint: a retry returns the first
    result."""

    __tablename__ = "objection_requests"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    method: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    objection_id: Mapped[str] = mapped_column(String(200))


metadata = Base.metadata
evidence_models = add_evidence_tables(metadata)
