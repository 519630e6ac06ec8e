"""The participant cache trusts its revoked-serial list only while it is fresh: a CRL it cannot refresh fails closed."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import grpc
import pytest

from creditnode.registry.v1 import registry_service_pb2 as rs
from services.gateway.clients.participants import ParticipantCache


class _Down(grpc.RpcError):
    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE


@dataclass
class _Registry:
    serials: list[str] = field(default_factory=lambda: ["0a"])
    down: bool = False

    def GetCertificateRevocationList(self, request: object, timeout: float) -> rs.GetCertificateRevocationListResponse:
        if self.down:
            raise _Down()
        return rs.GetCertificateRevocationListResponse(revoked_serials=self.serials)


def _cache(registry: _Registry, now: list[float]) -> ParticipantCache:
    cache = ParticipantCache(grpc.insecure_channel("127.0.0.1:9"), crl_refresh_seconds=30, clock=lambda: now[0])
    cache._stub = registry  # type: ignore[assignment]  # threads are never started: the test drives refreshes
    cache._listing, cache._lease_until = False, float("inf")  # the participant watch itself is live throughout
    return cache


def test_a_crl_that_cannot_be_refreshed_for_three_periods_fails_closed() -> None:
    registry, now = _Registry(), [100.0]
    cache = _cache(registry, now)
    assert not cache.live()  # no CRL yet
    cache.refresh_crl()
    assert cache.live()
    assert cache.revoked(0x0A)
    registry.down = True
    now[0] = 189.0
    with pytest.raises(grpc.RpcError):
        cache.refresh_crl()
    assert cache.live()  # a missed refresh or two is tolerated
    now[0] = 190.0
    assert not cache.live()  # 90 s without a CRL: a certificate revoked meanwhile would not be known
    registry.down = False
    cache.refresh_crl()
    assert cache.live()


def test_a_malformed_serial_keeps_the_last_list_and_counts_as_a_failed_refresh() -> None:
    registry, now = _Registry(), [0.0]
    cache = _cache(registry, now)
    cache.refresh_crl()
    registry.serials = ["not-hex"]
    with pytest.raises(ValueError, match="invalid literal"):
        cache.refresh_crl()
    assert cache.revoked(0x0A)
    now[0] = 90.0
    assert not cache.live()


class _SlowFirstAnswer:
    """The first refresh reads the list before a revocation and answers late; the next one reads it after."""

    def __init__(self) -> None:
        self.calls = 0
        self.asked, self.release = threading.Event(), threading.Event()

    def GetCertificateRevocationList(self, request: object, timeout: float) -> rs.GetCertificateRevocationListResponse:
        self.calls += 1
        if self.calls == 1:
            self.asked.set()
            self.release.wait(10)
            return rs.GetCertificateRevocationListResponse(revoked_serials=[])
        return rs.GetCertificateRevocationListResponse(revoked_serials=["abc"])


def test_an_older_crl_answer_never_replaces_a_newer_one() -> None:
    registry = _SlowFirstAnswer()
    cache = _cache(_Registry(), [0.0])
    cache._stub = registry  # type: ignore[assignment]
    periodic = threading.Thread(target=cache.refresh_crl)
    periodic.start()
    assert registry.asked.wait(10)
    after_event = threading.Thread(target=cache.refresh_crl)  # a platform event: the certificate was rotated out
    after_event.start()
    time.sleep(0.2)
    registry.release.set()
    periodic.join(10)
    after_event.join(10)
    assert cache.revoked(0xABC)


def test_a_platform_change_whose_crl_cannot_be_fetched_fails_closed_until_one_is() -> None:
    from creditnode.registry.v1 import participants_pb2 as pp

    registry, now = _Registry(), [0.0]
    cache = _cache(registry, now)
    cache.refresh_crl()
    assert cache.live()
    # The registry re-issued xian's certificate (revoking the old one), and its revocation list cannot be read.
    registry.down = True
    p = pp.Platform(name="platforms/xian", status=pp.PLATFORM_STATUS_ADMITTED, access=pp.ACCESS_ALLOWED)
    event = rs.ParticipantEvent(type=rs.PARTICIPANT_EVENT_TYPE_UPSERT, participant=pp.Participant(platform=p))
    cache._apply(rs.WatchParticipantsAckedResponse(events=[event], revision=1))
    assert not cache.live()  # the old certificate would still be accepted: serve nobody instead
    registry.down = False
    cache.refresh_crl()
    assert cache.live()
