"""Authorizations, their append-only history with receipts, uses, nonces and the revision counter.

Revision ID: consent_0002
Revises: consent_0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "consent_0002"
down_revision: str | None = "consent_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "authorizations",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("enterprise", sa.String(length=18), nullable=False),
        sa.Column("requester", sa.String(length=60), nullable=False),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("categories", sa.Text(), nullable=False),
        sa.Column("covered_items", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("use_limit_kind", sa.String(length=16), nullable=False),
        sa.Column("max_uses", sa.Integer(), nullable=False),
        sa.Column("period_days", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("uses_total", sa.BigInteger(), nullable=False),
        sa.Column("period_index", sa.Integer(), nullable=False),
        sa.Column("period_uses", sa.Integer(), nullable=False),
        sa.Column("last_use_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("signing_key_id", sa.String(length=16), nullable=False),
        sa.Column("last_receipt_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorizations")),
    )
    op.create_index(
        "ix_authorizations_enterprise_created_at", "authorizations", ["enterprise", "created_at"], unique=False
    )
    op.create_index(
        "ix_authorizations_requester_enterprise_purpose",
        "authorizations",
        ["requester", "enterprise", "purpose"],
        unique=False,
    )
    op.create_index("ix_authorizations_requester_state", "authorizations", ["requester", "state"], unique=False)
    op.create_index("ix_authorizations_state_valid_until", "authorizations", ["state", "valid_until"], unique=False)
    op.create_table(
        "consent_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent_revision")),
    )
    op.create_table(
        "registry_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_cursor")),
    )
    op.create_table(
        "signature_nonces",
        sa.Column("enterprise", sa.String(length=18), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("request_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("authorization_id", sa.String(length=32), nullable=False),
        sa.Column("revision", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("enterprise", "nonce", name=op.f("pk_signature_nonces")),
    )
    op.create_index("ix_signature_nonces_expires_at", "signature_nonces", ["expires_at"], unique=False)
    op.create_table(
        "authorization_events",
        sa.Column("revision", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("authorization_id", sa.String(length=32), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("state_after", sa.String(length=16), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_payload", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.Column("signing_key_id", sa.String(length=16), nullable=False),
        sa.Column("previous_digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_authorization_events_authorization_id_authorizations"),
        ),
        sa.PrimaryKeyConstraint("revision", name=op.f("pk_authorization_events")),
    )
    op.create_index(
        "ix_authorization_events_authorization_id_revision",
        "authorization_events",
        ["authorization_id", "revision"],
        unique=False,
    )
    op.create_table(
        "authorization_uses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False),
        sa.Column("authorization_id", sa.String(length=32), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_authorization_uses_authorization_id_authorizations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorization_uses")),
    )
    op.create_index(
        "ix_authorization_uses_authorization_id_id", "authorization_uses", ["authorization_id", "id"], unique=False
    )
    op.create_index(
        "uq_authorization_uses_authorization_id_request_id",
        "authorization_uses",
        ["authorization_id", "request_id"],
        unique=True,
        sqlite_where=sa.text("request_id <> ''"),
        postgresql_where=sa.text("request_id <> ''"),
    )
    # The revision counter starts at 0: the first change is revision 1.
    op.bulk_insert(
        sa.table("consent_revision", sa.column("id", sa.Integer()), sa.column("value", sa.BigInteger())),
        [{"id": 1, "value": 0}],
    )


def downgrade() -> None:
    op.drop_index(
        "uq_authorization_uses_authorization_id_request_id",
        table_name="authorization_uses",
        sqlite_where=sa.text("request_id <> ''"),
        postgresql_where=sa.text("request_id <> ''"),
    )
    op.drop_index("ix_authorization_uses_authorization_id_id", table_name="authorization_uses")
    op.drop_table("authorization_uses")
    op.drop_index("ix_authorization_events_authorization_id_revision", table_name="authorization_events")
    op.drop_table("authorization_events")
    op.drop_index("ix_signature_nonces_expires_at", table_name="signature_nonces")
    op.drop_table("signature_nonces")
    op.drop_table("registry_cursor")
    op.drop_table("consent_revision")
    op.drop_index("ix_authorizations_state_valid_until", table_name="authorizations")
    op.drop_index("ix_authorizations_requester_state", table_name="authorizations")
    op.drop_index("ix_authorizations_requester_enterprise_purpose", table_name="authorizations")
    op.drop_index("ix_authorizations_enterprise_created_at", table_name="authorizations")
    op.drop_table("authorizations")
