"""The gateway's own database (SQLite and PostgreSQL): the disclosure log's migrations, durable appends and history;
self-query nonces shared by replicas; evidence packages across a key rotation."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from services.gateway.domain.identity import InstitutionView, PlatformView
from services.gateway.domain.quota import QuotaLimits, Quotas
from services.gateway.evidence_packages import EvidencePackages, PackageRequest
from services.gateway.main import MIGRATIONS
from services.gateway.store.disclosures import EvidenceDisclosureLog
from services.gateway.store.models import evidence_models
from services.gateway.store.nonces import SqlNonces
from services.gateway.usecases import Gateway
from services.kit.db import make_engine, migrate, session_factories
from services.kit.errors import InvalidArgument, PermissionDenied, Unavailable
from services.kit.evidence.heads import NodeKey
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.package import GATEWAY_ORIGIN, verify_package


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
    history = log.disclosures_of("enterprises/A", None, 10)
    assert [i for i, _, _ in history] == [0, 2]
    assert history[0][2]["released"] == ["TAX_PAYMENT"]
    assert [i for i, _, _ in log.disclosures_of("enterprises/A", 0, 10)] == [2]
    receipt = log.log.receipt(a)
    assert receipt.leaf_index == 0
    assert log.log.verify().problems == []


def test_a_history_page_is_one_bounded_read_of_the_subject_index(database_url: str) -> None:
    """A page of an enterprise's history reads its own leaves after a position, LIMIT rows, through the (subject,
    leaf_index) index: never the whole log, nor the whole history sliced afterwards."""
    engine = make_engine(database_url)
    migrate(engine, MIGRATIONS, version_table="alembic_version_gateway")
    evidence = EvidenceLog(engine, evidence_models, origin="creditnode/gateway", key=NodeKey.generate()).start()
    log = EvidenceDisclosureLog(evidence)
    try:
        mine = []
        for i in range(30):
            mine.append(log.record({"type": "credit_report", "enterprise": "enterprises/A", "released": ["REG_BASIC"]}))
            log.record({"type": "credit_report", "enterprise": f"enterprises/B{i}", "released": ["REG_BASIC"]})
        statements: list[tuple[str, Any]] = []

        def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
            if "evidence_leaves" in statement:
                statements.append((statement, parameters))

        event.listen(engine, "before_cursor_execute", seen)
        page = log.disclosures_of("enterprises/A", mine[9], 5)
        event.remove(engine, "before_cursor_execute", seen)
        assert [i for i, _, _ in page] == mine[10:15]
        ((sql, params),) = statements  # one statement
        flat = " ".join(sql.split()).lower()
        assert "subject =" in flat
        assert "leaf_index >" in flat
        assert "limit" in flat
        values = list(params.values()) if isinstance(params, dict) else list(params)
        assert "enterprises/A" in values
        assert mine[9] in values
        assert 5 in values
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                plan = " ".join(str(row) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params))
            assert "ix_evidence_leaves_subject_leaf_index" in plan
            assert "USE TEMP B-TREE" not in plan  # read in index order: no sort of the whole history
        else:
            with engine.begin() as conn:
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # as the planner will on a large log
                plan = " ".join(str(row) for row in conn.exec_driver_sql(f"EXPLAIN {sql}", params))
            assert "ix_evidence_leaves_subject_leaf_index" in plan
            assert "Sort" not in plan
    finally:
        evidence.close()
        engine.dispose()


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


# An arbitration commission's request for the evidence of one loan (both package tests ask this).
PACKAGE_REQUEST = PackageRequest(
    arbiter="institutions/xian-arbitration",
    reference="(2026)西仲字第17号",
    enterprise="enterprises/91610100MA6TG1234E",
    lender="institutions/boc",
    loan_id="loan-1",
)


class _Arbiters:
    """The participant view: one platform with an arbitration commission."""

    def live(self) -> bool:
        return True

    def admitting(
        self,
    ) -> tuple[Callable[[str], PlatformView | None], Callable[[str], InstitutionView | None]] | None:
        return self.platform, self.institution

    def platform(self, name: str) -> PlatformView | None:
        return PlatformView(name, True, "", False, 1) if name == "platforms/xian" else None

    def institution(self, name: str) -> InstitutionView | None:
        return InstitutionView(name, "platforms/xian", True, arbiter=name == "institutions/xian-arbitration")


class _NoConsent:
    def authorizations(self, enterprise: str, requester: str) -> list[str]:
        return []


def _packages(
    log: EvidenceLog,
    consent: _NoConsent,
    check_loan: Callable[[str, str, str], None] = lambda loan, enterprise, lender: None,
    participants: _Arbiters | None = None,
) -> EvidencePackages:
    """Evidence packages of a gateway that has only what an export reads: arbiters, the disclosure log, consent."""
    gateway = Gateway(
        participants=participants or _Arbiters(),  # type: ignore[arg-type]
        consent_cache=None,  # type: ignore[arg-type]
        consent=None,  # type: ignore[arg-type]
        registry=None,  # type: ignore[arg-type]
        sharing_list=None,  # type: ignore[arg-type]
        disclosure_log=EvidenceDisclosureLog(log),
        quotas=Quotas(QuotaLimits()),
    )
    return EvidencePackages(gateway, log, consent, check_loan)  # type: ignore[arg-type]


def test_no_evidence_package_is_signed_with_a_key_another_replica_rotated_out(database_url: str) -> None:
    """During a key rotation's rolling restart the old pods still serve: a package one of them signed now would bear
    a key the node's key history says was retired before the package was made."""
    engines = [make_engine(database_url), make_engine(database_url)]
    migrate(engines[0], MIGRATIONS, version_table="alembic_version_gateway")
    old_key, new_key = NodeKey.generate(), NodeKey.generate()
    old = EvidenceLog(engines[0], evidence_models, origin=GATEWAY_ORIGIN, key=old_key, publish_interval=0).start()
    new: EvidenceLog | None = None
    try:
        packages = _packages(old, _NoConsent())
        before = json.loads(packages.export(PACKAGE_REQUEST, "platforms/xian").package_json)
        new = EvidenceLog(engines[1], evidence_models, origin=GATEWAY_ORIGIN, key=new_key, publish_interval=0).start()
        new.signed_tree_head(fresh=True)
        with pytest.raises(Unavailable):
            packages.export(PACKAGE_REQUEST, "platforms/xian")
        # The package made before the rotation still verifies, with the node's keys old and new.
        keys = {GATEWAY_ORIGIN: {k.key_id: k.public_bytes for k in (old_key, new_key)}}
        assert verify_package(before, keys).reference == "(2026)西仲字第17号"
    finally:
        old.close()
        if new is not None:
            new.close()
        for engine in engines:
            engine.dispose()


class _RotatedWhileAsked(_NoConsent):
    """Consent, asked for the authorizations after the receipts were proven: meanwhile another replica rotates the
    log's key."""

    def __init__(self, rotate: Callable[[], None]) -> None:
        self.rotate = rotate

    def authorizations(self, enterprise: str, requester: str) -> list[str]:
        self.rotate()
        return []


def test_no_evidence_package_is_signed_with_a_key_rotated_out_while_it_was_gathered(database_url: str) -> None:
    """The head the receipts are proven against was this replica's, but the key was retired before the package was
    signed: signed now, the package would be made after its key's retirement, and refused offline."""
    engines = [make_engine(database_url), make_engine(database_url)]
    migrate(engines[0], MIGRATIONS, version_table="alembic_version_gateway")
    old = EvidenceLog(engines[0], evidence_models, origin=GATEWAY_ORIGIN, key=NodeKey.generate(), publish_interval=0)
    old.start()
    started: list[EvidenceLog] = []

    def rotate() -> None:
        new = EvidenceLog(
            engines[1], evidence_models, origin=GATEWAY_ORIGIN, key=NodeKey.generate(), publish_interval=0
        )
        started.append(new.start())

    try:
        packages = _packages(old, _RotatedWhileAsked(rotate))
        with pytest.raises(Unavailable):
            packages.export(PACKAGE_REQUEST, "platforms/xian")
        assert started, "the key was never rotated"
    finally:
        old.close()
        for log in started:
            log.close()
        for engine in engines:
            engine.dispose()


class _SuspendedWhileAsked(_Arbiters):
    """The participant view: the platform is suspended once the package's loan has been looked up."""

    def __init__(self) -> None:
        self.suspended = False

    def platform(self, name: str) -> PlatformView | None:
        view = super().platform(name)
        return PlatformView(name, False, "", False, 1) if view is not None and self.suspended else view


def test_no_evidence_package_leaves_for_a_platform_suspended_while_it_was_gathered(database_url: str) -> None:
    """Access is checked again just before the release, as for every other release: a suspension that arrived while
    scoring (the loan) or consent (the authorizations) were being asked stops the package."""
    engine = make_engine(database_url)
    migrate(engine, MIGRATIONS, version_table="alembic_version_gateway")
    evidence = EvidenceLog(engine, evidence_models, origin=GATEWAY_ORIGIN, key=NodeKey.generate()).start()
    try:
        participants = _SuspendedWhileAsked()

        def suspended_meanwhile(loan: str, enterprise: str, lender: str) -> None:
            participants.suspended = True

        packages = _packages(evidence, _NoConsent(), suspended_meanwhile, participants)
        log = packages.gateway.disclosure_log
        with pytest.raises(PermissionDenied) as refused:
            packages.export(PACKAGE_REQUEST, "platforms/xian")
        assert refused.value.reason == "ERROR_REASON_PLATFORM_NOT_ADMITTED"
        decisions = [p["decision"] for _, _, p in log.disclosures_of(PACKAGE_REQUEST.enterprise, None, 10)]
        assert decisions == ["DENY"]  # recorded as a refusal, never as an export
    finally:
        evidence.close()
        engine.dispose()
