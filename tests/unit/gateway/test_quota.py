"""Quotas: requests per minute and distinct enterprises per day, per platform and per institution."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.gateway.domain.quota import QuotaLimits, Quotas
from services.kit.errors import ResourceExhausted


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_requests_per_minute_slide() -> None:
    clock = Clock()
    q = Quotas(QuotaLimits(requests_per_minute=2, enterprises_per_day=0), clock)
    q.charge(["platforms/a"], "enterprises/x")
    q.charge(["platforms/a"], "enterprises/x")
    with pytest.raises(ResourceExhausted) as err:
        q.charge(["platforms/a"], "enterprises/x")
    assert err.value.reason == "ERROR_REASON_RESOURCE_EXHAUSTED"
    q.charge(["platforms/b"], "enterprises/x")  # another platform has its own quota
    clock.now += 60.001
    q.charge(["platforms/a"], "enterprises/x")


def test_distinct_enterprises_per_day_and_institution_counted_separately() -> None:
    clock = Clock()
    q = Quotas(QuotaLimits(requests_per_minute=0, enterprises_per_day=2), clock)
    q.charge(["platforms/a", "institutions/i"], "enterprises/1")
    q.charge(["platforms/a", "institutions/i"], "enterprises/2")
    q.charge(["platforms/a", "institutions/i"], "enterprises/1")  # already counted today
    with pytest.raises(ResourceExhausted):
        q.charge(["platforms/a"], "enterprises/3")
    with pytest.raises(ResourceExhausted):
        q.charge(["institutions/i"], "enterprises/3")
    clock.now += 86_400
    q.charge(["platforms/a"], "enterprises/3")


def test_a_refused_request_is_not_counted_against_any_subject() -> None:
    q = Quotas(QuotaLimits(requests_per_minute=1, enterprises_per_day=0), Clock())
    q.charge(["institutions/i"], "")
    with pytest.raises(ResourceExhausted):
        q.charge(["platforms/a", "institutions/i"], "")
    q.charge(["platforms/a"], "")


def test_days_turn_over_at_midnight_in_shanghai() -> None:
    clock = Clock()
    clock.now = datetime(2026, 11, 30, 15, 30, tzinfo=UTC).timestamp()  # 23:30 in Xi'an
    q = Quotas(QuotaLimits(requests_per_minute=0, enterprises_per_day=1), clock)
    q.charge(["platforms/a"], "enterprises/1")
    clock.now += 3_600  # 00:30 the next day in Xi'an, still 30 November in UTC
    q.charge(["platforms/a"], "enterprises/2")
    clock.now += 7 * 3_600  # 07:30 in Xi'an, midnight UTC has passed: the same Shanghai day
    with pytest.raises(ResourceExhausted):
        q.charge(["platforms/a"], "enterprises/3")


def test_by_default_the_clock_counts_from_the_epoch() -> None:
    # The daily count resets at midnight only if the clock counts from the epoch (a monotonic one counts from boot).
    quotas = Quotas(QuotaLimits(requests_per_minute=0, enterprises_per_day=1))
    assert abs(quotas._clock() - datetime.now(UTC).timestamp()) < 5
