"""Quotas per platform and per institution: requests per minute and distinct enterprises per day."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from services.kit.errors import ResourceExhausted
from services.kit.workdays import SHANGHAI

DAY = 86_400.0
MINUTE = 60.0
# Days are Asia/Shanghai calendar days, when the platforms' working day turns over (a UTC day reset the daily count at
# 08:00 in Xi'an).
SHANGHAI_OFFSET = SHANGHAI.utcoffset(None).total_seconds()


@dataclass(frozen=True)
class QuotaLimits:
    """0 switches a limit off."""

    requests_per_minute: int = 600
    enterprises_per_day: int = 5000


@dataclass
class _Usage:
    requests: deque[float] = field(default_factory=deque)
    day: int = -1
    enterprises: set[str] = field(default_factory=set)


class Quotas:
    """Sliding-minute request counts and calendar-day (Asia/Shanghai, by the clock given) distinct-enterprise sets, in
    memory per replica: with N replicas behind a balancer a subject gets up to N times the minute's limit, and more
    than N times the day's when a replica restarts within the day (its count starts afresh; documented)."""

    def __init__(self, limits: QuotaLimits, clock: Callable[[], float] = time.time) -> None:
        # The clock is wall time in seconds since the epoch: days are calendar days only on that scale (a monotonic
        # clock counts from boot, which put the daily reset at an arbitrary hour).
        self.limits = limits
        self._clock = clock
        self._lock = threading.Lock()
        self._usage: dict[str, _Usage] = {}

    def charge(self, subjects: list[str], enterprise: str) -> None:
        """Count one request about ``enterprise`` against every subject, or raise RESOURCE_EXHAUSTED (counting none)."""
        now = self._clock()
        day = int((now + SHANGHAI_OFFSET) // DAY)
        with self._lock:
            usages = [self._usage.setdefault(s, _Usage()) for s in subjects]
            for subject, u in zip(subjects, usages, strict=True):
                while u.requests and u.requests[0] <= now - MINUTE:
                    u.requests.popleft()
                if u.day != day:
                    u.day, u.enterprises = day, set()
                rpm, epd = self.limits.requests_per_minute, self.limits.enterprises_per_day
                if rpm and len(u.requests) >= rpm:
                    raise _exhausted(subject, "requests_per_minute", rpm)
                if epd and enterprise and enterprise not in u.enterprises and len(u.enterprises) >= epd:
                    raise _exhausted(subject, "enterprises_per_day", epd)
            for u in usages:
                u.requests.append(now)
                if enterprise:
                    u.enterprises.add(enterprise)


def _exhausted(subject: str, quota: str, limit: int) -> ResourceExhausted:
    return ResourceExhausted(
        "ERROR_REASON_RESOURCE_EXHAUSTED",
        f"quota {quota} of {limit} reached",
        {"subject": subject[:80], "quota": quota, "limit": str(limit)},
    )
