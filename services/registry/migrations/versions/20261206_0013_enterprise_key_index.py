"""An index on enterprise_keys.public_key: registration, rotation and replacement ask who holds a key (any enterprise,
active or retired) before taking it, which read every key without one.

Not unique, though one key per enterprise is the rule: the old code registered and rotated to a key another enterprise
held, and a database may hold such a key under two enterprises. Their rows stay for ever (a retired key is kept, and
still counts as held), so a unique index could never be created there; racing registrations are ordered by a lock on
the key instead (SqlEnterprises.lock_key). Find such keys with
``SELECT public_key FROM enterprise_keys GROUP BY public_key HAVING count(DISTINCT uscc) > 1`` and give each
enterprise holding one a new key with ReplaceEnterpriseKey after an identity check.

Revision ID: registry_0013
Revises: registry_0012
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "registry_0013"
down_revision: str | None = "registry_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("enterprise_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enterprise_keys_public_key"), ["public_key"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("enterprise_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enterprise_keys_public_key"))
