"""Step 1: who is calling, from the mTLS client certificate (or, only in explicit insecure dev mode, metadata)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import grpc
from cryptography import x509

from services.gateway.domain.identity import PlatformView, platform_from_uri_sans
from services.kit.errors import Unauthenticated

DEV_HEADER = "x-creditnode-platform"


def _unauthenticated(message: str) -> Unauthenticated:
    return Unauthenticated("ERROR_REASON_UNAUTHENTICATED", message)


class RevokedCertificate(Unauthenticated):
    """A certificate for a known platform that is not its current one (revoked by a suspension, a removal or a
    re-issue, or never issued by the registry): refused, but whom it names is known, so the refusal can be recorded
    against that platform for the operator."""

    def __init__(self, platform: str) -> None:
        super().__init__("ERROR_REASON_CERTIFICATE_REVOKED", "the client certificate is revoked")
        self.platform = platform


def revoked_certificate_of(exc: BaseException) -> str:
    """The platform a refused caller's revoked certificate was issued to; empty for any other refusal."""
    return exc.platform if isinstance(exc, RevokedCertificate) else ""


class CertificateIdentity:
    """Reads the verified peer certificate (the TLS layer checked the chain against the node CA) and accepts it only
    as the platform's current certificate, as the participant watch says: the registry holds a revoking change until
    every replica acknowledged it, so a revoked certificate is refused from the moment that change returns, without
    a revocation list to fetch."""

    def __init__(self, platforms: Callable[[str], PlatformView | None]) -> None:
        self._platforms = platforms
        self._lock = threading.Lock()
        self._parsed: dict[bytes, tuple[int, str | None]] = {}

    def _parse(self, pem: bytes) -> tuple[int, str | None]:
        cached = self._parsed.get(pem)
        if cached is not None:
            return cached
        try:
            cert = x509.load_pem_x509_certificate(pem)
        except ValueError:
            return (0, None)
        try:
            if cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
                parsed: tuple[int, str | None] = (cert.serial_number, None)  # a CA certificate is never a client
                return self._remember(pem, parsed)
        except x509.ExtensionNotFound:
            pass
        try:
            uris = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            names = uris.get_values_for_type(x509.UniformResourceIdentifier)
        except x509.ExtensionNotFound:
            names = []
        try:
            platform: str | None = platform_from_uri_sans(names)
        except Unauthenticated:
            platform = None
        return self._remember(pem, (cert.serial_number, platform))

    def _remember(self, pem: bytes, parsed: tuple[int, str | None]) -> tuple[int, str | None]:
        with self._lock:
            if len(self._parsed) > 4096:
                self._parsed.clear()
            self._parsed[pem] = parsed
        return parsed

    def __call__(self, context: grpc.ServicerContext) -> str:
        certs = list(context.auth_context().get("x509_pem_cert") or [])
        if not certs:
            raise _unauthenticated("a client certificate is required")
        serial, platform = self._parse(bytes(certs[0]))
        if platform is None:
            raise _unauthenticated("the client certificate names no platform")
        # The live participant view (UNAVAILABLE while none is live: a listing under way does not know every platform
        # yet). An unknown platform passes here and is refused at admission, as any caller without access is.
        view = self._platforms(platform)
        if view is not None and view.certificate_serial != serial:
            raise RevokedCertificate(platform)
        return platform


class DevHeaderIdentity:
    """GATEWAY_INSECURE_DEV only: the platform named in metadata, trusted blindly."""

    def __call__(self, context: grpc.ServicerContext) -> str:
        for key, value in context.invocation_metadata() or ():
            if key == DEV_HEADER and isinstance(value, str) and value.startswith("platforms/"):
                return value
        raise _unauthenticated(f"insecure dev mode: send metadata {DEV_HEADER}")


Identify = Callable[[grpc.ServicerContext], str]
