"""Access checks 2 and 3 over every platform status, proxying and institutions, and the certificate's URI SAN."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from creditnode.registry.v1 import participants_pb2 as pp
from services.gateway.api.identity import CertificateIdentity, RevokedCertificate, revoked_certificate_of
from services.gateway.clients.participants import institution_view, platform_view
from services.gateway.domain.identity import (
    InstitutionView,
    PlatformView,
    authorize_caller,
    platform_from_uri_sans,
)
from services.kit.errors import PermissionDenied, Unauthenticated

STATUSES = [s for s in pp.PlatformStatus.values() if s != pp.PLATFORM_STATUS_UNSPECIFIED]


def _platform(
    name: str, status: int, *, access: bool | None = None, proxy: str = "", aggregator: bool = False
) -> PlatformView:
    allowed = status == pp.PLATFORM_STATUS_ADMITTED if access is None else access
    return platform_view(
        pp.Platform(
            name=name,
            status=status,  # type: ignore[arg-type]
            access=pp.ACCESS_ALLOWED if allowed else pp.ACCESS_DENIED,
            proxy=proxy,
            kind=pp.PLATFORM_KIND_AGGREGATOR if aggregator else pp.PLATFORM_KIND_CITY,
        )
    )


@pytest.mark.parametrize("status", STATUSES)
def test_only_an_admitted_platform_is_served(status: int) -> None:
    platforms = {"platforms/xian": _platform("platforms/xian", status)}
    if status == pp.PLATFORM_STATUS_ADMITTED:
        assert authorize_caller("platforms/xian", "", "", platforms.get, {}.get).platform == "platforms/xian"
    else:
        with pytest.raises(PermissionDenied) as err:
            authorize_caller("platforms/xian", "", "", platforms.get, {}.get)
        assert err.value.reason == "ERROR_REASON_PLATFORM_NOT_ADMITTED"


def test_unknown_platform_is_refused_like_a_suspended_one() -> None:
    with pytest.raises(PermissionDenied) as err:
        authorize_caller("platforms/ghost", "", "", {}.get, {}.get)
    assert err.value.reason == "ERROR_REASON_PLATFORM_NOT_ADMITTED"


@pytest.mark.parametrize("proxy_status", STATUSES)
@pytest.mark.parametrize("own_status", STATUSES)
def test_proxied_platform_counts_the_aggregators_status_too(own_status: int, proxy_status: int) -> None:
    proxy_ok = proxy_status == pp.PLATFORM_STATUS_ADMITTED
    own_ok = own_status == pp.PLATFORM_STATUS_ADMITTED
    platforms = {
        "platforms/qinxinrong": _platform("platforms/qinxinrong", proxy_status, aggregator=True),
        # The registry's effective access already combines both statuses.
        "platforms/county": _platform(
            "platforms/county", own_status, access=own_ok and proxy_ok, proxy="platforms/qinxinrong"
        ),
    }
    if own_ok and proxy_ok:
        caller = authorize_caller("platforms/qinxinrong", "platforms/county", "", platforms.get, {}.get)
        assert (caller.platform, caller.via, caller.requester) == (
            "platforms/county",
            "platforms/qinxinrong",
            "platforms/county",
        )
    else:
        with pytest.raises(PermissionDenied):
            authorize_caller("platforms/qinxinrong", "platforms/county", "", platforms.get, {}.get)


def test_only_the_aggregator_of_a_platform_may_act_for_it() -> None:
    platforms = {
        "platforms/qinxinrong": _platform("platforms/qinxinrong", pp.PLATFORM_STATUS_ADMITTED, aggregator=True),
        "platforms/xian": _platform("platforms/xian", pp.PLATFORM_STATUS_ADMITTED),
        "platforms/county": _platform("platforms/county", pp.PLATFORM_STATUS_ADMITTED, proxy="platforms/qinxinrong"),
    }
    for connected, target in (("platforms/xian", "platforms/county"), ("platforms/qinxinrong", "platforms/xian")):
        with pytest.raises(PermissionDenied) as err:
            authorize_caller(connected, target, "", platforms.get, {}.get)
        assert err.value.reason == "ERROR_REASON_NOT_A_PROXY"


@pytest.mark.parametrize(
    ("status", "access", "platform", "ok"),
    [
        (pp.INSTITUTION_STATUS_ACTIVE, pp.ACCESS_ALLOWED, "platforms/xian", True),
        (pp.INSTITUTION_STATUS_ACTIVE, pp.ACCESS_DENIED, "platforms/xian", False),
        (pp.INSTITUTION_STATUS_SUSPENDED, pp.ACCESS_ALLOWED, "platforms/xian", False),
        (pp.INSTITUTION_STATUS_REMOVED, pp.ACCESS_ALLOWED, "platforms/xian", False),
        (pp.INSTITUTION_STATUS_ACTIVE, pp.ACCESS_ALLOWED, "platforms/baoji", False),
    ],
)
def test_institution_must_be_the_platforms_and_active_with_access(
    status: int, access: int, platform: str, ok: bool
) -> None:
    platforms = {"platforms/xian": _platform("platforms/xian", pp.PLATFORM_STATUS_ADMITTED)}
    inst: dict[str, InstitutionView] = {
        "institutions/boc": institution_view(
            pp.Institution(name="institutions/boc", platform=platform, status=status, access=access)  # type: ignore[arg-type]
        )
    }
    if ok:
        assert authorize_caller("platforms/xian", "", "institutions/boc", platforms.get, inst.get).requester == (
            "institutions/boc"
        )
    else:
        with pytest.raises(PermissionDenied) as err:
            authorize_caller("platforms/xian", "", "institutions/boc", platforms.get, inst.get)
        assert err.value.reason == "ERROR_REASON_INSTITUTION_NO_ACCESS"


def test_identity_is_exactly_one_platform_spiffe_uri() -> None:
    assert platform_from_uri_sans(["spiffe://creditnode/platforms/xian"]) == "platforms/xian"
    for bad in (
        [],
        ["spiffe://creditnode/platforms/"],
        ["spiffe://other/platforms/xian"],
        ["spiffe://creditnode/platforms/a/b"],
        ["spiffe://creditnode/platforms/a", "spiffe://creditnode/platforms/b"],
    ):
        with pytest.raises(Unauthenticated):
            platform_from_uri_sans(bad)


class _PeerContext:
    def __init__(self, pem: bytes) -> None:
        self._pem = pem

    def auth_context(self) -> dict[str, list[bytes]]:
        return {"x509_pem_cert": [self._pem]}


def _client_certificate(platform_uri: str) -> tuple[bytes, int]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "client")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.UniformResourceIdentifier(platform_uri)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), cert.serial_number


def _current(name: str, serial: int | None) -> PlatformView:
    view = _platform(name, pp.PLATFORM_STATUS_ADMITTED)
    return PlatformView(view.name, view.access_allowed, view.proxy, view.is_aggregator, serial)


def test_only_the_platforms_current_certificate_is_accepted() -> None:
    pem, serial = _client_certificate("spiffe://creditnode/platforms/xian")
    context: Any = _PeerContext(pem)
    assert CertificateIdentity({"platforms/xian": _current("platforms/xian", serial)}.get)(context) == "platforms/xian"
    # Re-issued (another serial is current), suspended (none is), or signed by the CA but never issued to it.
    for current in (serial + 1, None):
        with pytest.raises(RevokedCertificate) as err:
            CertificateIdentity({"platforms/xian": _current("platforms/xian", current)}.get)(context)
        assert (err.value.reason, err.value.platform) == ("ERROR_REASON_CERTIFICATE_REVOKED", "platforms/xian")
        assert revoked_certificate_of(err.value) == "platforms/xian"


def test_a_certificate_naming_an_unknown_platform_is_left_to_admission_to_refuse() -> None:
    pem, _ = _client_certificate("spiffe://creditnode/platforms/ghost")
    context: Any = _PeerContext(pem)
    # Refused at step 2 with PERMISSION_DENIED, as every caller without access is: unknown and refused look alike.
    assert CertificateIdentity({}.get)(context) == "platforms/ghost"


def test_the_watched_serial_is_read_as_hex_and_a_malformed_one_accepts_no_certificate() -> None:
    def view(serial: str) -> PlatformView:
        return platform_view(pp.Platform(name="platforms/xian", certificate_serial=serial))

    assert view("0a1B").certificate_serial == 0x0A1B
    assert view("").certificate_serial is None
    assert view("not-hex").certificate_serial is None
