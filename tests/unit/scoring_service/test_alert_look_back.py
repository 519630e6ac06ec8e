"""Alerts and the monitoring authorization's look-back: non-public records older than its data_since hold them back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from services.kit.errors import Unavailable
from services.scoring import usecases
from services.scoring.domain.ports import Alert
from tests.unit.scoring_service.test_usecases import USCC, World, enforcement, loan

SINCE = datetime(2026, 6, 1, tzinfo=UTC)  # after enforcement()'s event time, 2026-05-01


def _raise(world: World, record_id: str, at: datetime) -> None:
    sc, _, records, _ = world
    usecases.on_record_change(sc, USCC, records.add(USCC, replace(enforcement(record_id), event_time=at)))


def _ready(world: World, since: datetime | None = SINCE) -> None:
    sc, _, _, consent = world
    usecases.on_enterprise(sc, USCC, "xian", True)
    loan(sc)
    consent.allowed.add(("bank-a", USCC))
    if since is not None:
        consent.data_since[("bank-a", USCC)] = since


def _evidence(alerts: Sequence[Alert]) -> set[str]:
    return {r.record_id for a in alerts for r in a.evidence}


def test_an_alert_on_a_record_older_than_the_look_back_is_kept_unsendable_and_a_newer_one_flows(
    world: World,
) -> None:
    sc, store, _, _ = world
    _ready(world)
    _raise(world, "e-old", datetime(2026, 5, 1, tzinfo=UTC))
    _raise(world, "e-new", SINCE)  # at data_since itself: inside
    marked = {r.record_id: ok for alert, ok in store.alerts for r in alert.evidence}
    assert marked["e-old"] is False
    assert marked["e-new"] is True
    alerts, _ = usecases.deliverable_alerts(sc, "bank-a", 0, 100)
    assert _evidence(alerts) == {"e-new"}


def test_without_a_look_back_every_authorized_alert_flows(world: World) -> None:
    sc, store, _, _ = world
    _ready(world, since=None)
    _raise(world, "e-old", datetime(2020, 1, 1, tzinfo=UTC))
    assert store.alerts
    assert all(ok for _, ok in store.alerts)
    assert "e-old" in _evidence(usecases.deliverable_alerts(sc, "bank-a", 0, 100)[0])


def test_records_of_public_items_leave_whatever_the_look_back_and_the_list_is_read_only_when_it_matters(
    world: World,
) -> None:
    sc, store, _, _ = world
    reads: list[int] = []

    def public_items() -> frozenset[str]:
        reads.append(1)
        return frozenset({"COURT_ENFORCEMENT"})

    sc.public_items = public_items
    _ready(world)
    _raise(world, "e-new", SINCE)
    assert reads == []  # nothing older than the look-back: no need to ask which items are public
    _raise(world, "e-old", datetime(2026, 5, 1, tzinfo=UTC))
    assert reads
    assert all(ok for _, ok in store.alerts)
    assert _evidence(usecases.deliverable_alerts(sc, "bank-a", 0, 100)[0]) == {"e-new", "e-old"}


def test_an_alert_raised_in_the_look_back_stops_flowing_once_the_authorization_reaches_back_less(
    world: World,
) -> None:
    sc, store, _, consent = world
    _ready(world)
    _raise(world, "e1", SINCE)
    assert all(ok for _, ok in store.alerts)
    consent.data_since[("bank-a", USCC)] = datetime(2026, 7, 1, tzinfo=UTC)  # a new authorization, a later bound
    alerts, cursor = usecases.deliverable_alerts(sc, "bank-a", 0, 100)
    assert "e1" not in _evidence(alerts)
    assert cursor == max(alert.cursor for alert, _ in store.alerts)  # passed over, not waited for


def test_when_the_public_items_cannot_be_read_no_alert_is_stored(world: World) -> None:
    sc, store, _, _ = world

    def unreachable() -> frozenset[str]:
        raise Unavailable("ERROR_REASON_DEPENDENCY_UNAVAILABLE", "the registry's sharing list is unavailable")

    sc.public_items = unreachable
    _ready(world)
    with pytest.raises(Unavailable):
        _raise(world, "e-old", datetime(2026, 5, 1, tzinfo=UTC))
    assert store.alerts == []  # the change is handled again later, not stored as never to be sent
