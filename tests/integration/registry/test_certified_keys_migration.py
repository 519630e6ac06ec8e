"""registry_0007 fills in certified keys from the certificates already stored, and registry_0008 revokes the
certificates of keys certified for several platforms, on the configured backend."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine

from services.kit.db import UtcDateTime, make_engine, migrate, session_factories
from services.kit.errors import FailedPrecondition
from services.registry import usecases as uc
from services.registry.ca import FileCertificateAuthority
from services.registry.domain.participants import ChangeInfo, Docking, Platform, PlatformKind, PlatformStatus
from services.registry.domain.ports import IssuedCertificate
from services.registry.main import MIGRATIONS
from services.registry.store.repositories import SqlRegistryUnitOfWork

T0 = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
VERSION_TABLE = "alembic_version_registry"
_CERTS = sa.table(
    "certificates",
    sa.column("serial", sa.String()),
    sa.column("platform_id", sa.String()),
    sa.column("pem", sa.Text()),
    sa.column("not_after", UtcDateTime()),
    sa.column("revoked_at", UtcDateTime()),
)


def _alembic(engine: Engine, action: str, target: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("version_table", VERSION_TABLE)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, target)


@pytest.fixture
def engine_at_0006(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    _alembic(engine, "upgrade", "registry_0006")
    yield engine
    engine.dispose()


def _csr(key: ec.EllipticCurvePrivateKey, platform_id: str) -> str:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, platform_id)])
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def test_the_backfill_keeps_renewed_keys_live_retires_revoked_and_shared_ones(
    engine_at_0006: Engine, tmp_path: Path
) -> None:
    ca = FileCertificateAuthority(tmp_path / "ca", autocreate=True, now=T0)
    k1, k2, k3, k4, k5 = (ec.generate_private_key(ec.SECP256R1()) for _ in range(5))

    def cert(platform_id: str, key: ec.EllipticCurvePrivateKey, days: int) -> IssuedCertificate:
        return ca.issue(platform_id, _csr(key, platform_id), T0 + timedelta(days=days))

    revoked_at = T0 + timedelta(days=50)
    stored = [  # (certificate, revoked?) as the old code left them
        (xian_old := cert("xian", k1, 0), True),  # renewed with the same key: the old code revoked it
        (xian_now := cert("xian", k1, 30), False),
        (baoji_old := cert("baoji", k2, 0), True),  # rotated away from
        (baoji_now := cert("baoji", k3, 30), False),
        (hanzhong_now := cert("hanzhong", k4, 1), False),  # one key, two platforms: the defect this fixes
        (ankang_now := cert("ankang", k4, 2), False),
        (yulin_old := cert("yulin", k5, 0), True),  # suspended
    ]
    current = {"xian": xian_now, "baoji": baoji_now, "hanzhong": hanzhong_now, "ankang": ankang_now}
    writer, _ = session_factories(engine_at_0006)
    with SqlRegistryUnitOfWork(writer) as u:
        for pid in ("xian", "baoji", "hanzhong", "ankang", "yulin"):
            status = PlatformStatus.SUSPENDED if pid == "yulin" else PlatformStatus.ADMITTED
            serial = current[pid].serial if pid in current else ""
            u.platforms.add(Platform(pid, pid, PlatformKind.CITY, "610100", Docking.DIRECT, None, status, T0, T0,
                                     certificate_serial=serial))  # fmt: skip
        u.commit()
    with engine_at_0006.begin() as conn:
        conn.execute(
            _CERTS.insert(),
            [
                {"serial": c.serial, "platform_id": c.platform_id, "pem": c.pem, "not_after": c.not_after,
                 "revoked_at": revoked_at if revoked else None}
                for c, revoked in stored
            ],
        )  # fmt: skip

    migrate(engine_at_0006, MIGRATIONS, VERSION_TABLE)

    with SqlRegistryUnitOfWork(writer) as u:
        for c, _ in stored:
            got = u.certificates.get(c.serial)
            assert got is not None
            assert got.public_key_sha256 == c.public_key_sha256
        named = [("k1", xian_old), ("k2", baoji_old), ("k3", baoji_now), ("k4", ankang_now), ("k5", yulin_old)]
        held = {name: u.certificates.key(c.public_key_sha256) for name, c in named}
    assert {n: (k.platform_id, k.retired_at is not None) if k else None for n, k in held.items()} == {
        "k1": ("xian", False),  # its platform's current certificate carries it
        "k2": ("baoji", True),
        "k3": ("baoji", False),
        "k4": ("hanzhong", True),  # the earliest certificate's platform; retired: nobody may have it again
        "k5": ("yulin", True),
    }
    k2_row, k1_row = held["k2"], held["k1"]
    assert k2_row is not None
    assert k2_row.retired_at == revoked_at
    assert k1_row is not None
    assert k1_row.certified_at == x509.load_pem_x509_certificate(xian_old.pem.encode()).not_valid_before_utc

    # The use cases read the filled-in rows: xian renews its key, a retired or shared key is refused.
    def issue(pid: str, key: ec.EllipticCurvePrivateKey) -> IssuedCertificate:
        return uc.issue_certificate(SqlRegistryUnitOfWork(writer), ca, pid, _csr(key, pid), ChangeInfo("operator-test"),
                                    uc.Idempotency(), T0 + timedelta(days=60))  # fmt: skip

    assert issue("xian", k1).public_key_sha256 == xian_now.public_key_sha256
    for pid, key in (("baoji", k2), ("hanzhong", k4), ("ankang", k4), ("xian", k3)):
        with pytest.raises(FailedPrecondition) as err:
            issue(pid, key)
        assert err.value.reason == "ERROR_REASON_KEY_ALREADY_CERTIFIED"


def test_certificates_of_a_key_certified_for_several_platforms_are_revoked_and_on_the_crl(
    engine_at_0006: Engine, tmp_path: Path
) -> None:
    ca = FileCertificateAuthority(tmp_path / "ca", autocreate=True, now=T0)
    k1, k2, k3 = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))

    def cert(platform_id: str, key: ec.EllipticCurvePrivateKey, days: int) -> IssuedCertificate:
        return ca.issue(platform_id, _csr(key, platform_id), T0 + timedelta(days=days))

    revoked_at = T0 + timedelta(days=50)
    stored = {  # certificate: revoked?, as the old code left them
        cert("xian", k1, 0): False,  # its own key
        (hanzhong := cert("hanzhong", k2, 1)): False,  # one key, two platforms, both live
        (ankang := cert("ankang", k2, 2)): False,
        (tongchuan := cert("tongchuan", k3, 0)): True,  # one key, two platforms, one of them since suspended
        (weinan := cert("weinan", k3, 3)): False,
    }
    writer, _ = session_factories(engine_at_0006)
    with SqlRegistryUnitOfWork(writer) as u:
        for c in stored:
            status = PlatformStatus.SUSPENDED if c is tongchuan else PlatformStatus.ADMITTED
            serial = "" if c is tongchuan else c.serial
            u.platforms.add(Platform(c.platform_id, c.platform_id, PlatformKind.CITY, "610100", Docking.DIRECT, None,
                                     status, T0, T0, certificate_serial=serial))  # fmt: skip
        u.commit()
    with engine_at_0006.begin() as conn:
        conn.execute(
            _CERTS.insert(),
            [
                {"serial": c.serial, "platform_id": c.platform_id, "pem": c.pem, "not_after": c.not_after,
                 "revoked_at": revoked_at if revoked else None}
                for c, revoked in stored.items()
            ],
        )  # fmt: skip

    def revocations() -> dict[str, datetime | None]:
        # Core over the columns registry_0007 has: the models describe the newest schema, not this one.
        with engine_at_0006.connect() as conn:
            rows = conn.execute(sa.select(_CERTS.c.serial, _CERTS.c.revoked_at)).all()
        revoked = {serial: at for serial, at in rows}
        return {c.platform_id: revoked[c.serial] for c in stored}

    # A database already past registry_0007: the shared keys are retired, their certificates still live.
    _alembic(engine_at_0006, "upgrade", "registry_0007")
    assert revocations() == {"xian": None, "hanzhong": None, "ankang": None, "tongchuan": revoked_at, "weinan": None}

    before = datetime.now(UTC)
    migrate(engine_at_0006, MIGRATIONS, VERSION_TABLE)
    after = revocations()
    assert {p for p, at in after.items() if at is not None and at >= before} == {"hanzhong", "ankang", "weinan"}
    assert (after["xian"], after["tongchuan"]) == (None, revoked_at)  # a key of its own; revoked before, kept so
    crl_der, serials = uc.revocation_list(SqlRegistryUnitOfWork(writer), ca, lambda: datetime.now(UTC))
    on_crl = {format(r.serial_number, "x") for r in x509.load_der_x509_crl(crl_der)}
    assert on_crl == set(serials) == {hanzhong.serial, ankang.serial, tongchuan.serial, weinan.serial}

    # Stepping back does not take a revocation back, and stepping forward again changes nothing.
    _alembic(engine_at_0006, "downgrade", "registry_0007")
    migrate(engine_at_0006, MIGRATIONS, VERSION_TABLE)
    assert revocations() == after

    # Each platform gets a certificate for a new key; the shared one stays refused.
    def issue(pid: str, key: ec.EllipticCurvePrivateKey) -> IssuedCertificate:
        return uc.issue_certificate(SqlRegistryUnitOfWork(writer), ca, pid, _csr(key, pid), ChangeInfo("operator-test"),
                                    uc.Idempotency(), T0 + timedelta(days=60))  # fmt: skip

    with pytest.raises(FailedPrecondition):
        issue("ankang", k2)
    fresh = issue("ankang", ec.generate_private_key(ec.SECP256R1()))
    assert fresh.revoked_at is None
    assert revocations()["ankang"] == after["ankang"]
