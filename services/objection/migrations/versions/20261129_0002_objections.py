"""Objections, their lines, timelines, extensions, open-target keys, outbox, notices, requests and evidence log.

Revision ID: objection_0002
Revises: objection_0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from services.kit.evidence.migration import create_evidence_tables_v1, drop_evidence_tables_v1

revision: str = "objection_0002"
down_revision: str | None = "objection_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    create_evidence_tables_v1()
    op.create_table(
        "objection_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("dedup_key", sa.String(length=64), nullable=False),
        sa.Column("objection_id", sa.String(length=200), nullable=False),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objection_outbox")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_objection_outbox_dedup_key")),
    )
    with op.batch_alter_table("objection_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objection_outbox_objection_id"), ["objection_id"], unique=False)
        batch_op.create_index("ix_objection_outbox_state_next_attempt_at", ["state", "next_attempt_at"], unique=False)

    op.create_table(
        "objection_requests",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("objection_id", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_objection_requests")),
    )
    op.create_table(
        "objections",
        sa.Column("objection_id", sa.String(length=200), nullable=False),
        sa.Column("platform", sa.String(length=200), nullable=False),
        sa.Column("filer_kind", sa.String(length=16), nullable=False),
        sa.Column("filer_id", sa.String(length=200), nullable=False),
        sa.Column("enterprise", sa.String(length=200), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("attachments", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("forwarded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handling_days", sa.Integer(), nullable=False),
        sa.Column("forward_timeliness", sa.String(length=16), nullable=False),
        sa.Column("forward_last_day", sa.Date(), nullable=True),
        sa.Column("forward_due_before", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("handling_due_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("overdue_alerted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("request_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("objection_id", name=op.f("pk_objections")),
    )
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objections_enterprise"), ["enterprise"], unique=False)
        batch_op.create_index(batch_op.f("ix_objections_forward_timeliness"), ["forward_timeliness"], unique=False)
        batch_op.create_index(batch_op.f("ix_objections_handling_due_before"), ["handling_due_before"], unique=False)
        batch_op.create_index(batch_op.f("ix_objections_platform"), ["platform"], unique=False)
        batch_op.create_index(batch_op.f("ix_objections_status"), ["status"], unique=False)

    op.create_table(
        "objection_extensions",
        sa.Column("objection_id", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("days", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("extended_by", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["objection_id"], ["objections.objection_id"], name=op.f("fk_objection_extensions_objection_id_objections")
        ),
        sa.PrimaryKeyConstraint("objection_id", "seq", name=op.f("pk_objection_extensions")),
    )
    op.create_table(
        "objection_lines",
        sa.Column("objection_id", sa.String(length=200), nullable=False),
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("target_key", sa.String(length=260), nullable=False),
        sa.Column("record_id", sa.String(length=200), nullable=True),
        sa.Column("record_version", sa.Integer(), nullable=True),
        sa.Column("evaluation_id", sa.String(length=200), nullable=True),
        sa.Column("item", sa.String(length=100), nullable=False),
        sa.Column("provider", sa.String(length=200), nullable=True),
        sa.Column("content_sha256", sa.String(length=64), nullable=True),
        sa.Column("department", sa.String(length=200), nullable=True),
        sa.Column("routed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("routing_alerted", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("corrected_version", sa.Integer(), nullable=True),
        sa.Column("statement", sa.Text(), nullable=True),
        sa.Column("statement_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["objection_id"], ["objections.objection_id"], name=op.f("fk_objection_lines_objection_id_objections")
        ),
        sa.PrimaryKeyConstraint("objection_id", "idx", name=op.f("pk_objection_lines")),
    )
    with op.batch_alter_table("objection_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objection_lines_department"), ["department"], unique=False)

    op.create_table(
        "objection_notices",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("objection_id", sa.String(length=200), nullable=False),
        sa.Column("recipient", sa.String(length=200), nullable=False),
        sa.Column("enterprise", sa.String(length=200), nullable=False),
        sa.Column("changes", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["objection_id"], ["objections.objection_id"], name=op.f("fk_objection_notices_objection_id_objections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objection_notices")),
        sa.UniqueConstraint("objection_id", "recipient", name=op.f("uq_objection_notices_objection_id_recipient")),
    )
    with op.batch_alter_table("objection_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objection_notices_recipient"), ["recipient"], unique=False)

    op.create_table(
        "objection_open_targets",
        sa.Column("target_key", sa.String(length=260), nullable=False),
        sa.Column("objection_id", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["objection_id"],
            ["objections.objection_id"],
            name=op.f("fk_objection_open_targets_objection_id_objections"),
        ),
        sa.PrimaryKeyConstraint("target_key", name=op.f("pk_objection_open_targets")),
    )
    with op.batch_alter_table("objection_open_targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_objection_open_targets_objection_id"), ["objection_id"], unique=False)

    op.create_table(
        "objection_timeline",
        sa.Column("objection_id", sa.String(length=200), nullable=False),
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.String(length=200), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["objection_id"], ["objections.objection_id"], name=op.f("fk_objection_timeline_objection_id_objections")
        ),
        sa.PrimaryKeyConstraint("objection_id", "seq", name=op.f("pk_objection_timeline")),
    )


def downgrade() -> None:
    op.drop_table("objection_timeline")
    with op.batch_alter_table("objection_open_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objection_open_targets_objection_id"))

    op.drop_table("objection_open_targets")
    with op.batch_alter_table("objection_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objection_notices_recipient"))

    op.drop_table("objection_notices")
    with op.batch_alter_table("objection_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objection_lines_department"))

    op.drop_table("objection_lines")
    op.drop_table("objection_extensions")
    with op.batch_alter_table("objections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_objections_status"))
        batch_op.drop_index(batch_op.f("ix_objections_platform"))
        batch_op.drop_index(batch_op.f("ix_objections_handling_due_before"))
        batch_op.drop_index(batch_op.f("ix_objections_forward_timeliness"))
        batch_op.drop_index(batch_op.f("ix_objections_enterprise"))

    op.drop_table("objections")
    op.drop_table("objection_requests")
    with op.batch_alter_table("objection_outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_objection_outbox_state_next_attempt_at")
        batch_op.drop_index(batch_op.f("ix_objection_outbox_objection_id"))

    op.drop_table("objection_outbox")
    drop_evidence_tables_v1()
