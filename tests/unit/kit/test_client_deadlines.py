"""Downstream deadlines: capped by the call being served, except for a call made on behalf of several callers."""

from __future__ import annotations

import time

from services.kit.client import _CallDetails, _DefaultDeadline, serving_many_callers
from services.kit.logging import current_call


def _timeout() -> float:
    details = _CallDetails("/s/M", None, None, None, None, None)
    timeout = _DefaultDeadline(5.0)._details(details).timeout
    assert timeout is not None  # every unary call gets one
    return float(timeout)


def test_a_call_gets_the_default_unless_the_call_served_has_less_left() -> None:
    assert _timeout() == 5.0
    token = current_call.set(("Serve", None, time.monotonic() + 1.0))
    try:
        assert _timeout() <= 1.0
        with serving_many_callers():  # a combined batch: one caller's haste must not fail the others
            assert _timeout() == 5.0
        assert _timeout() <= 1.0
    finally:
        current_call.reset(token)


def test_a_call_served_past_its_deadline_gets_none_left() -> None:
    token = current_call.set(("Serve", None, time.monotonic() - 1.0))
    try:
        assert _timeout() == 0.0
    finally:
        current_call.reset(token)
