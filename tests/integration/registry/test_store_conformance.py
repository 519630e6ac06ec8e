"""The registry's storage port contract, run on every backend (SQLite by default, PostgreSQL in test-postgres)."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import IntegrityError

from services.kit.db import session_factories
from services.kit.errors import Aborted
from services.registry.domain.credentials import RevocationReason
from services.registry.domain.ledger import (
    ChangeType,
    ChunkWrites,
    ProvenanceKind,
    RecordChange,
    RecordHead,
    RecordState,
    Refusal,
    StoredVersion,
)
from services.registry.domain.participants import (
    Assessment,
    AssessmentKind,
    AssessmentResult,
    Docking,
    Platform,
    PlatformKind,
    PlatformStatus,
    StatusChange,
)
from services.registry.domain.ports import EventType, IssuedCertificate, ParticipantEvent, ParticipantKind
from services.registry.store.repositories import SqlRegistryUnitOfWork

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


@pytest.fixture
def uow(engine: Engine) -> object:
    writer, _ = session_factories(engine)
    return lambda: SqlRegistryUnitOfWork(writer)


def _platform(pid: str, region: str = "610100") -> Platform:
    return Platform(pid, pid, PlatformKind.CITY, region, Docking.DIRECT, None, PlatformStatus.APPLIED, NOW, NOW)


def test_platforms_round_trip_with_latest_assessments_and_utc_times(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        p = _platform("xian")
        p.assessments[AssessmentKind.SECURITY] = Assessment(
            AssessmentKind.SECURITY, "A", NOW, AssessmentResult.FAILED, "", NOW + timedelta(days=1)
        )
        u.platforms.add(p)
        u.commit()
    with uow() as u:
        p = u.platforms.get("xian")
        p.assessments[AssessmentKind.SECURITY] = Assessment(
            AssessmentKind.SECURITY, "B", NOW, AssessmentResult.PASSED, "ok", NOW + timedelta(days=2)
        )
        u.platforms.save(p)
        u.commit()
    with uow() as u:
        got = u.platforms.get("xian")
        assert got.assessments[AssessmentKind.SECURITY].assessor == "B"
        assert got.created_at == NOW
        assert got.created_at.tzinfo is not None
        assert got.version == 2
        assert u.platforms.get("nobody") is None


def test_pages_are_ordered_filtered_and_continue_after_a_key(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        for pid, region in [("c", "610200"), ("a", "610100"), ("b", "610100"), ("d", "610100")]:
            u.platforms.add(_platform(pid, region))
        u.commit()
    with uow() as u:
        page = u.platforms.page(after=None, limit=2, status=None, region_code="610100", proxy_id="")
        assert [p.platform_id for p in page] == ["a", "b"]
        page = u.platforms.page(after="b", limit=2, status=None, region_code="610100", proxy_id="")
        assert [p.platform_id for p in page] == ["d"]


def test_a_lost_update_is_aborted_not_overwritten(engine: Engine, uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        u.platforms.add(_platform("xian"))
        u.commit()
    if engine.dialect.name == "sqlite":
        # SQLite serializes writers (BEGIN IMMEDIATE): the second writer cannot even read until the first commits,
        # so it works on the first one's result instead of overwriting it.
        observed: list[PlatformStatus] = []

        def second_writer() -> None:
            with uow() as b:
                pb_ = b.platforms.get("xian")
                observed.append(pb_.status)
                pb_.status = PlatformStatus.EXITED
                b.platforms.save(pb_)
                b.commit()

        with uow() as a:
            pa = a.platforms.get("xian")
            thread = threading.Thread(target=second_writer)
            thread.start()
            pa.status = PlatformStatus.UNDER_REVIEW
            a.platforms.save(pa)
            a.commit()
        thread.join(30)
        assert observed == [PlatformStatus.UNDER_REVIEW]
        return
    with pytest.raises(Aborted), uow() as a:
        pa = a.platforms.get("xian")  # read version 1 ...
        with uow() as b:  # ... while another transaction changes the platform and commits
            pb_ = b.platforms.get("xian")
            pb_.status = PlatformStatus.EXITED
            b.platforms.save(pb_)
            b.commit()
        pa.status = PlatformStatus.UNDER_REVIEW
        a.platforms.save(pa)
        a.commit()
    with uow() as u:
        assert u.platforms.get("xian").status is PlatformStatus.EXITED


def test_history_is_append_only_and_ordered(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        u.platforms.add(_platform("xian"))
        for i, to in enumerate(["APPLIED", "UNDER_REVIEW", "ADMITTED"]):
            u.history.append(
                ParticipantKind.PLATFORM,
                "xian",
                StatusChange("", to, "op", "r", ("doc-1",), NOW + timedelta(minutes=i), i + 1),
            )
        u.commit()
    with uow() as u:
        rows = u.history.page(ParticipantKind.PLATFORM, "xian", after=0, limit=10)
        assert [c.to_status for _, c in rows] == ["APPLIED", "UNDER_REVIEW", "ADMITTED"]
        assert rows[0][1].evidence == ("doc-1",)
        after_first = u.history.page(ParticipantKind.PLATFORM, "xian", after=rows[0][0], limit=10)
        assert [c.to_status for _, c in after_first] == ["UNDER_REVIEW", "ADMITTED"]
        assert [c.to_status for _, c in u.history.up_to(ParticipantKind.PLATFORM, NOW)] == ["APPLIED"]


def test_revisions_increase_per_transaction_and_reads_return_whole_revisions(uow) -> None:  # type: ignore[no-untyped-def]
    revisions = []
    for n in (3, 1, 2):
        with uow() as u:
            r = u.events.next_revision()
            assert u.events.next_revision() == r  # one revision per transaction
            for i in range(n):
                u.events.append(ParticipantEvent(r, ParticipantKind.PLATFORM, f"p{i}", EventType.UPSERT))
            u.commit()
            revisions.append(r)
    assert revisions == sorted(revisions)
    assert len(set(revisions)) == 3
    with uow() as u:
        assert u.events.current_revision() == revisions[-1]
        first_two = u.events.after(0, max_revisions=2)
        assert [e.revision for e in first_two] == [revisions[0]] * 3 + [revisions[1]]
        assert u.events.after(revisions[-1], 10) == []


def test_revisions_carry_on_past_32_bits(uow, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    # One revision per write transaction (a record pushed on an open stream is one): the wire's revisions are int64,
    # and PostgreSQL refuses a 32-bit column's 2**31 ("integer out of range"), which would stop every registry write.
    last_32_bit = 2**31 - 1
    with engine.begin() as conn:
        conn.execute(text("UPDATE revision_counter SET value = :v WHERE id = 1"), {"v": last_32_bit})
    with uow() as u:
        r = u.events.next_revision()
        u.events.append(ParticipantEvent(r, ParticipantKind.PLATFORM, "xian", EventType.UPSERT))
        u.platforms.add(_platform("xian"))
        u.history.append(ParticipantKind.PLATFORM, "xian", StatusChange("", "APPLIED", "op", "r", (), NOW, r))
        u.records.add_changes([RecordChange(r, "rec-1", "TAX_PAYMENT", ChangeType.CREATED)])
        u.commit()
    assert r == 2**31
    with uow() as u:
        assert u.events.current_revision() == r
        assert [e.revision for e in u.events.after(last_32_bit, 10)] == [r]
        assert [c.revision for _, c in u.history.page(ParticipantKind.PLATFORM, "xian", after=0, limit=10)] == [r]
        assert [c.revision for c in u.records.changes_after(last_32_bit, 10)] == [r]


def test_rolled_back_work_leaves_no_trace(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        before = u.events.current_revision()
    with uow() as u:
        u.events.next_revision()
        u.platforms.add(_platform("ghost"))
    with uow() as u:
        assert u.platforms.get("ghost") is None
        assert u.events.current_revision() == before


def test_certificate_revocation_is_idempotent_and_listed(uow) -> None:  # type: ignore[no-untyped-def]
    with uow() as u:
        u.platforms.add(_platform("xian"))
        u.certificates.add(IssuedCertificate("ab12", "xian", "PEM", NOW + timedelta(days=365), "a" * 64))
        u.commit()
    with uow() as u:
        u.certificates.revoke("ab12", NOW, reason=RevocationReason.PRIVILEGE_WITHDRAWN)
        u.certificates.revoke("ab12", NOW + timedelta(days=1), reason=RevocationReason.SUPERSEDED)
        u.certificates.revoke("missing", NOW, reason=RevocationReason.SUPERSEDED)
        u.commit()
    with uow() as u:
        revoked = u.certificates.revoked()
        assert [(c.serial, c.revoked_at, c.revocation_reason) for c in revoked] == [
            ("ab12", NOW, RevocationReason.PRIVILEGE_WITHDRAWN)  # the first revocation's time and reason stay
        ]


def test_a_key_is_claimed_once_and_retired_by_a_revocation_unless_kept(uow) -> None:  # type: ignore[no-untyped-def]
    k1, k2 = "1" * 64, "2" * 64
    with uow() as u:
        u.platforms.add(_platform("xian"))
        u.platforms.add(_platform("baoji"))
        u.certificates.add(IssuedCertificate("c1", "xian", "PEM", NOW + timedelta(days=365), k1))
        u.certificates.add(IssuedCertificate("c2", "xian", "PEM", NOW + timedelta(days=365), k2))
        assert u.certificates.key(k1) is None
        assert u.certificates.claim_key(k1, "xian", NOW).platform_id == "xian"
        assert u.certificates.claim_key(k2, "xian", NOW).platform_id == "xian"
        u.commit()
    with uow() as u:
        held = u.certificates.claim_key(k1, "baoji", NOW + timedelta(days=1))  # the first holder stays
        assert (held.platform_id, held.certified_at, held.retired_at) == ("xian", NOW, None)
        u.certificates.revoke(
            "c1", NOW + timedelta(days=2), reason=RevocationReason.SUPERSEDED, retire_key=False
        )  # a renewal's
        u.certificates.revoke("c2", NOW + timedelta(days=3), reason=RevocationReason.SUPERSEDED)
        u.commit()
    with uow() as u:
        assert u.certificates.key(k1).retired_at is None
        assert u.certificates.key(k2).retired_at == NOW + timedelta(days=3)
        assert u.certificates.get("c2").public_key_sha256 == k2


def _stored(rid: str, fields: dict[str, object], key: str) -> tuple[RecordHead, StoredVersion]:
    head = RecordHead(rid, "91610100MA6U000001", "TAX_PAYMENT", "sx-tax", f"src-{rid}", RecordState.CURRENT, 1, 1,
                      NOW, NOW)  # fmt: skip
    version = StoredVersion(
        rid, 1, head.uscc, head.item_code, head.department, RecordState.CURRENT, ProvenanceKind.DEPARTMENT, 1, key, 1,
        "f" * 64, fields, NOW - timedelta(days=3), NOW, NOW + timedelta(days=1), True, "streams/s1", "", NOW,
    )  # fmt: skip
    return head, version


def test_bulk_writes_keep_every_value_as_sent_and_a_clash_stores_nothing(uow) -> None:  # type: ignore[no-untyped-def]
    # PostgreSQL writes a chunk with COPY: text escaping, types and UTC times must survive exactly as on SQLite.
    tricky = "tab\there, line\nbreak, back\\slash, 陕西 \\N, quote\" '"
    fields = {"amount": Decimal("1234.50"), "paid_on": date(2026, 11, 2), "note": tricky, "count": 3, "ok": False}
    head, version = _stored("r1", fields, "k" * 64)
    refusal = Refusal("sx-tax", "TAX_PAYMENT", "REJECTED", "ERROR_REASON_FIELD_REQUIRED", NOW)
    with uow() as u:
        u.records.write(
            ChunkWrites(
                new_heads=[head],
                versions=[version],
                changes=[RecordChange(7, "r1", "TAX_PAYMENT", ChangeType.CREATED)],
                refusals=[refusal],
            )
        )
        u.commit()
    with uow() as u:
        (got,) = u.records.versions("r1")
        assert got == version
        assert type(got.fields["amount"]) is Decimal
        assert got.fields["note"] == tricky
        assert got.event_time.tzinfo is not None
        assert u.records.head("r1") == replace(head, fingerprints_by_version={})
        assert u.records.changes_after(0, 10) == [RecordChange(7, "r1", "TAX_PAYMENT", ChangeType.CREATED)]
        figures = u.records.delivery_figures(NOW - timedelta(days=1), NOW + timedelta(days=1))
        assert figures[("sx-tax", "TAX_PAYMENT")].rejected_by_reason == {"ERROR_REASON_FIELD_REQUIRED": 1}

    # A second chunk whose version reuses an idempotency key: the database refuses it as an IntegrityError (what the
    # callers handle), and the chunk's other rows, written before the clash, are rolled back with it.
    other_head, other_version = _stored("r2", {"note": "x"}, "k" * 64)
    with pytest.raises(IntegrityError), uow() as u:
        u.records.write(ChunkWrites(new_heads=[other_head], versions=[other_version]))
        u.commit()
    with uow() as u:
        assert u.records.head("r2") is None
        assert [v.record_id for v in u.records.versions("r1")] == ["r1"]
