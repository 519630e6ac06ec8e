"""Fixtures of the reliability suite: the run's scale."""

from __future__ import annotations

import pytest

from tests.reliability.scale import Scale, current


@pytest.fixture(scope="session")
def scale() -> Scale:
    return current()
