"""The node CRL as RFC 5280 5.2 requires it: the CA's authority key identifier, and a CRL number that only grows,
across issuances and across a restart of the registry over the same database and CA."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from sqlalchemy import create_engine, text

from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from services.registry.main import RegistrySettings, build
from services.registry.store.repositories import SqlCertificates
from tests.conftest import PG_URL
from tests.registry_helpers import RegistryClient, change, csr_pem


@contextmanager
def _registry(database_url: str, var_dir: Path) -> Iterator[RegistryClient]:
    """A registry on a real port; each one started over the same database and var dir is a restart."""
    settings = RegistrySettings(
        listen_addr="127.0.0.1:0", database_url=database_url, var_dir=var_dir, ca_autocreate=True
    )
    server = build(settings, configure_logs=False)
    try:
        with grpc.insecure_channel(server.address) as channel:
            yield RegistryClient(channel)
    finally:
        server.stop(0)


def _crl(client: RegistryClient) -> tuple[x509.CertificateRevocationList, x509.Certificate]:
    response = client.registry.GetCertificateRevocationList(rs_pb.GetCertificateRevocationListRequest())
    return x509.load_der_x509_crl(response.crl_der), x509.load_pem_x509_certificate(
        response.ca_certificate_pem.encode()
    )


def _number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def test_the_crl_names_its_ca_by_key_and_its_number_grows_across_issuances_and_a_restart(
    database_url: str, tmp_path: Path
) -> None:
    with _registry(database_url, tmp_path) as client:
        platform, credential = client.admitted_platform("xian")
        client.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name=platform.name, change=change()))
        first, ca = _crl(client)
        assert first.is_signature_valid(ca.public_key())  # type: ignore[arg-type]
        assert first.get_revoked_certificate_by_serial_number(int(credential.serial, 16)) is not None
        aki = first.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
        assert not aki.critical
        ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
        assert aki.value.key_identifier == ski.digest
        number = first.extensions.get_extension_for_class(x509.CRLNumber)
        assert not number.critical
        second, _ = _crl(client)  # nothing revoked since: still a new CRL, with a greater number
        assert _number(second) > _number(first)
    with _registry(database_url, tmp_path) as client:
        third, ca_after = _crl(client)
        assert ca_after == ca
        assert _number(third) > _number(second)
        assert third.get_revoked_certificate_by_serial_number(int(credential.serial, 16)) is not None


def _reason(crl: x509.CertificateRevocationList, serial: str) -> x509.ReasonFlags | None:
    entry = crl.get_revoked_certificate_by_serial_number(int(serial, 16))
    assert entry is not None
    try:
        return entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    except x509.ExtensionNotFound:
        return None


def test_each_crl_entry_says_why_its_certificate_was_revoked(registry_server: str) -> None:
    # RFC 5280 5.3.1: CRL issuers are strongly encouraged to give meaningful reason codes. A relying party treats a
    # certificate superseded by its platform's next one differently from one whose platform lost its access.
    with grpc.insecure_channel(registry_server) as channel:
        client = RegistryClient(channel)
        rotated, first = client.admitted_platform("xian")
        csr, _ = csr_pem("xian")
        client.admin.IssuePlatformCertificate(
            admin_pb.IssuePlatformCertificateRequest(name=rotated.name, csr_pem=csr, change=change())
        )
        suspended, second = client.admitted_platform("baoji")
        client.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name=suspended.name, change=change()))
        removed, third = client.admitted_platform("weinan")
        client.admin.RemovePlatform(admin_pb.RemovePlatformRequest(name=removed.name, change=change()))
        exited, fourth = client.admitted_platform("ankang")
        client.admin.ExitPlatform(admin_pb.ExitPlatformRequest(name=exited.name, change=change()))
        crl, _ = _crl(client)
    assert _reason(crl, first.serial) == x509.ReasonFlags.superseded
    assert _reason(crl, second.serial) == x509.ReasonFlags.privilege_withdrawn
    assert _reason(crl, third.serial) == x509.ReasonFlags.privilege_withdrawn
    assert _reason(crl, fourth.serial) == x509.ReasonFlags.cessation_of_operation


def _until_done_or_waiting(thread: threading.Thread, database_url: str) -> None:
    """Until ``thread`` ended or a session of the database waits for a lock (the test timeout bounds it)."""
    engine = create_engine(database_url)
    waiting = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    try:
        while thread.is_alive():
            with engine.connect() as conn:
                if conn.execute(waiting).scalar_one():
                    return
            threading.Event().wait(0.01)  # paces the poll only
    finally:
        engine.dispose()


@pytest.mark.skipif(not PG_URL, reason="a PostgreSQL race: SQLite serialises writers")
def test_a_crl_with_a_greater_number_never_lists_less_than_one_issued_while_it_was_read(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A CRL reads the revoked certificates; meanwhile a suspension revokes one and another CRL is issued. A relying
    # party keeps the CRL of the greater number: it must list whatever the lesser one lists.
    with _registry(database_url, tmp_path) as client:
        platform, credential = client.admitted_platform("xian")
        original = SqlCertificates.revoked
        other: list[x509.CertificateRevocationList] = []
        meanwhile: list[threading.Thread] = []

        def revocation_and_crl_meanwhile(self: SqlCertificates) -> Any:
            found = original(self)
            if not meanwhile:

                def run() -> None:
                    client.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name=platform.name, change=change()))
                    other.append(_crl(client)[0])

                meanwhile.append(threading.Thread(target=run))
                meanwhile[0].start()
                _until_done_or_waiting(meanwhile[0], database_url)
            return found

        monkeypatch.setattr(SqlCertificates, "revoked", revocation_and_crl_meanwhile)
        first, _ = _crl(client)
        meanwhile[0].join(60)
        monkeypatch.undo()
        assert not meanwhile[0].is_alive()
        (second,) = other
        lesser, greater = sorted((first, second), key=_number)
        assert _number(lesser) < _number(greater)
        serial = int(credential.serial, 16)
        assert second.get_revoked_certificate_by_serial_number(serial) is not None  # read after the suspension
        listed = {r.serial_number for r in lesser}
        assert listed <= {r.serial_number for r in greater}


@pytest.mark.skipif(not PG_URL, reason="a PostgreSQL race: SQLite serialises writers")
def test_a_crl_with_a_greater_number_is_never_dated_before_one_with_a_lesser(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The time was read before the number was taken: a request that read the clock, then waited while another CRL
    # was numbered and dated, took the greater number with the earlier date. A relying party comparing dates would
    # keep the lesser CRL as the newer.
    ticks = [datetime.now(UTC)]

    def clock() -> datetime:
        ticks[0] += timedelta(minutes=1)  # CRL dates keep whole seconds: each reading a minute on
        return ticks[0]

    monkeypatch.setattr("services.registry.main.utcnow", clock)
    with _registry(database_url, tmp_path) as client:
        original = SqlCertificates.next_crl_number
        other: list[x509.CertificateRevocationList] = []

        started: list[threading.Thread] = []

        def another_crl_first(self: SqlCertificates) -> int:
            if not started:  # the first request only: the other one takes its number straight away
                meanwhile = threading.Thread(target=lambda: other.append(_crl(client)[0]))
                started.append(meanwhile)
                meanwhile.start()
                meanwhile.join(60)
            return original(self)

        monkeypatch.setattr(SqlCertificates, "next_crl_number", another_crl_first)
        first, _ = _crl(client)
    (second,) = other
    assert _number(second) < _number(first)
    assert second.last_update_utc <= first.last_update_utc
