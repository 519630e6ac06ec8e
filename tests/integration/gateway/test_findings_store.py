"""Supervision findings in the gateway's database (SQLite and PostgreSQL): one row per fingerprint, grown by a later run
of a day that counted more, whatever order two replicas' runs land in."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from services.gateway.domain.supervision import Finding, Rule
from services.gateway.main import MIGRATIONS
from services.gateway.store.findings import SqlFindings
from services.kit.db import make_engine, migrate, session_factories

NOW = datetime(2026, 12, 2, 4, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    migrate(engine, MIGRATIONS, version_table="alembic_version_gateway")
    yield engine
    engine.dispose()


def breadth(count: int) -> Finding:
    leaves = tuple(range(count))
    return Finding(
        Rule.UNAUTHORIZED_BREADTH, "platforms/xian", "institutions/boc", "2026-12-01", count, f"{count}", leaves
    )


def test_a_day_run_again_with_more_leaves_grows_its_finding_and_never_shrinks_it(engine: Engine) -> None:
    findings = SqlFindings(*session_factories(engine))
    first = findings.keep(breadth(20), NOW)  # run at noon, the day half over
    grown = findings.keep(breadth(31), NOW)  # run the next day over the whole day
    assert (grown.id, grown.finding.count, grown.finding.leaves) == (first.id, 31, tuple(range(31)))
    # A run over part of the day again (or a replica's older run landing late) leaves the larger count.
    again = findings.keep(breadth(25), NOW)
    assert (again.id, again.finding.count, again.created_at) == (first.id, 31, first.created_at)
    assert [f.id for f in findings.page(None, 10)] == [first.id]


def test_two_replicas_running_one_day_at_once_store_one_finding(engine: Engine) -> None:
    replicas = [SqlFindings(*session_factories(engine)) for _ in range(2)]
    start = threading.Barrier(2)
    kept: list[int] = []

    def run(store: SqlFindings, count: int) -> None:
        start.wait()
        kept.append(store.keep(breadth(count), NOW).id)

    threads = [threading.Thread(target=run, args=(store, n)) for store, n in zip(replicas, (22, 24), strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    (only,) = replicas[0].page(None, 10)
    assert set(kept) == {only.id}
    # Whichever landed first, the later keep grows it to the larger run (or finds it already so).
    assert replicas[1].keep(breadth(22), NOW).finding.count == 24


def _previous_release_keeps(engine: Engine, f: Finding) -> None:
    # As the previous release's gateway stores a finding (its fingerprint is (rule, subject, day)): during a rolling
    # upgrade its pods still serve `findings run` after gateway_0006 moved the stored rows to the new fingerprint.
    fingerprint = hashlib.sha256(f"{f.rule}|{f.subject}|{f.day}".encode()).hexdigest()[:32]
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO supervision_findings (fingerprint, rule, platform, subject, day, count, detail, leaves,"
                " created_at) VALUES (:fp, :rule, :platform, :subject, :day, :count, :detail, :leaves, :at)"
            ),
            {"fp": fingerprint, "rule": f.rule.value, "platform": f.platform, "subject": f.subject, "day": f.day,
             "count": f.count, "detail": f.detail, "leaves": json.dumps(list(f.leaves)), "at": NOW},
        )  # fmt: skip


def test_a_finding_the_previous_release_stored_during_the_upgrade_is_found_again_not_stored_twice(
    engine: Engine,
) -> None:
    _previous_release_keeps(engine, breadth(20))
    findings = SqlFindings(*session_factories(engine))
    (legacy,) = findings.page(None, 10)
    kept = findings.keep(breadth(31), NOW)  # this release runs the same day again
    assert (kept.id, kept.finding.count) == (legacy.id, 31)
    assert [f.id for f in findings.page(None, 10)] == [legacy.id]
    assert findings.keep(breadth(31), NOW).id == legacy.id  # found under this release's fingerprint from now on


def test_another_platforms_finding_of_the_same_subject_is_not_taken_for_the_previous_releases(engine: Engine) -> None:
    _previous_release_keeps(engine, breadth(20))
    findings = SqlFindings(*session_factories(engine))
    (legacy,) = findings.page(None, 10)
    other = replace(breadth(21), platform="platforms/baoji")
    kept = findings.keep(other, NOW)
    assert kept.id != legacy.id
    assert kept.finding.platform == "platforms/baoji"
    assert findings.keep(breadth(20), NOW).id == legacy.id
