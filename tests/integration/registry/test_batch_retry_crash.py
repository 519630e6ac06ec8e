"""IngestBatch retried after the registry died between storing the records and storing the batch's answer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from services.kit.workdays import WorkCalendar
from services.registry import record_usecases as uc
from services.registry.domain.records import IncomingRecord, Outcome
from services.registry.store.records import SqlRecords
from services.registry.store.repositories import SqlRegistryUnitOfWork
from tests.integration.registry.records_support import store_with_a_city_platform, tax_record
from tests.registry_helpers import random_uscc

Uow = Callable[[], SqlRegistryUnitOfWork]


class Crash(Exception):
    """The process dying at this point: nothing after it runs."""


@pytest.fixture
def uow(engine: Engine) -> Uow:
    return store_with_a_city_platform(engine)


def _batch(uow: Uow, uscc: str) -> list[uc.Result]:
    r = tax_record(uscc, 1)
    rec = IncomingRecord("sx-tax", r["item_code"], r["source_record_id"], 1, uscc, r["event_time"], r["fields"])
    results, _ = uc.ingest_batch(uow, uc.CatalogueCache(), department="sx-tax", request_id="b-1",
                                 fingerprint="f-1", items=[uc.Submitted(1, rec)], now=datetime.now(UTC),
                                 calendar=WorkCalendar.load())  # fmt: skip
    return results


def test_a_batch_retried_after_a_crash_before_its_answer_was_stored_gets_the_first_answer(
    uow: Uow, monkeypatch: pytest.MonkeyPatch
) -> None:
    uscc = random_uscc()

    def crash(*_: object) -> None:
        raise Crash

    monkeypatch.setattr(SqlRecords, "add_batch_result", crash)
    with pytest.raises(Crash):
        _batch(uow, uscc)
    monkeypatch.undo()

    again = _batch(uow, uscc)
    # The department never had an answer: its retry is the first delivery, not a duplicate of one it never saw.
    assert [r.outcome for r in again] == [Outcome.PARKED]
    now = datetime.now(UTC)
    with uow() as u:
        figures = u.records.delivery_figures(now - timedelta(days=1), now + timedelta(days=1))
    assert sum(f.duplicates for f in figures.values()) == 0


def test_a_retry_that_finds_no_answer_while_its_first_try_commits_gets_the_first_answer(
    uow: Uow, monkeypatch: pytest.MonkeyPatch
) -> None:
    uscc = random_uscc()
    original = uc._batch_answer
    first: list[list[uc.Result]] = []

    def first_try_commits_after_the_look_up(*args: object) -> list[uc.Result] | None:
        found = original(*args)  # type: ignore[arg-type]
        if not first:
            monkeypatch.setattr(uc, "_batch_answer", original)
            first.append(_batch(uow, uscc))
        return found

    monkeypatch.setattr(uc, "_batch_answer", first_try_commits_after_the_look_up)
    again = _batch(uow, uscc)
    assert first[0] == again
    assert [r.outcome for r in again] == [Outcome.PARKED]
