"""The participant cache trusts its revoked-serial list only while it is fresh: a CRL it cannot refresh fails closed."""

from __future__ import annotations

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
    cache._listing, cache._fresh_until = False, float("inf")  # the participant watch itself is live throughout
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
