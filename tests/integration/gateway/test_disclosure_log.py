"""The gateway's own database (SQLite and PostgreSQL): the disclosure log's migrations, durable appends and history;
self-query nonces shared by replicas."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services.gateway.main import MIGRATIONS
from services.gateway.store.disclosures import EvidenceDisclosureLog
from services.gateway.store.models import evidence_models
from services.gateway.store.nonces import SqlNonces
from services.kit.db import make_engine, migrate, session_factories
from services.kit.errors import InvalidArgument
from services.kit.evidence.heads import NodeKey
from services.kit.evidence.log import EvidenceLog


@pytest.fixture
def log(database_url: str, tmp_path: Path) -> Iterator[EvidenceDisclosureLog]:
    engine = make_engine(database_url)
    migrate(engine, MIGRATIONS, version_table="alembic_version_gateway")
    evidence = EvidenceLog(engine, evidence_models, origin="creditnode/gateway", key=NodeKey.generate()).start()
    yield EvidenceDisclosureLog(evidence)
    evidence.close()
    engine.dispose()


def test_releases_are_recorded_and_listed_per_enterprise_with_receipts(log: EvidenceDisclosureLog) -> None:
    a = log.record({"type": "credit_report", "enterprise": "enterprises/A", "released": ["TAX_PAYMENT"]})
    b = log.record({"type": "credit_report", "enterprise": "enterprises/B", "released": ["REG_BASIC"]})
    c = log.record({"type": "credit_report", "enterprise": "enterprises/A", "decision": "DENY"})
    assert (a, b, c) == (0, 1, 2)
    history = log.disclosures_of("enterprises/A")
    assert [i for i, _, _ in history] == [0, 2]
    assert history[0][2]["released"] == ["TAX_PAYMENT"]
    receipt = log.log.receipt(a)
    assert receipt.leaf_index == 0
    assert log.log.verify().problems == []


def test_personal_data_is_refused_by_the_log(log: EvidenceDisclosureLog) -> None:
    with pytest.raises(InvalidArgument):
        log.record({"type": "credit_report", "enterprise": "enterprises/A", "note": "13912345678"})


def test_a_self_query_nonce_is_used_once_across_replicas_until_its_window_ends(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine, MIGRATIONS, version_table="alembic_version_gateway")
    one, other = SqlNonces(session_factories(engine)[0]), SqlNonces(session_factories(engine)[0])
    now = datetime(2026, 11, 30, 10, tzinfo=UTC)
    until = now + timedelta(minutes=5)
    e = "enterprises/91610100MA6TG1234E"
    assert one.use(e, "n" * 20, until, now)
    assert not other.use(e, "n" * 20, until, now + timedelta(minutes=1))  # a replay to another replica
    assert other.use("enterprises/91610100MA6TG5678X", "n" * 20, until, now)  # another enterprise's nonce
    assert other.use(e, "n" * 20, until + timedelta(minutes=5), until)  # once expired, it is forgotten
    engine.dispose()
