"""Objection use cases against in-memory fakes: intake, idempotency, visibility, answers, notices and the sweep."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from services.kit.errors import AlreadyExists, InvalidArgument, NotFound, PermissionDenied, Unavailable
from services.objection import usecases
from services.objection.background import DONE, PARKED, Dispatcher, parked
from services.objection.domain import (
    ForwardTimeliness,
    ObjectionFilter,
    ObjectionStatus,
    Outcome,
)
from services.objection.usecases import Idempotency
from tests.unit.objection.fakes import (
    ACME,
    PLATFORM,
    SYNTHETIC_2027,
    TAX,
    World,
    bank,
    calendar_with,
    cst,
)
from tests.unit.objection_service.fakes import FakeUow, OutboxUow, Store, lookups


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def store() -> Store:
    return Store()


def _file(world: World, store: Store, idem: Idempotency | None = None, **overrides: Any) -> Any:
    command = world.command(**overrides)
    return usecases.file(
        lambda: FakeUow(store),
        lambda: FakeUow(store),
        lookups(world),
        command,
        idem or Idempotency(),
        command.forwarded_at,
    )


def test_filing_records_the_objection_routes_it_and_queues_the_dispute_flag(world: World, store: Store) -> None:
    objection = _file(world, store)
    assert objection.status is ObjectionStatus.ROUTED
    stored = store.objections[objection.id]
    assert stored.departments == {TAX}
    assert "DisputeFlagRaised" in store.event_types()
    assert "DisputeRouted" in store.event_types()


def test_a_replayed_filing_returns_the_first_objection(world: World, store: Store) -> None:
    idem = Idempotency("req-1", "fp-1")
    first = _file(world, store, idem, objection_id="o-1")
    again = _file(world, store, idem, objection_id="o-1")
    assert again.id == first.id
    assert len(store.objections) == 1


def test_a_request_id_reused_for_other_content_is_refused(world: World, store: Store) -> None:
    _file(world, store, Idempotency("req-1", "fp-1"), objection_id="o-1")
    with pytest.raises(InvalidArgument) as err:
        _file(world, store, Idempotency("req-1", "fp-2"), objection_id="o-2")
    assert err.value.reason == "ERROR_REASON_REQUEST_ID_REUSED"


def test_a_second_open_objection_on_the_same_record_is_a_duplicate(world: World, store: Store) -> None:
    _file(world, store)
    with pytest.raises(AlreadyExists) as err:
        _file(world, store)
    assert err.value.reason == "ERROR_REASON_OBJECTION_DUPLICATE"
    assert len(store.objections) == 1


def test_a_record_of_another_enterprise_is_not_owned(world: World, store: Store) -> None:
    with pytest.raises(PermissionDenied) as err:
        _file(world, store, records=(world.foreign_record,))
    assert err.value.reason == "ERROR_REASON_OBJECTION_TARGET_NOT_OWNED"
    assert store.objections == {}


def test_an_institution_that_never_received_data_cannot_object(world: World, store: Store) -> None:
    from services.objection.domain import Filer, FilerKind

    with pytest.raises(PermissionDenied) as err:
        _file(world, store, filer=Filer(FilerKind.INSTITUTION, bank().id))
    assert err.value.reason == "ERROR_REASON_OBJECTION_DATA_NEVER_RECEIVED"


@pytest.mark.parametrize(
    ("uscc", "problem"),
    [
        ("91610000MA6TG0001", "length must be 18"),
        ("91610000MA6TG0001AB", "length must be 18"),
        ("91610000MA6TG00O1A", "characters outside the GB 32100 code set (no I, O, S, V, Z)"),
        ("9161000AMA6TG0001A", "administrative division code must be six digits"),
        ("91610000ma6tg0001a", "characters outside the GB 32100 code set (no I, O, S, V, Z)"),
        ("91610000MA6TG0001B", "check digit"),
    ],
)
def test_a_malformed_uscc_is_invalid_and_nothing_is_stored(world: World, store: Store, uscc: str, problem: str) -> None:
    from services.objection.domain import Filer, FilerKind

    # The filing names the enterprise twice (filer and enterprise); one code checked covers both.
    with pytest.raises(InvalidArgument) as err:
        _file(world, store, enterprise=uscc, filer=Filer(FilerKind.ENTERPRISE, uscc))
    assert err.value.reason == "ERROR_REASON_INVALID_USCC"
    assert err.value.metadata == {"field": "enterprise", "problem": problem}
    assert uscc not in f"{err.value} {err.value.metadata}"  # the code names an enterprise: never echoed
    assert store.objections == {}
    assert store.outbox == []


def test_the_fixture_enterprises_have_valid_usccs() -> None:
    from stdnum.cn.uscc import is_valid

    from tests.unit.objection.fakes import OTHER

    assert is_valid(ACME)
    assert is_valid(OTHER)


def test_only_the_enterprise_the_filing_platform_and_supervisors_see_an_objection(world: World, store: Store) -> None:
    objection = _file(world, store)
    reader = lambda: FakeUow(store)  # noqa: E731
    assert usecases.get(reader, objection.id, f"enterprises/{ACME}").id == objection.id
    assert usecases.get(reader, objection.id, PLATFORM).id == objection.id
    assert usecases.get(reader, objection.id, TAX).id == objection.id
    assert usecases.get(reader, objection.id, "supervisors/sx").id == objection.id
    with pytest.raises(PermissionDenied):
        usecases.get(reader, objection.id, "platforms/other")
    with pytest.raises(PermissionDenied):  # alike for a missing objection
        usecases.get(reader, "nope", "platforms/other")
    with pytest.raises(NotFound):
        usecases.get(reader, "nope", "supervisors/sx")


def test_a_department_not_routed_is_refused_alike_for_a_missing_objection(world: World, store: Store) -> None:
    objection = _file(world, store)
    for objection_id in (objection.id, "missing"):
        with pytest.raises(PermissionDenied) as err:
            usecases.answer(
                lambda: FakeUow(store),
                lookups(world),
                objection_id,
                department="departments/market",
                target=world.tax_record,
                outcome=Outcome.UPHELD,
                corrected_version=None,
                idem=Idempotency(),
                now=cst(2025, 3, 12),
            )
        assert err.value.reason == "ERROR_REASON_OBJECTION_NOT_ROUTED_TO_CALLER"


def test_a_correction_resolves_notifies_recipients_and_frees_the_record(world: World, store: Store) -> None:
    world.disclosures.disclose(bank(), ACME, "tax.arrears", cst(2025, 3, 10, 12), world.tax_record.record_id)
    objection = _file(world, store)
    corrected = world.records.add("rec-tax-1", 2, ACME, "tax.arrears", TAX)
    done = usecases.answer(
        lambda: FakeUow(store),
        lookups(world),
        objection.id,
        department=TAX,
        target=world.tax_record,
        outcome=Outcome.CORRECTED,
        corrected_version=corrected.version,
        idem=Idempotency(),
        now=cst(2025, 3, 20),
    )
    assert done.status is ObjectionStatus.RESOLVED
    types = store.event_types()
    for expected in ("DisputeFlagCleared", "RecordCorrected", "ReinsertionGuardRequested", "ReevaluationRequested"):
        assert expected in types
    assert [n.recipient for n in store.notices] == [bank()]
    assert store.open_keys == {}
    again = _file(world, store, records=(corrected,))  # the record may be disputed again
    assert again.is_open


def test_an_extension_needs_a_reason_and_moves_clock_two(world: World, store: Store) -> None:
    objection = _file(world, store)
    writer = lambda: FakeUow(store)  # noqa: E731
    with pytest.raises(InvalidArgument):
        usecases.extend(
            writer,
            world.policy,
            objection.id,
            days=5,
            reason=" ",
            by="operators/a",
            idem=Idempotency(),
            now=cst(2025, 3, 12),
        )
    before = store.objections[objection.id].handling_due.last_day
    extended = usecases.extend(
        writer,
        world.policy,
        objection.id,
        days=5,
        reason="department asked for a site visit",
        by="operators/a",
        idem=Idempotency(),
        now=cst(2025, 3, 12),
    )
    assert extended.handling_due.last_day == before + timedelta(days=5)
    with pytest.raises(NotFound):
        usecases.extend(
            writer,
            world.policy,
            "missing",
            days=1,
            reason="r",
            by="operators/a",
            idem=Idempotency(),
            now=cst(2025, 3, 12),
        )


def test_the_sweep_alerts_overdue_once_and_decides_clock_one_when_the_calendar_arrives(store: Store) -> None:
    world = World()
    # Received on the last days of 2026, forwarded in 2027: the 2027 calendar is not loaded yet.
    objection = _file(world, store, received_at=cst(2026, 12, 31, 9), forwarded_at=cst(2027, 1, 5, 9))
    assert objection.forward_timeliness is ForwardTimeliness.UNKNOWN
    writer = lambda: FakeUow(store)  # noqa: E731
    late = cst(2027, 3, 1)
    result = usecases.sweep(writer, writer, lookups(world), world.calendar, late)
    assert result.overdue_alerted == 1
    assert result.forwarding_decided == 0
    assert 2027 in result.calendar_missing_years
    assert usecases.sweep(writer, writer, lookups(world), world.calendar, late).overdue_alerted == 0
    assert store.event_types().count("HandlingOverdue") == 1

    loaded = replace(world, calendar=calendar_with([SYNTHETIC_2027]))
    result = usecases.sweep(writer, writer, lookups(loaded), loaded.calendar, late)
    assert result.forwarding_decided == 1
    assert store.objections[objection.id].forward_timeliness is not ForwardTimeliness.UNKNOWN


def test_a_receive_time_before_the_calendar_is_invalid_and_nothing_is_stored(world: World, store: Store) -> None:
    # The platform supplies receive_time. A day before the first year of the official calendar (2004, from
    # chinese-calendar) can never be counted: it would leave clock 1 UNKNOWN for good, alerting about a year nobody
    # will load, and every sweep would try it again. The filing is refused instead.
    with pytest.raises(InvalidArgument) as err:
        _file(world, store, received_at=cst(2003, 12, 31, 9), forwarded_at=cst(2025, 3, 11, 9))
    assert err.value.reason == "ERROR_REASON_INVALID_FIELD"
    assert err.value.metadata["field"] == "receive_time"
    assert store.objections == {}
    assert store.outbox == []
    # The first day the calendar knows is counted (a very late forward: decided, not unknown).
    objection = _file(world, store, received_at=cst(2004, 1, 1, 0), forwarded_at=cst(2025, 3, 11, 9))
    assert objection.forward_timeliness is ForwardTimeliness.LATE
    writer = lambda: FakeUow(store)  # noqa: E731
    result = usecases.sweep(writer, writer, lookups(world), world.calendar, cst(2025, 3, 12))
    assert result.forwarding_decided == 0
    assert store.event_types().count("ForwardTimelinessUnknown") == 0


def test_the_sweep_routes_targets_once_the_sharing_list_names_a_department(store: Store) -> None:
    world = World()
    world.departments.mapping.pop("tax.arrears")
    objection = _file(world, store)
    assert objection.status is ObjectionStatus.FORWARDED
    assert "RoutingFailed" in store.event_types()
    writer = lambda: FakeUow(store)  # noqa: E731
    world.departments.mapping["tax.arrears"] = TAX
    assert usecases.sweep(writer, writer, lookups(world), world.calendar, cst(2025, 3, 12)).rerouted == 1
    assert store.objections[objection.id].status is ObjectionStatus.ROUTED


def test_listing_filters_by_department_and_reports_sla_figures(world: World, store: Store) -> None:
    _file(world, store)
    _file(world, store, records=(world.market_record,))
    reader = lambda: FakeUow(store)  # noqa: E731
    listing = usecases.list_objections(reader, ObjectionFilter(department=TAX), None, 10, cst(2025, 3, 12))
    assert len(listing.objections) == 1
    assert listing.figures.objections == 1
    assert listing.figures.forwarded_on_time.whole == 1


def test_the_dispatcher_retries_failures_and_settles_done_and_parked(world: World, store: Store) -> None:
    _file(world, store)
    calls: list[str] = []

    def flaky(payload: Mapping[str, Any]) -> str:
        calls.append(payload["type"])
        if len(calls) == 1:
            raise Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "down")
        return DONE

    now = [cst(2025, 3, 11, 10)]
    dispatcher = Dispatcher(
        lambda: OutboxUow(store), {"DisputeFlagRaised": flaky, "DisputeRouted": parked}, lambda: now[0]
    )
    dispatcher.run_once()
    states = {e.event_type: e.state for e in store.outbox}
    assert states["DisputeFlagRaised"] == "PENDING"
    assert states["DisputeRouted"] == PARKED
    now[0] += timedelta(minutes=10)
    dispatcher.run_once()
    assert {e.event_type: e.state for e in store.outbox}["DisputeFlagRaised"] == DONE
    assert calls == ["DisputeFlagRaised", "DisputeFlagRaised"]
