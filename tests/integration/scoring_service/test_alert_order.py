"""Alerts become visible in id order: a WatchAlerts cursor never passes an alert that commits later (PostgreSQL)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text

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


def _committed_or_waiting(other: threading.Thread, engine: Engine) -> None:
    """Return once ``other`` has committed or waits for a lock: a fixed sleep let a slow start of the other replica
    reach its insert only after the poll below, and the test then passed whatever the order of the commits."""
    deadline = time.monotonic() + 60  # generous: only a broken test gets here, and it fails loudly
    with engine.connect() as probe:
        while other.is_alive():
            waiting = probe.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                    " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
            probe.rollback()
            if waiting:
                return
            assert time.monotonic() < deadline, "the other replica neither committed nor came to wait for a lock"
            threading.Event().wait(0.01)  # paces the poll only


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
        _committed_or_waiting(other, engine)  # never polled before the other replica got as far as it can
        seen, cursor = usecases.deliverable_alerts(sc, "bank-a", 0, 100)  # WatchAlerts polls meanwhile
        slow.commit()
        slow.__exit__(None, None, None)
        other.join(10)
        assert not other.is_alive()
        later, _ = usecases.deliverable_alerts(sc, "bank-a", cursor, 100)
        assert sorted(a.key for a in seen + later) == ["k1", "k2"]
    finally:
        engine.dispose()
