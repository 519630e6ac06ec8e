"""Scoring store: published models, enterprises with their last records, evaluation history, scenario models,
loans, alerts with per-institution acknowledgements, stream cursors, request ids and platform regions.

Revision ID: scoring_0002
Revises: scoring_0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "scoring_0002"
down_revision: str | None = "scoring_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_acks",
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("acked_cursor", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("institution_id", name=op.f("pk_alert_acks")),
    )
    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("risk", sa.String(length=60), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("flags", sa.String(length=400), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("deliverable", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("institution_id", "key", name=op.f("uq_alerts_institution_id_key")),
    )
    op.create_index("ix_alerts_institution_id_id", "alerts", ["institution_id", "id"], unique=False)
    op.create_table(
        "enterprises",
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("platform_id", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("records_json", sa.Text(), nullable=False),
        sa.Column("records_as_of", sa.DateTime(timezone=True), nullable=True),
        sa.Column("record_revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("uscc", name=op.f("pk_enterprises")),
    )
    op.create_index(op.f("ix_enterprises_active"), "enterprises", ["active"], unique=False)
    op.create_table(
        "evaluations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("model_version", sa.String(length=80), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("grade", sa.String(length=3), nullable=False),
        sa.Column("coverage", sa.Float(), nullable=False),
        sa.Column("flags", sa.String(length=400), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evaluations")),
    )
    op.create_index("ix_evaluations_uscc_id", "evaluations", ["uscc", "id"], unique=False)
    op.create_table(
        "loans",
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("platform_id", sa.String(length=40), nullable=False),
        sa.Column("city", sa.String(length=6), nullable=False),
        sa.Column("amount_yuan", sa.String(length=32), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("credit", sa.Boolean(), nullable=False),
        sa.Column("first_loan", sa.Boolean(), nullable=False),
        sa.Column("small_micro", sa.Boolean(), nullable=False),
        sa.Column("granted_on", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("repayments", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("loan_id", name=op.f("pk_loans")),
    )
    op.create_index("ix_loans_uscc_status", "loans", ["uscc", "status"], unique=False)
    op.create_table(
        "models",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("version", sa.String(length=80), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_models")),
        sa.UniqueConstraint("version", name=op.f("uq_models_version")),
    )
    op.create_table(
        "platforms",
        sa.Column("platform_id", sa.String(length=40), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.PrimaryKeyConstraint("platform_id", name=op.f("pk_platforms")),
    )
    op.create_table(
        "requests",
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("result", sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint("method", "request_id", name=op.f("pk_requests")),
    )
    op.create_table(
        "scenario_models",
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("scenario_id", sa.String(length=40), nullable=False),
        sa.Column("base_version", sa.String(length=80), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.Column("dropped", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("institution_id", "scenario_id", name=op.f("pk_scenario_models")),
    )
    op.create_table(
        "stream_cursors",
        sa.Column("stream", sa.String(length=60), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("stream", name=op.f("pk_stream_cursors")),
    )


def downgrade() -> None:
    op.drop_table("stream_cursors")
    op.drop_table("scenario_models")
    op.drop_table("requests")
    op.drop_table("platforms")
    op.drop_table("models")
    op.drop_index("ix_loans_uscc_status", table_name="loans")
    op.drop_table("loans")
    op.drop_index("ix_evaluations_uscc_id", table_name="evaluations")
    op.drop_table("evaluations")
    op.drop_index(op.f("ix_enterprises_active"), table_name="enterprises")
    op.drop_table("enterprises")
    op.drop_index("ix_alerts_institution_id_id", table_name="alerts")
    op.drop_table("alerts")
    op.drop_table("alert_acks")
