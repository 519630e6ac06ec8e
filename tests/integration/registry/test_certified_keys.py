"""Which platform a public key is certified for, through the use cases on the configured backend: expiry does not free
a key, and two platforms racing for one key cannot both get it (PostgreSQL; SQLite serializes writers)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import Engine

from services.kit.db import session_factories
from services.kit.errors import FailedPrecondition
from services.registry import usecases as uc
from services.registry.ca import FileCertificateAuthority
from services.registry.domain.participants import ChangeInfo, Docking, Platform, PlatformKind, PlatformStatus
from services.registry.domain.ports import IssuedCertificate
from services.registry.store.repositories import SqlCertificates, SqlRegistryUnitOfWork
from tests.conftest import PG_URL
from tests.registry_helpers import csr_pem

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
Uow = Callable[[], SqlRegistryUnitOfWork]


@pytest.fixture
def uow(engine: Engine) -> Uow:
    writer, _ = session_factories(engine)
    with SqlRegistryUnitOfWork(writer) as u:
        for pid in ("xian", "baoji"):
            u.platforms.add(Platform(pid, pid, PlatformKind.CITY, "610100", Docking.DIRECT, None,
                                     PlatformStatus.ADMITTED, NOW, NOW))  # fmt: skip
        u.commit()
    return lambda: SqlRegistryUnitOfWork(writer)


@pytest.fixture
def ca(tmp_path: Path) -> FileCertificateAuthority:
    return FileCertificateAuthority(tmp_path / "ca", autocreate=True, now=NOW)


def _csr_for(key: ec.EllipticCurvePrivateKey, platform_id: str) -> str:
    builder = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, platform_id)])
    )
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()


def _issue(uow: Uow, ca: FileCertificateAuthority, platform_id: str, csr: str, now: datetime) -> IssuedCertificate:
    return uc.issue_certificate(uow(), ca, platform_id, csr, ChangeInfo("operator-test"), uc.Idempotency(), now)


def test_an_expired_certificates_key_is_still_refused_for_another_platform(
    uow: Uow, ca: FileCertificateAuthority
) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    issued = _issue(uow, ca, "xian", _csr_for(key, "xian"), NOW)
    later = NOW + timedelta(days=400)
    assert issued.not_after < later
    with pytest.raises(FailedPrecondition) as err:
        _issue(uow, ca, "baoji", _csr_for(key, "baoji"), later)
    assert err.value.reason == "ERROR_REASON_KEY_ALREADY_CERTIFIED"
    # The holder renews its expired certificate with the same key.
    renewed = _issue(uow, ca, "xian", _csr_for(key, "xian"), later)
    assert renewed.not_after > later
    assert renewed.public_key_sha256 == issued.public_key_sha256


@pytest.mark.skipif(not PG_URL, reason="a PostgreSQL race: SQLite serialises writers")
def test_two_platforms_racing_for_one_key_cannot_both_get_it(
    uow: Uow, ca: FileCertificateAuthority, monkeypatch: pytest.MonkeyPatch
) -> None:
    for pid in ("xian", "baoji"):
        _issue(uow, ca, pid, csr_pem(pid)[0], NOW)
    # Both requests have read that nobody holds the key before either stores its certificate: the worst order for a
    # check made only by reading.
    both_checked = threading.Barrier(2, timeout=30)
    add = SqlCertificates.add

    def add_after_both_checked(self: SqlCertificates, certificate: IssuedCertificate) -> None:
        both_checked.wait()
        add(self, certificate)

    monkeypatch.setattr(SqlCertificates, "add", add_after_both_checked)
    key = ec.generate_private_key(ec.SECP256R1())
    results: dict[str, Any] = {}

    def rotate(pid: str) -> None:
        try:
            results[pid] = _issue(uow, ca, pid, _csr_for(key, pid), NOW + timedelta(minutes=1))
        except BaseException as exc:  # reported by the test, not lost in the thread
            results[pid] = exc

    threads = [threading.Thread(target=rotate, args=(pid,)) for pid in ("xian", "baoji")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads)
    won = [pid for pid, r in results.items() if isinstance(r, IssuedCertificate)]
    lost = [r for r in results.values() if not isinstance(r, IssuedCertificate)]
    assert len(won) == 1, results
    assert len(lost) == 1
    assert isinstance(lost[0], FailedPrecondition), repr(lost[0])
    assert lost[0].reason == "ERROR_REASON_KEY_ALREADY_CERTIFIED"
    with uow() as u:
        holder = u.certificates.key(results[won[0]].public_key_sha256)
        loser = next(pid for pid in results if pid not in won)
        loser_platform = u.platforms.get(loser)
        loser_cert = u.certificates.get(loser_platform.certificate_serial)
    assert holder is not None
    assert holder.platform_id == won[0]
    assert loser_cert is not None
    assert loser_cert.revoked_at is None  # the loser keeps its current certificate
