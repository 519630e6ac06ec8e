"""The node CRL as RFC 5280 5.2 requires it: the CA's authority key identifier, and a CRL number that only grows,
across issuances and across a restart of the registry over the same database and CA."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import grpc
from cryptography import x509

from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from services.registry.main import RegistrySettings, build
from tests.registry_helpers import RegistryClient, change


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
