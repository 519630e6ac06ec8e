"""Admission reads one participant view: a listing begun after the liveness check does not refuse an admitted caller,
nor one begun after admission an evidence package's arbiter; nor does a listing under way let a certificate pass."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from creditnode.registry.v1 import participants_pb2 as pp
from creditnode.registry.v1 import registry_service_pb2 as rs
from services.gateway.clients.participants import ParticipantCache
from services.gateway.domain.identity import InstitutionView, PlatformView
from services.gateway.evidence_packages import EvidencePackages, PackageRequest
from services.gateway.usecases import Gateway
from services.kit.errors import Unavailable
from tests.unit.gateway.test_usecases import E, gw  # noqa: F401  (the fixture)

XIAN, BOC, COURT = "platforms/xian", "institutions/boc", "institutions/court"


class _RegistryGone(grpc.RpcError):
    """The revision this replica resumes from was never issued (a restored registry database): it lists again."""

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.FAILED_PRECONDITION


def _listing(acknowledged: int) -> rs.WatchParticipantsAckedResponse:
    platform = pp.Platform(
        name=XIAN, status=pp.PLATFORM_STATUS_ADMITTED, access=pp.ACCESS_ALLOWED, certificate_serial="0a"
    )
    institution = pp.Institution(
        name=BOC,
        platform=XIAN,
        type=pp.INSTITUTION_TYPE_BANK,
        status=pp.INSTITUTION_STATUS_ACTIVE,
        access=pp.ACCESS_ALLOWED,
    )
    lease = Duration()
    lease.FromSeconds(3)
    return rs.WatchParticipantsAckedResponse(
        events=[
            rs.ParticipantEvent(type=rs.PARTICIPANT_EVENT_TYPE_SNAPSHOT, participant=pp.Participant(platform=platform)),
            rs.ParticipantEvent(
                type=rs.PARTICIPANT_EVENT_TYPE_SNAPSHOT, participant=pp.Participant(institution=institution)
            ),
        ],
        revision=7,
        snapshot_complete=True,
        acknowledged=acknowledged,
        lease=lease,
    )


class _Registry:
    """First stream: a whole listing, then its acknowledgement confirmed (the view is live); it breaks when the test
    says so. Second stream (a new listing, from 0): opened, then silent until the test ends."""

    def __init__(self) -> None:
        self.calls = 0
        self.live = threading.Event()
        self.break_stream = threading.Event()
        self.relisting = threading.Event()
        self.done = threading.Event()

    def WatchParticipantsAcked(
        self, requests: Iterator[rs.WatchParticipantsAckedRequest]
    ) -> Iterator[rs.WatchParticipantsAckedResponse]:
        next(requests)
        self.calls += 1
        return self._first() if self.calls == 1 else self._second()

    def _first(self) -> Iterator[rs.WatchParticipantsAckedResponse]:
        yield _listing(0)
        yield _listing(1)
        self.live.set()
        self.break_stream.wait()
        raise _RegistryGone()

    def _second(self) -> Iterator[rs.WatchParticipantsAckedResponse]:
        self.relisting.set()  # the cache began its new listing (under its lock) before opening this stream
        self.done.wait()
        raise _RegistryGone()


class _RelistsOnFirstLookUp(dict[str, PlatformView]):
    """The platforms of the live view; the first look-up lets the watch break and begin a new listing, and waits
    until it has: a listing that begins between the liveness check and the reads."""

    def __init__(self, registry: _Registry, platforms: dict[str, PlatformView]) -> None:
        super().__init__(platforms)
        self._registry = registry

    def get(self, name: str, default: PlatformView | None = None) -> PlatformView | None:  # type: ignore[override]
        if not self._registry.relisting.is_set():
            self._registry.break_stream.set()
            self._registry.relisting.wait()
        return super().get(name, default)


def test_a_listing_begun_after_the_liveness_check_does_not_refuse_an_admitted_institution() -> None:
    registry = _Registry()
    cache = ParticipantCache(grpc.insecure_channel("127.0.0.1:9"), reconnect_seconds=0.0, clock=lambda: 0.0)
    cache._stub = registry  # type: ignore[assignment]
    cache.start()
    try:
        registry.live.wait()
        assert cache.live()
        with cache._lock:
            cache._platforms = _RelistsOnFirstLookUp(registry, cache._platforms)
        gateway = Gateway(cache, None, None, None, None, None, None)  # type: ignore[arg-type]
        caller = gateway.admit(XIAN, institution=BOC)
        assert (caller.platform, caller.institution) == (XIAN, BOC)
        assert not cache.live()  # the new listing is under way: the next request fails closed, UNAVAILABLE
    finally:
        registry.done.set()
        cache.close()


class _ListingBegunAfterAdmission:
    """Live at the first admission; a new listing begins right after it (the current maps swapped for empty ones, not
    live until it completes), as ParticipantCache's watch does after a broken listing."""

    def __init__(self) -> None:
        self.platforms = {XIAN: PlatformView(XIAN, True, "", False, 1)}
        self.institutions = {COURT: InstitutionView(COURT, XIAN, True, arbiter=True)}
        self.listing = False

    def admitting(
        self,
    ) -> tuple[Callable[[str], PlatformView | None], Callable[[str], InstitutionView | None]] | None:
        if self.listing:
            return None
        view = self.platforms.get, self.institutions.get
        self.listing, self.platforms, self.institutions = True, {}, {}
        return view

    def platform(self, name: str) -> PlatformView | None:
        return self.platforms.get(name)

    def institution(self, name: str) -> InstitutionView | None:
        return self.institutions.get(name)


def test_a_listing_begun_after_admission_does_not_refuse_an_evidence_packages_arbiter(gw: Gateway) -> None:  # noqa: F811
    # The arbiter is looked up in a live view too: read from the maps of a listing just begun it is no institution,
    # and the export refused NOT_AN_ARBITER, a denial recorded for ever; the view not live, it is UNAVAILABLE.
    gw.participants = _ListingBegunAfterAdmission()  # type: ignore[assignment]
    packages = EvidencePackages(gw, None, None, lambda loan, enterprise, lender: None)  # type: ignore[arg-type]
    with pytest.raises(Unavailable):
        packages.export(PackageRequest(COURT, "(2026)1", E, BOC, "loan-1"), XIAN)
    assert [leaf["reason"] for leaf in gw.disclosure_log.leaves] == [  # type: ignore[attr-defined]
        "ERROR_REASON_DEPENDENCY_UNAVAILABLE"
    ]


def test_a_certificate_is_checked_against_the_live_view_not_a_listing_under_way() -> None:
    # The certificate check read the current maps: during a listing a platform not listed yet was unknown, so any
    # certificate of it (a revoked one too) passed, and admission, once the listing had completed, let it in. The
    # check now reads the live view, and while none is live it fails closed, UNAVAILABLE, as admission does.
    registry = _Registry()
    cache = ParticipantCache(grpc.insecure_channel("127.0.0.1:9"), reconnect_seconds=0.0, clock=lambda: 0.0)
    cache._stub = registry  # type: ignore[assignment]
    cache.start()
    try:
        registry.live.wait()
        assert cache.platform(XIAN) is not None
        registry.break_stream.set()
        registry.relisting.wait()
        with pytest.raises(Unavailable):
            cache.platform(XIAN)
    finally:
        registry.done.set()
        cache.close()
