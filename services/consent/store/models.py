"""SQLAlchemy models of the consent service's own database."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kit.db import UtcDateTime, service_metadata
from services.kit.evidence.schema import add_evidence_tables


class Base(DeclarativeBase):
    """Every table of the consent service hangs off this base: one metadata per service."""

    metadata = service_metadata()


class RevisionCounter(Base):
    """The one row whose value is the last committed revision; writers lock it, so commits follow revisions."""

    __tablename__ = "consent_revision"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class AuthorizationRow(Base):
    """An authorization as it stands; its history is in ``authorization_events``."""

    __tablename__ = "authorizations"
    __table_args__ = (
        # Check's one lookup.
        Index("ix_authorizations_requester_enterprise_purpose", "requester", "enterprise", "purpose"),
        Index("ix_authorizations_enterprise_created_at", "enterprise", "created_at"),
        Index("ix_authorizations_state_valid_until", "state", "valid_until"),
        Index("ix_authorizations_requester_state", "requester", "state"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    enterprise: Mapped[str] = mapped_column(String(18))
    requester: Mapped[str] = mapped_column(String(60))
    purpose: Mapped[str] = mapped_column(String(64))
    # Codes joined by "," (codes never contain one), sorted.
    items: Mapped[str] = mapped_column(Text)
    categories: Mapped[str] = mapped_column(Text)
    covered_items: Mapped[str] = mapped_column(Text)
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime)
    valid_until: Mapped[datetime] = mapped_column(UtcDateTime)
    data_since: Mapped[datetime] = mapped_column(UtcDateTime)
    use_limit_kind: Mapped[str] = mapped_column(String(16))
    max_uses: Mapped[int] = mapped_column(Integer)
    period_days: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16))
    uses_total: Mapped[int] = mapped_column(BigInteger)
    period_index: Mapped[int] = mapped_column(Integer)
    period_uses: Mapped[int] = mapped_column(Integer)
    last_use_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    revision: Mapped[int] = mapped_column(BigInteger)
    signing_key_id: Mapped[str] = mapped_column(String(16))
    last_receipt_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class EventRow(Base):
    """One append-only history step with its receipt; the revision orders every change of the service."""

    __tablename__ = "authorization_events"
    __table_args__ = (Index("ix_authorization_events_authorization_id_revision", "authorization_id", "revision"),)

    revision: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    authorization_id: Mapped[str] = mapped_column(ForeignKey("authorizations.id"))
    event_type: Mapped[str] = mapped_column(String(32))
    state_after: Mapped[str] = mapped_column(String(16))
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    signed_payload: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    signing_key_id: Mapped[str] = mapped_column(String(16))
    previous_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    digest: Mapped[bytes] = mapped_column(LargeBinary(32))


class UseRow(Base):
    """One recorded use; request_id (when given) makes a consuming retry idempotent."""

    __tablename__ = "authorization_uses"
    __table_args__ = (
        Index(
            "uq_authorization_uses_authorization_id_request_id",
            "authorization_id",
            "request_id",
            unique=True,
            sqlite_where=text("request_id <> ''"),
            postgresql_where=text("request_id <> ''"),
        ),
        Index("ix_authorization_uses_authorization_id_id", "authorization_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    authorization_id: Mapped[str] = mapped_column(ForeignKey("authorizations.id"))
    used_at: Mapped[datetime] = mapped_column(UtcDateTime)
    items: Mapped[str] = mapped_column(Text)
    request_id: Mapped[str] = mapped_column(String(64))


class NonceRow(Base):
    """A nonce an enterprise used, kept while a request carrying it could still pass the window."""

    __tablename__ = "signature_nonces"
    __table_args__ = (Index("ix_signature_nonces_expires_at", "expires_at"),)

    enterprise: Mapped[str] = mapped_column(String(18), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    request_digest: Mapped[bytes] = mapped_column(LargeBinary(32))
    authorization_id: Mapped[str] = mapped_column(String(32))
    revision: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RegistryCursor(Base):
    """How far the consumer of the registry's participant watch got, so a restart resumes there."""

    __tablename__ = "registry_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    revision: Mapped[int] = mapped_column(BigInteger)


class RemovedRequester(Base):
    """A requester whose removal the participant watcher handled (removal is final): no grant to it commits after."""

    __tablename__ = "removed_requesters"

    requester: Mapped[str] = mapped_column(String(60), primary_key=True)
    removed_at: Mapped[datetime] = mapped_column(UtcDateTime)


metadata = Base.metadata
# The consent log: one CONSENT_EVENT leaf per receipt, appended in the event's own transaction.
evidence_models = add_evidence_tables(metadata)
