"""Alembic helpers a service's migration calls to create (or drop) the evidence log's tables.

The DDL is written out here, frozen per version, rather than derived from ``schema``: a migration must create
the same tables forever, whatever the library looks like later. A later schema change adds a new helper that a new
migration calls: ``upgrade_evidence_tables_v1_to_v2`` adds the leaves' ``subject`` column and its index.
``tests/integration/evidence`` checks that versions 1 then 2 match ``schema.add_evidence_tables`` exactly.

Use it in a revision of the service, e.g. ``services/gateway/migrations/versions/20261201_0002_evidence_log.py``::

    from services.kit.evidence.migration import create_evidence_tables_v1, drop_evidence_tables_v1

    def upgrade() -> None:
        create_evidence_tables_v1()

    def downgrade() -> None:
        drop_evidence_tables_v1()
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

_TABLES = ["evidence_tree_heads", "evidence_keys", "evidence_state", "evidence_nodes", "evidence_leaves"]


def create_evidence_tables_v1() -> None:
    """Create the evidence log's tables (version 1) inside the running Alembic migration."""
    op.create_table(
        "evidence_leaves",
        sa.Column("leaf_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entry", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("leaf_index", name="pk_evidence_leaves"),
    )
    op.create_index("ix_evidence_leaves_kind_leaf_index", "evidence_leaves", ["kind", "leaf_index"])
    op.create_index("ix_evidence_leaves_created_at", "evidence_leaves", ["created_at"])
    op.create_table(
        "evidence_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("node_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "node_index", name="pk_evidence_nodes"),
    )
    op.create_table(
        "evidence_state",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("origin", sa.String(length=200), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_state"),
    )
    op.create_table(
        "evidence_tree_heads",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("timestamp_ms", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_evidence_tree_heads"),
    )
    op.create_index("ix_evidence_tree_heads_tree_size", "evidence_tree_heads", ["tree_size"])
    op.create_table(
        "evidence_keys",
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_evidence_keys"),
    )


def drop_evidence_tables_v1() -> None:
    """Drop the evidence log's tables (version 1). Only for downgrading a development database: evidence is kept."""
    op.drop_index("ix_evidence_tree_heads_tree_size", table_name="evidence_tree_heads")
    op.drop_index("ix_evidence_leaves_created_at", table_name="evidence_leaves")
    op.drop_index("ix_evidence_leaves_kind_leaf_index", table_name="evidence_leaves")
    for table in _TABLES:
        op.drop_table(table)


_BACKFILL_CHUNK = 5000


def upgrade_evidence_tables_v1_to_v2() -> None:
    """Version 2: ``evidence_leaves.subject`` (the enterprise a leaf is about) and its index, filled in for every
    leaf already stored. The rule is frozen here as it was written: the payload's top-level "enterprise" when it is a
    string of at most 200 characters."""
    op.add_column("evidence_leaves", sa.Column("subject", sa.String(length=200), nullable=True))
    leaves = sa.table(
        "evidence_leaves", sa.column("leaf_index", sa.BigInteger()), sa.column("entry"), sa.column("subject")
    )
    bind = op.get_bind()
    after = -1
    while True:
        rows = bind.execute(
            sa.select(leaves.c.leaf_index, leaves.c.entry)
            .where(leaves.c.leaf_index > after)
            .order_by(leaves.c.leaf_index)
            .limit(_BACKFILL_CHUNK)
        ).all()
        if not rows:
            break
        updates = []
        for index, entry in rows:
            value = json.loads(entry).get("payload", {}).get("enterprise")
            if isinstance(value, str) and len(value) <= 200:
                updates.append({"i": index, "s": value})
        if updates:
            bind.execute(
                leaves.update().where(leaves.c.leaf_index == sa.bindparam("i")).values(subject=sa.bindparam("s")),
                updates,
            )
        after = rows[-1][0]
    op.create_index("ix_evidence_leaves_subject_leaf_index", "evidence_leaves", ["subject", "leaf_index"])


def downgrade_evidence_tables_v2_to_v1() -> None:
    """Back to version 1 (the column is derived from the entries: nothing is lost)."""
    op.drop_index("ix_evidence_leaves_subject_leaf_index", table_name="evidence_leaves")
    with op.batch_alter_table("evidence_leaves") as batch:
        batch.drop_column("subject")
