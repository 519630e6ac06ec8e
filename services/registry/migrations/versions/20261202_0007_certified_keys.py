"""Certified keys: each certificate's public key digest, and one row per key naming the one platform it belongs to.

Filled in from the certificates already stored. A key is held by the platform of its earliest certificate; it is
retired if one of its certificates was revoked and it is not the key of its platform's current certificate (old code
revoked a certificate renewed with the same key, so that revocation does not retire the key). A key the old code
certified for several platforms is retired at once: which of them is its rightful holder cannot be told, so none may
have it certified again (their live certificates are left as they are; the README says how to find them).

Revision ID: registry_0007
Revises: registry_0006
Create Date: 2026-12-02
"""

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from services.kit.db import UtcDateTime

revision: str = "registry_0007"
down_revision: str | None = "registry_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("certificates", sa.Column("public_key_sha256", sa.String(length=64), nullable=True))
    op.create_table(
        "certified_keys",
        sa.Column("public_key_sha256", sa.String(length=64), nullable=False),
        sa.Column("platform_id", sa.String(length=40), nullable=False),
        sa.Column("certified_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("retired_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["platforms.platform_id"], name=op.f("fk_certified_keys_platform_id_platforms")
        ),
        sa.PrimaryKeyConstraint("public_key_sha256", name=op.f("pk_certified_keys")),
    )
    _backfill()
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.alter_column("public_key_sha256", existing_type=sa.String(length=64), nullable=False)
        batch_op.create_index(batch_op.f("ix_certificates_public_key_sha256"), ["public_key_sha256"], unique=False)
    with op.batch_alter_table("certified_keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_certified_keys_platform_id"), ["platform_id"], unique=False)


def _backfill() -> None:
    certificates = sa.table(
        "certificates",
        sa.column("serial", sa.String()),
        sa.column("platform_id", sa.String()),
        sa.column("pem", sa.Text()),
        sa.column("revoked_at", UtcDateTime()),
        sa.column("public_key_sha256", sa.String()),
    )
    platforms = sa.table(
        "platforms", sa.column("platform_id", sa.String()), sa.column("certificate_serial", sa.String())
    )
    keys = sa.table(
        "certified_keys",
        sa.column("public_key_sha256", sa.String()),
        sa.column("platform_id", sa.String()),
        sa.column("certified_at", UtcDateTime()),
        sa.column("retired_at", UtcDateTime()),
    )
    bind = op.get_bind()
    current = {serial for (serial,) in bind.execute(sa.select(platforms.c.certificate_serial)) if serial}
    # Per key: its certificates as (issued, platform, revoked_at, is the platform's current one).
    by_key: dict[str, list[tuple[datetime, str, datetime | None, bool]]] = {}
    digests = []
    for serial, platform_id, pem, revoked_at in bind.execute(
        sa.select(certificates.c.serial, certificates.c.platform_id, certificates.c.pem, certificates.c.revoked_at)
    ):
        cert = x509.load_pem_x509_certificate(pem.encode())
        spki = cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        digest = hashlib.sha256(spki).hexdigest()
        digests.append({"s": serial, "k": digest})
        by_key.setdefault(digest, []).append((cert.not_valid_before_utc, platform_id, revoked_at, serial in current))
    if not digests:
        return
    bind.execute(
        certificates.update()
        .where(certificates.c.serial == sa.bindparam("s"))
        .values(public_key_sha256=sa.bindparam("k")),
        digests,
    )
    now = datetime.now(UTC)
    rows = []
    for digest, certs in by_key.items():
        certs.sort(key=lambda c: (c[0], c[1]))
        issued, holder = certs[0][0], certs[0][1]
        revocations = [c[2] for c in certs if c[2] is not None]
        if len({c[1] for c in certs}) > 1:
            retired_at: datetime | None = now
        elif revocations and not any(c[3] for c in certs):
            retired_at = max(revocations)
        else:
            retired_at = None
        rows.append(
            {"public_key_sha256": digest, "platform_id": holder, "certified_at": issued, "retired_at": retired_at}
        )
    bind.execute(keys.insert(), rows)


def downgrade() -> None:
    with op.batch_alter_table("certified_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certified_keys_platform_id"))
    op.drop_table("certified_keys")
    with op.batch_alter_table("certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_certificates_public_key_sha256"))
        batch_op.drop_column("public_key_sha256")
