"""Who is calling, and whether they may be served now: authentication results and the access checks, in order."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from services.kit.errors import PermissionDenied, Unauthenticated

SPIFFE_PREFIX = "spiffe://creditnode/platforms/"


@dataclass(frozen=True)
class PlatformView:
    """What the gateway knows of a platform from the participant watch."""

    name: str
    access_allowed: bool  # the registry's effective access: own status ADMITTED and, when proxied, the proxy's too
    proxy: str  # "platforms/qinxinrong" for a proxied platform, "" for a direct one
    is_aggregator: bool
    # The serial of the platform's only valid client certificate, None when it has none. The registry revokes the
    # previous one whenever it issues another, so a certificate with any other serial is refused.
    certificate_serial: int | None


@dataclass(frozen=True)
class InstitutionView:
    """What the gateway knows of an institution from the participant watch."""

    name: str
    platform: str
    active_with_access: bool
    arbiter: bool = False  # an arbitration commission or court: may request evidence packages


@dataclass(frozen=True)
class Caller:
    """An authenticated caller after every access check: the platform served, and the institution when named."""

    platform: str  # the platform whose data rights apply ("platforms/{id}")
    via: str  # the platform that actually connected (秦信融 for a proxied platform, else == platform)
    institution: str = ""

    @property
    def requester(self) -> str:
        """The consent requester: the institution when one is named, else the platform."""
        return self.institution or self.platform


def platform_from_uri_sans(uris: list[str]) -> str:
    """The platform name from a certificate's URI SANs: exactly one spiffe://creditnode/platforms/{id}."""
    ids = [u.removeprefix(SPIFFE_PREFIX) for u in uris if u.startswith(SPIFFE_PREFIX)]
    if len(ids) != 1 or not ids[0] or "/" in ids[0]:
        raise Unauthenticated("ERROR_REASON_UNAUTHENTICATED", "the client certificate names no platform")
    return f"platforms/{ids[0]}"


def _denied(platform: str) -> PermissionDenied:
    return PermissionDenied(
        "ERROR_REASON_PLATFORM_NOT_ADMITTED", "the platform has no access to the node", {"platform": platform}
    )


def authorize_caller(
    connected: str,
    on_behalf_of: str,
    institution: str,
    platforms: Callable[[str], PlatformView | None],
    institutions: Callable[[str], InstitutionView | None],
) -> Caller:
    """Steps 2 and 3: the connected platform (and the proxied one) has access; the institution is the platform's and
    active with access. Unknown and refused look the same to the caller (permission before existence)."""
    me = platforms(connected)
    if me is None or not me.access_allowed:
        raise _denied(connected)
    platform = connected
    if on_behalf_of and on_behalf_of != connected:
        target = platforms(on_behalf_of)
        if not me.is_aggregator or target is None or target.proxy != connected:
            raise PermissionDenied(
                "ERROR_REASON_NOT_A_PROXY", "the caller does not proxy that platform", {"platform": connected}
            )
        if not target.access_allowed:
            raise _denied(on_behalf_of)
        platform = on_behalf_of
    if institution:
        inst = institutions(institution)
        if inst is None or inst.platform != platform or not inst.active_with_access:
            # The name is the caller's and may name nothing: it is not echoed (it may hold personal data).
            raise PermissionDenied(
                "ERROR_REASON_INSTITUTION_NO_ACCESS", "the institution has no access through this platform"
            )
    return Caller(platform=platform, via=connected, institution=institution)
