"""Objection evidence leaves hold ids and hashes only: an evaluation's name (enterprises/{uscc}/evaluations/{id})
is bound by its hash, like a record's, never written in clear."""

from __future__ import annotations

import json

from services.kit.db import make_engine, migrate, session_factories
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.heads import NodeKey
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.store import LeafFilter
from services.objection import usecases
from services.objection.main import MIGRATIONS
from services.objection.store.models import evidence_models
from services.objection.store.repositories import SqlObjectionUnitOfWork, step_payload
from services.objection.usecases import Idempotency
from tests.unit.objection.fakes import ACME, World
from tests.unit.objection_service.fakes import lookups


def test_step_payload_of_an_evaluation_objection_has_no_clear_uscc() -> None:
    world = World()
    ev = world.evaluations.add(f"enterprises/{ACME}/evaluations/7", ACME)
    objection = world.file(records=(), evaluation=ev)
    for entry in objection.timeline:
        assert ACME not in json.dumps(step_payload(objection, entry)), entry.kind


def test_stored_evidence_leaves_of_an_evaluation_objection_have_no_clear_uscc(database_url: str) -> None:
    engine = make_engine(database_url)
    migrate(engine, MIGRATIONS, "alembic_version_objection")
    evidence = EvidenceLog(engine, evidence_models, origin="t", key=NodeKey.generate()).start()
    try:
        w, r = session_factories(engine)
        world = World()
        ev = world.evaluations.add(f"enterprises/{ACME}/evaluations/7", ACME)
        command = world.command(records=(), evaluation=ev)
        usecases.file(
            lambda: SqlObjectionUnitOfWork(w, evidence),
            lambda: SqlObjectionUnitOfWork(r),
            lookups(world),
            command,
            Idempotency(),
            command.forwarded_at,
        )
        leaves = evidence.list_leaves(LeafFilter(kind=LeafKind.OBJECTION_STEP), None, 100)
        assert leaves
        assert all(ACME not in leaf.entry_json for leaf in leaves)
    finally:
        evidence.close()
        engine.dispose()
