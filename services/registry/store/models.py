"""SQLAlchemy models of the registry's own database: participants, histories, events, requests, records, lists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from services.kit.db import UtcDateTime, service_metadata
from services.kit.evidence.schema import add_evidence_tables

# Revisions (one per write transaction) are int64 on the wire: BIGINT on PostgreSQL, whose INTEGER stops at 2**31 - 1;
# SQLite's INTEGER already holds 64 bits.
_REVISION = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    """Every table of the registry service hangs off this base: one metadata per service."""

    metadata = service_metadata()


class PlatformRow(Base):
    __tablename__ = "platforms"

    platform_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    docking: Mapped[str] = mapped_column(String(20))
    proxy_id: Mapped[str | None] = mapped_column(ForeignKey("platforms.platform_id"), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    certificate_serial: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012  (optimistic locking: lost updates become ABORTED)


class AssessmentRow(Base):
    """Every assessment ever recorded; the latest of each kind is the one that counts."""

    __tablename__ = "assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.platform_id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    assessor: Mapped[str] = mapped_column(String(200))
    assessed_on: Mapped[datetime] = mapped_column(UtcDateTime())
    result: Mapped[str] = mapped_column(String(10))
    findings: Mapped[str] = mapped_column(Text)
    expires_on: Mapped[datetime] = mapped_column(UtcDateTime())


class InstitutionRow(Base):
    __tablename__ = "institutions"

    institution_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    licence_number: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(20))
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.platform_id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class EnterpriseRow(Base):
    __tablename__ = "enterprises"

    uscc: Mapped[str] = mapped_column(String(18), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.platform_id"), index=True)
    legacy_org_code_warning: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    version: Mapped[int] = mapped_column(Integer, nullable=False)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012


class EnterpriseKeyRow(Base):
    __tablename__ = "enterprise_keys"

    uscc: Mapped[str] = mapped_column(ForeignKey("enterprises.uscc"), primary_key=True)
    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    # Indexed for who holds a key; not unique: keys the old code let two enterprises share (see registry_0013).
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    state: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class DepartmentRow(Base):
    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class StatusHistoryRow(Base):
    """Append-only: rows are inserted, never updated or deleted."""

    __tablename__ = "status_history"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    participant_id: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[str] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(200))
    reason: Mapped[str] = mapped_column(Text)
    evidence: Mapped[str] = mapped_column(Text)  # JSON list of references
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    revision: Mapped[int] = mapped_column(_REVISION)

    __table_args__ = (Index("ix_status_history_participant", "kind", "participant_id", "seq"),)


class ParticipantEventRow(Base):
    """The watch stream's source: which participant changed at which revision."""

    __tablename__ = "participant_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    revision: Mapped[int] = mapped_column(_REVISION, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    participant_id: Mapped[str] = mapped_column(String(40))
    type: Mapped[str] = mapped_column(String(20))


class RevisionCounterRow(Base):
    """One row; updating it serializes writers, so revisions become visible in order."""

    __tablename__ = "revision_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(_REVISION)


class CrlNumberRow(Base):
    """One row: the last CRL number the node CA issued. Kept in the database so it only grows (RFC 5280 5.2.3),
    whichever replica signs the next CRL and across restarts; the update's row lock orders concurrent issuances."""

    __tablename__ = "crl_number"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(_REVISION)


class WatchSessionRow(Base):
    """A gateway replica registered on the acknowledged participant watch, with its lease on the database clock.

    Kept in the database, not in a registry process: an access-removing change waits for every replica, whichever
    registry process serves its stream. A row is deleted only once its lease has lapsed, never when its stream ends."""

    __tablename__ = "participant_watch_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    replica: Mapped[str] = mapped_column(String(100))
    acked_revision: Mapped[int] = mapped_column(BigInteger)
    # Microseconds since the epoch on the database's clock (so one clock for every registry process).
    lease_until_us: Mapped[int] = mapped_column(BigInteger, index=True)


class RequestRow(Base):
    __tablename__ = "requests"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    method: Mapped[str] = mapped_column(String(60))
    fingerprint: Mapped[str] = mapped_column(String(64))
    resource_id: Mapped[str] = mapped_column(String(60))
    certificate_serial: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class CertificateRow(Base):
    __tablename__ = "certificates"

    serial: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.platform_id"), index=True)
    pem: Mapped[str] = mapped_column(Text)
    not_after: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), index=True)
    public_key_sha256: Mapped[str] = mapped_column(String(64), index=True)
    # RFC 5280 5.3.1's reason code (its ASN.1 name); NULL for revocations made before registry_0012.
    revocation_reason: Mapped[str | None] = mapped_column(String(30))


class CertifiedKeyRow(Base):
    """One row per public key the CA ever certified: its primary key is what keeps one key to one platform, also
    between two transactions racing for it."""

    __tablename__ = "certified_keys"

    public_key_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.platform_id"), index=True)
    certified_at: Mapped[datetime] = mapped_column(UtcDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SharingListVersionRow(Base):
    """Append-only: a version is never edited; publishing the next one only stamps superseded_at."""

    __tablename__ = "sharing_list_versions"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    yaml_text: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime())
    published_by: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    superseded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class RecordRow(Base):
    """One source record (department, item, source id); its contents live in record_versions."""

    __tablename__ = "records"

    record_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18))
    item_code: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(40))
    source_record_id: Mapped[str] = mapped_column(String(128))
    state: Mapped[str] = mapped_column(String(10))  # CURRENT, PARKED (enterprise not registered yet), REMOVED
    version: Mapped[int] = mapped_column(Integer)
    latest_source_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (
        Index("ix_records_uscc_item", "uscc", "item_code"),
        Index("ix_records_state_uscc", "state", "uscc"),
    )


class RecordVersionRow(Base):
    """Append-only content history: a correction is a new row; only valid_to of the replaced row is ever set."""

    __tablename__ = "record_versions"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    record_id: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    uscc: Mapped[str] = mapped_column(String(18))
    item_code: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(10))  # CURRENT or REMOVED (a removal is a version too)
    kind: Mapped[str] = mapped_column(String(24))  # DEPARTMENT or OBJECTION_CORRECTION
    source_version: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str | None] = mapped_column(String(64), unique=True)  # NULL for corrections
    list_version: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    fields: Mapped[str] = mapped_column(Text)  # JSON, self-describing types (services.registry.store.records)
    event_time: Mapped[datetime] = mapped_column(UtcDateTime())
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_time: Mapped[datetime] = mapped_column(UtcDateTime())
    on_time: Mapped[bool] = mapped_column(Boolean)
    batch: Mapped[str] = mapped_column(String(160))  # "streams/{id}" or "batches/{request_id}" or "objections/{id}"
    objection: Mapped[str] = mapped_column(String(80))
    valid_from: Mapped[datetime] = mapped_column(UtcDateTime())
    valid_to: Mapped[datetime | None] = mapped_column(UtcDateTime())

    __table_args__ = (
        Index("ix_record_versions_record", "record_id", "version"),
        Index("ix_record_versions_uscc", "uscc", "valid_from"),
        Index("ix_record_versions_delivery", "department", "item_code", "received_at"),
    )


class RecordEventRow(Base):
    """The record watch's source: which record changed how at which revision."""

    __tablename__ = "record_events"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    revision: Mapped[int] = mapped_column(_REVISION, index=True)
    record_id: Mapped[str] = mapped_column(String(32))
    item_code: Mapped[str] = mapped_column(String(64))
    type: Mapped[str] = mapped_column(String(20))


class RecordDisputeRow(Base):
    """One objection's flag on one record; cleared rows stay, with their outcome and statement."""

    __tablename__ = "record_disputes"

    record_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    objection: Mapped[str] = mapped_column(String(80), primary_key=True)
    set_at: Mapped[datetime] = mapped_column(UtcDateTime())
    cleared_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome: Mapped[str] = mapped_column(String(20))
    statement: Mapped[str] = mapped_column(Text)


class SupersededFingerprintRow(Base):
    """Contents corrected away by an objection: never accepted again from the department (anti-reinsertion)."""

    __tablename__ = "superseded_fingerprints"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UtcDateTime())


class IngestRefusalRow(Base):
    """Records not stored (rejected or duplicate), kept for the timeliness and completeness figures."""

    __tablename__ = "ingest_refusals"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    department: Mapped[str] = mapped_column(String(40))
    item_code: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (Index("ix_ingest_refusals_delivery", "department", "item_code", "received_at"),)


class StreamPositionRow(Base):
    """The last sequence committed per department stream; updated in the same transaction as the records."""

    __tablename__ = "stream_positions"

    department: Mapped[str] = mapped_column(String(40), primary_key=True)
    stream_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    last_sequence: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BatchResultRow(Base):
    """The results of an IngestBatch call, so a retry with the same request_id returns them unchanged."""

    __tablename__ = "batch_results"

    request_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    department: Mapped[str] = mapped_column(String(40))
    fingerprint: Mapped[str] = mapped_column(String(64))
    results: Mapped[str] = mapped_column(Text)  # JSON list of results
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BreachRow(Base):
    """Append-only: a compliance breach recorded against a platform."""

    __tablename__ = "platform_breaches"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    platform_id: Mapped[str] = mapped_column(ForeignKey("platforms.platform_id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    reference: Mapped[str] = mapped_column(String(120))
    detail: Mapped[str] = mapped_column(String(500))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())

    __table_args__ = (UniqueConstraint("kind", "reference"),)


metadata = Base.metadata
# The registry's log: one STATUS_CHANGE leaf per participant status change, appended in the change's transaction.
evidence_models = add_evidence_tables(metadata)
