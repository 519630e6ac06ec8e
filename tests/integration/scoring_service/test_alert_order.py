"""Alerts become visible in id order: a WatchAlerts cursor never passes an alert that commits later (PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from services.kit.db import make_engine, migrate, session_factories
from services.scoring import usecases
from services.scoring.data import model_text
from services.scoring.domain.ports import Alert
from services.scoring.domain.records import RecordRef
from services.scoring.main import MIGRATIONS
from services.scoring.store.repositories import SqlScoringUnitOfWork
from tests.conftest import PG_URL
from tests.unit.scoring_service.fakes import FakeConsent, FakeRecordSource

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
A, B = "91610100MA6TEST001", "91610100MA6TEST002"


def alert(uscc: str, key: str) -> Alert:
    evidence = (RecordRef("r-" + key, 1, "COURT_ENFORCEMENT"),)
    return Alert(0, "bank-a", uscc, "loan-" + key, "NEW_ENFORCEMENT", "HIGH", "why", evidence, (), key, NOW)


@pytest.mark.skipif(not PG_URL, reason="PostgreSQL only: SQLite serialises writers")
def test_an_alert_committed_late_is_not_passed_by_the_cursor(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        migrate(engine, MIGRATIONS, "alembic_version_scoring")
        writer, reader = session_factories(engine)
        sc = usecases.Scoring(
            lambda: SqlScoringUnitOfWork(writer),
            lambda: SqlScoringUnitOfWork(reader),
            FakeRecordSource(),
            FakeConsent({("bank-a", A), ("bank-a", B)}),
            lambda: NOW,
        )
        usecases.ensure_model(sc, model_text())
        # Two replicas each store an alert for bank-a: the first inserts, then is slow to commit.
        slow = SqlScoringUnitOfWork(writer).__enter__()
        slow.alerts.add(alert(A, "k1"), True)

        def fast() -> None:
            with SqlScoringUnitOfWork(writer) as uow:
                uow.alerts.add(alert(B, "k2"), True)
                uow.commit()

        other = threading.Thread(target=fast)
        other.start()
        time.sleep(0.5)  # the other replica's commit, had it not waited for the first
        seen, cursor = usecases.deliverable_alerts(sc, "bank-a", 0, 100)  # WatchAlerts polls meanwhile
        slow.commit()
        slow.__exit__(None, None, None)
        other.join(10)
        assert not other.is_alive()
        later, _ = usecases.deliverable_alerts(sc, "bank-a", cursor, 100)
        assert sorted(a.key for a in seen + later) == ["k1", "k2"]
    finally:
        engine.dispose()
