"""SQLAlchemy models of the gateway service's own database: the disclosure (evidence) log, supervision findings and
the nonces of enterprises' signed self-queries."""

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kit.db import UtcDateTime, service_metadata
from services.kit.evidence.schema import add_evidence_tables


class Base(DeclarativeBase):
    """Every table of the gateway service hangs off this base: one metadata per service."""

    metadata = service_metadata()


class FindingRow(Base):
    """A supervision finding; the fingerprint (rule, platform, subject, day) makes re-running a period idempotent."""

    __tablename__ = "supervision_findings"
    __table_args__ = (Index("ix_supervision_findings_platform", "platform", "finding_id"),)

    finding_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(32), unique=True)
    rule: Mapped[str] = mapped_column(String(40))
    platform: Mapped[str] = mapped_column(String(80))
    subject: Mapped[str] = mapped_column(String(80))
    day: Mapped[str] = mapped_column(String(10))
    count: Mapped[int] = mapped_column(Integer)
    detail: Mapped[str] = mapped_column(String(500))
    leaves: Mapped[str] = mapped_column(Text)  # JSON list of leaf indices
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    reported_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class SelfQueryNonceRow(Base):
    """A self-query nonce, kept until its request can no longer be in the signature window (shared by replicas)."""

    __tablename__ = "self_query_nonces"
    __table_args__ = (Index("ix_self_query_nonces_expires_at", "expires_at"),)

    enterprise: Mapped[str] = mapped_column(String(40), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


metadata = Base.metadata
evidence_models = add_evidence_tables(metadata)
