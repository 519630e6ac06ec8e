"""PostgreSQL only: two writers add a version to one record at once (a second stream of the department, a batch).

Heads are read without a lock under READ COMMITTED; both writers would add the same version number, and the record
would have two versions in force. SQLite serializes writers (BEGIN IMMEDIATE), so it has no race.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from services.kit.errors import Aborted
from services.kit.workdays import WorkCalendar
from services.registry import record_usecases as uc
from services.registry.domain.records import IncomingRecord, Outcome
from services.registry.store.models import RecordVersionRow
from services.registry.store.records import SqlRecords
from services.registry.store.repositories import SqlRegistryUnitOfWork
from tests.conftest import PG_URL
from tests.integration.registry.records_support import store_with_a_city_platform, tax_record
from tests.registry_helpers import random_uscc

pytestmark = pytest.mark.skipif(not PG_URL, reason="a PostgreSQL race: needs CREDITNODE_TEST_PG_URL")

Uow = Callable[[], SqlRegistryUnitOfWork]


@pytest.fixture
def uow(engine: Engine) -> Uow:
    return store_with_a_city_platform(engine)


def _ingest(uow: Uow, uscc: str, source_version: int, sequence: int) -> uc.ChunkOutcome:
    r = tax_record(uscc, sequence)
    rec = IncomingRecord("sx-tax", r["item_code"], "one-source-record", source_version, uscc, r["event_time"],
                         r["fields"])  # fmt: skip
    return uc.ingest_chunk(uow(), uc.CatalogueCache(), department="sx-tax", items=[uc.Submitted(1, rec)],
                           batch=f"b-{source_version}", stream_id=None, now=datetime.now(UTC),
                           calendar=WorkCalendar.load())  # fmt: skip


def test_a_version_added_while_another_writer_read_the_head_is_not_added_twice(
    uow: Uow, monkeypatch: pytest.MonkeyPatch
) -> None:
    uscc = random_uscc()
    assert _ingest(uow, uscc, 1, 1).results[0].outcome is Outcome.PARKED
    original = SqlRecords.heads_for_ingest
    errors: list[BaseException] = []
    other: list[uc.ChunkOutcome] = []

    def another_writer_commits_after_the_read(self: SqlRecords, record_ids: list[str]) -> dict[str, object]:
        heads = original(self, record_ids)
        if not other:  # this chunk has read version 1; the other adds version 2 and commits now
            monkeypatch.setattr(SqlRecords, "heads_for_ingest", original)

            def run() -> None:
                try:
                    other.append(_ingest(uow, uscc, 2, 2))
                except BaseException as exc:  # reported by the test, not lost in the thread
                    errors.append(exc)

            t = threading.Thread(target=run)
            t.start()
            t.join(10)
            assert not t.is_alive()
        return heads  # type: ignore[return-value]

    monkeypatch.setattr(SqlRecords, "heads_for_ingest", another_writer_commits_after_the_read)
    with pytest.raises(Aborted):
        _ingest(uow, uscc, 3, 3)
    monkeypatch.undo()
    assert errors == []
    record_id = other[0].results[0].record_name.rsplit("/", 1)[1]
    with uow() as u:
        versions = list(u.session.execute(
            select(RecordVersionRow.version, RecordVersionRow.source_version, RecordVersionRow.valid_to)
            .where(RecordVersionRow.record_id == record_id).order_by(RecordVersionRow.id)
        ))  # fmt: skip
    assert [(v, s) for v, s, _ in versions] == [(1, 1), (2, 2)]
    assert [to is None for _, _, to in versions] == [False, True]
    # Retried, the chunk adds version 3 over the version now stored.
    assert _ingest(uow, uscc, 3, 3).results[0].outcome is Outcome.PARKED
