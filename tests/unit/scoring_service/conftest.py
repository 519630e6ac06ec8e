"""The scoring service's use cases over in-memory fakes, with the basic model loaded."""

from __future__ import annotations

import pytest

from services.scoring import usecases
from services.scoring.data import model_text
from tests.unit.scoring_service.fakes import FakeConsent, FakeRecordSource, FakeUnitOfWork, Store
from tests.unit.scoring_service.test_usecases import NOW, World


@pytest.fixture
def world() -> World:
    store, records, consent = Store(), FakeRecordSource(), FakeConsent()
    sc = usecases.Scoring(
        writer=lambda: FakeUnitOfWork(store),
        reader=lambda: FakeUnitOfWork(store),
        records=records,
        consent=consent,
        clock=lambda: NOW,
    )
    usecases.ensure_model(sc, model_text())
    return sc, store, records, consent
