"""An enterprise's state written by two handlers at once: the record watch, the participant watch and ReEvaluate run
in their own threads (and replicas); each reads the state, works without a lock, then writes under the enterprise's
lock. A write must never put back what another handler replaced meanwhile."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from services.scoring import usecases
from services.scoring.domain.ports import RecordPage
from tests.unit.scoring_service.fakes import FakeUnitOfWork
from tests.unit.scoring_service.test_usecases import USCC, World, enforcement, loan, reg_basic


def _evidence(sc: usecases.Scoring) -> set[str]:
    current = usecases.get_evaluation(sc, USCC)
    return {r.record_id for c in current.evaluation.contributions for r in c.evidence}


def test_a_reevaluation_racing_a_record_change_never_makes_the_older_records_current(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # ReEvaluate lists the records; before it writes, the record watch handles a new record and commits. The
    # watch's cursor has moved on: an evaluation from the older listing appended last would stay current.
    sc, store, records, _ = world
    records.add(USCC, reg_basic("ra"))
    usecases.on_enterprise(sc, USCC, "xian", True)
    listing = records.enterprise_records

    def list_while_the_watch_runs(uscc: str) -> RecordPage | None:
        page = listing(uscc)
        monkeypatch.setattr(records, "enterprise_records", listing)
        usecases.on_record_change(sc, USCC, records.add(USCC, enforcement("e1")))
        return page

    monkeypatch.setattr(records, "enterprise_records", list_while_the_watch_runs)
    made = usecases.reevaluate(sc, USCC, "req-1", "fp")
    assert "e1" in _evidence(sc)
    assert "e1" in {r.record_id for r in store.enterprises[USCC].records}
    assert store.enterprises[USCC].record_revision == records.revision
    assert usecases.get_evaluation(sc, USCC).evaluation_id == made.evaluation_id


def test_a_record_change_racing_a_removal_leaves_the_enterprise_removed(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The participant watch removes the enterprise while the record watch asks consent about an alert.
    sc, store, records, consent = world
    usecases.on_enterprise(sc, USCC, "xian", True)
    loan(sc)
    consent.allowed.add(("bank-a", USCC))
    check = consent.check

    def check_while_the_enterprise_is_removed(institution_id: str, uscc: str, items: object):  # type: ignore[no-untyped-def]
        monkeypatch.setattr(consent, "check", check)
        usecases.on_enterprise(sc, USCC, "", False)
        return check(institution_id, uscc, items)  # type: ignore[arg-type]

    monkeypatch.setattr(consent, "check", check_while_the_enterprise_is_removed)
    usecases.on_record_change(sc, USCC, records.add(USCC, enforcement("e1")))
    assert store.enterprises[USCC].active is False
    assert "e1" in {r.record_id for r in store.enterprises[USCC].records}


def _writer_after(sc: usecases.Scoring, monkeypatch: pytest.MonkeyPatch, other: Callable[[], object]) -> None:
    """The next unit of work opened for writing starts only after ``other`` (another thread) has committed."""
    writer = sc.writer

    def late_writer() -> FakeUnitOfWork:
        monkeypatch.setattr(sc, "writer", writer)
        other()
        return writer()  # type: ignore[return-value]

    monkeypatch.setattr(sc, "writer", late_writer)


@pytest.mark.parametrize("active", [False, True])
def test_a_participant_event_racing_a_record_change_keeps_the_new_records(
    world: World, monkeypatch: pytest.MonkeyPatch, active: bool
) -> None:
    # The participant watch read the state; the record watch stores new records before it writes the state back.
    sc, store, records, _ = world
    usecases.on_enterprise(sc, USCC, "xian", True)
    if active:
        usecases.on_enterprise(sc, USCC, "", False)  # removed: the event readmits it
    revision = records.add(USCC, enforcement("e1"))
    _writer_after(sc, monkeypatch, lambda: usecases.on_record_change(sc, USCC, revision))
    usecases.on_enterprise(sc, USCC, "xian", active)
    state = store.enterprises[USCC]
    assert state.active is active
    assert "e1" in {r.record_id for r in state.records}
    assert state.record_revision == revision
    # the change is not taken again (a replay after a restart appends nothing)
    count = len(store.evaluations)
    usecases.on_record_change(sc, USCC, revision)
    assert len(store.evaluations) == count
