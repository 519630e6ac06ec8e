"""How big a run is: `ci` (bounded, `make reliability`) or `full` (`make bench ONLY=reliability`)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """Counts and durations of one run."""

    name: str
    revocations: int
    authz_requests: int
    hostile_per_rpc: int
    load_seconds: float
    fuzz_runs: int
    fault_backends: tuple[str, ...]
    phase_seconds: float  # workload time before and after each fault


SCALES = {
    "ci": Scale("ci", 30, 3000, 300, 30.0, 30_000, ("postgresql",), 2.0),
    "full": Scale("full", 200, 6000, 10_000, 180.0, 500_000, ("postgresql", "sqlite"), 5.0),
}


def current() -> Scale:
    return SCALES[os.environ.get("RELIABILITY_SCALE", "ci")]
