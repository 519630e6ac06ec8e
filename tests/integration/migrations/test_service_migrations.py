"""Every service's real Alembic chain on the configured backend: down to base and back up, and the newest data-carrying
revisions stepped down and up again over stored rows."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect, text

from services.gateway.domain.supervision import Finding, Rule
from services.gateway.store.findings import SqlFindings
from services.kit import merkle
from services.kit.db import make_engine, migrate, session_factories
from services.kit.evidence.entries import leaf_subject

SERVICES = ["registry", "consent", "scoring", "objection", "gateway"]
# The revision that turned each service's evidence tables into version 2 (the subject column, filled in).
EVIDENCE_V2 = {
    "registry": "registry_0006",
    "consent": "consent_0004",
    "objection": "objection_0003",
    "gateway": "gateway_0004",
}


def _migrations(service: str) -> Path:
    return Path(importlib.import_module(f"services.{service}.main").MIGRATIONS)


def _alembic(engine: Engine, service: str, action: str, target: str) -> None:
    """``alembic upgrade|downgrade target`` on one connection, the way services.kit.db.migrate runs them."""
    cfg = Config()
    cfg.set_main_option("script_location", str(_migrations(service)))
    cfg.set_main_option("version_table", f"alembic_version_{service}")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, target)


def _schema(engine: Engine) -> dict[str, Any]:
    """Every table's columns, keys and indexes as the database reports them (partial-index predicates as text)."""
    insp = inspect(engine)
    out: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        indexes = [
            {**ix, "dialect_options": {k: str(v) for k, v in ix.get("dialect_options", {}).items()}}
            for ix in insp.get_indexes(table)
        ]
        out[table] = {
            "columns": [{**c, "type": repr(c["type"])} for c in insp.get_columns(table)],
            "pk": insp.get_pk_constraint(table),
            "fks": sorted(insp.get_foreign_keys(table), key=lambda fk: str(fk["name"])),
            "indexes": sorted(indexes, key=lambda ix: str(ix["name"])),
            "uniques": sorted(insp.get_unique_constraints(table), key=lambda uq: str(uq["name"])),
        }
    return out


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.mark.parametrize("service", SERVICES)
def test_downgrade_to_base_then_upgrade_rebuilds_the_same_schema(service: str, engine: Engine) -> None:
    migrate(engine, _migrations(service), version_table=f"alembic_version_{service}")
    at_head = _schema(engine)
    _alembic(engine, service, "downgrade", "base")
    assert inspect(engine).get_table_names() == [f"alembic_version_{service}"]
    migrate(engine, _migrations(service), version_table=f"alembic_version_{service}")
    assert _schema(engine) == at_head


def _leaf(index: int, payload: dict[str, Any]) -> dict[str, Any]:
    created = datetime(2026, 11, 29, 8, tzinfo=UTC) + timedelta(seconds=index)
    entry = json.dumps(
        {"created_at": created.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "kind": "DISCLOSURE", "payload": payload, "v": 1},
        sort_keys=True,
        separators=(",", ":"),
    )
    return {
        "leaf_index": index,
        "kind": "DISCLOSURE",
        "created_at": created,
        "entry": entry,
        "leaf_hash": merkle.leaf_hash(entry.encode()),
    }


PAYLOADS: list[dict[str, Any]] = [
    {"enterprise": "enterprises/91610100MA6TGYW00X", "request_id": "r-0"},
    {"request_id": "r-1"},  # about no enterprise
    {"enterprise": "enterprises/" + "Y" * 200},  # too long for the column: found by scanning
    {"enterprise": {"not": "a string"}},
    {"enterprise": "enterprises/91610100MA6TGYW00X", "request_id": "r-4"},
]
_LEAF_COLUMNS = "leaf_index, kind, created_at, entry, leaf_hash"


def _stored_leaves(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT {_LEAF_COLUMNS} FROM evidence_leaves ORDER BY leaf_index"))  # noqa: S608
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]


@pytest.mark.parametrize("service", sorted(EVIDENCE_V2))
def test_stepping_back_over_the_evidence_v2_revision_keeps_every_leaf_and_refills_the_subjects(
    service: str, engine: Engine
) -> None:
    migrate(engine, _migrations(service), version_table=f"alembic_version_{service}")
    leaves = [_leaf(i, p) for i, p in enumerate(PAYLOADS)]
    with engine.begin() as conn:
        conn.execute(
            text(
                f"INSERT INTO evidence_leaves ({_LEAF_COLUMNS}, subject)"  # noqa: S608 (fixed names)
                " VALUES (:leaf_index, :kind, :created_at, :entry, :leaf_hash, :subject)"
            ),
            [{**leaf, "subject": leaf_subject(p)} for leaf, p in zip(leaves, PAYLOADS, strict=True)],
        )
    before = _stored_leaves(engine)
    assert len(before) == len(PAYLOADS)

    _alembic(engine, service, "downgrade", f"{EVIDENCE_V2[service]}-1")  # the gateway's nonces go first
    assert "subject" not in {c["name"] for c in inspect(engine).get_columns("evidence_leaves")}
    assert _stored_leaves(engine) == before

    migrate(engine, _migrations(service), version_table=f"alembic_version_{service}")
    assert _stored_leaves(engine) == before
    with engine.connect() as conn:
        subjects = conn.execute(text("SELECT subject FROM evidence_leaves ORDER BY leaf_index")).scalars().all()
    assert subjects == [leaf_subject(p) for p in PAYLOADS]
    assert subjects[0] == subjects[4] == "enterprises/91610100MA6TGYW00X"
    assert subjects[1] is subjects[2] is subjects[3] is None


def _old_fingerprint(rule: str, subject: str, day: str) -> str:
    return hashlib.sha256(f"{rule}|{subject}|{day}".encode()).hexdigest()[:32]


def _fingerprints(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT finding_id, fingerprint FROM supervision_findings")).tuples().all())


def test_stored_findings_are_found_again_under_fingerprints_naming_their_platform(engine: Engine) -> None:
    # Stored under (rule, subject, day), a finding run again after the fingerprint came to name the platform would be
    # stored (and reported) a second time; gateway_0006 moves the stored ones, and back.
    _alembic(engine, "gateway", "upgrade", "gateway_0005")
    breadth = Finding(Rule.UNAUTHORIZED_BREADTH, "platforms/xian", "institutions/boc", "2026-12-01", 20, "20", (1,))
    burst = Finding(Rule.DENIAL_BURST, "platforms/county", "platforms/county", "2026-12-01", 50, "50", (2,))
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO supervision_findings (fingerprint, rule, platform, subject, day, count, detail, leaves,"
                " created_at) VALUES (:fp, :rule, :platform, :subject, :day, :count, :detail, :leaves, :at)"
            ),
            [
                {"fp": _old_fingerprint(f.rule.value, f.subject, f.day), "rule": f.rule.value, "platform": f.platform,
                 "subject": f.subject, "day": f.day, "count": f.count, "detail": f.detail, "leaves": "[1]",
                 "at": datetime(2026, 12, 2, tzinfo=UTC)}
                for f in (breadth, burst)
            ],
        )  # fmt: skip
    stored = _fingerprints(engine)
    migrate(engine, _migrations("gateway"), version_table="alembic_version_gateway")
    assert _fingerprints(engine) == {i: f.fingerprint for i, f in zip(sorted(stored), (breadth, burst), strict=True)}
    findings = SqlFindings(*session_factories(engine))
    now = datetime(2026, 12, 3, tzinfo=UTC)
    assert findings.keep(breadth, now).id == min(stored)  # found again, not stored twice
    elsewhere = findings.keep(dataclasses.replace(breadth, platform="platforms/county"), now)
    assert elsewhere.id not in stored

    _alembic(engine, "gateway", "downgrade", "gateway_0005")
    # The old fingerprints back; the other platform's finding, which they could not hold, keeps its own.
    assert _fingerprints(engine) == {**stored, elsewhere.id: elsewhere.finding.fingerprint}
