"""A record's publicity period (公示期) ends: the day's re-check stops scoring it, and its end is kept with it."""

from __future__ import annotations

import json
from concurrent import futures
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone

import grpc
import pytest

from creditnode.registry.v1 import records_pb2 as rpb
from creditnode.registry.v1 import records_pb2_grpc as rgrpc
from services.scoring import usecases
from services.scoring.clients.registry import GrpcRecordSource, to_record
from services.scoring.store.repositories import decode_records, encode_records
from tests.unit.scoring_service.test_stale_evaluations import DAY_1, DAY_2, World, evaluated, penalty, value, world
from tests.unit.scoring_service.test_usecases import USCC, reg_basic

__all__ = ["world"]  # the fixture, imported for the tests below

BEIJING = timezone(timedelta(hours=8))


def test_a_penalty_whose_publicity_ends_overnight_stops_counting_at_the_days_recheck(world: World) -> None:
    sc, store, records, _, clock = world
    # Decided in 2026, well inside the indicator's 24 months, but its publicity ends at 00:00 on 1 December (Beijing).
    ends = penalty("p1", date(2026, 6, 1))
    ends = replace(ends, publicity_end=datetime(2026, 12, 1, tzinfo=BEIJING))
    stays = replace(penalty("p2", date(2026, 7, 1)), publicity_end=datetime(2029, 7, 2, tzinfo=BEIJING))
    evaluated(sc, store, records, USCC, reg_basic("r"), ends, stays)
    assert value(sc, USCC, "penalties_24m") == 2

    clock.now = DAY_2
    usecases.sweep_stale(sc)

    assert value(sc, USCC, "penalties_24m") == 1
    evidence = next(
        c.evidence for c in usecases.get_evaluation(sc, USCC).evaluation.contributions if c.indicator == "penalties_24m"
    )
    assert [r.record_id for r in evidence] == ["p2"]
    assert {r.record_id for r in store.enterprises[USCC].records} >= {"p1", "p2"}  # kept, not scored
    assert DAY_1 < datetime(2026, 12, 1, tzinfo=BEIJING) <= DAY_2


def test_the_registrys_publicity_end_reaches_the_record_and_survives_the_store() -> None:
    wire = rpb.CreditRecord(name=f"enterprises/{USCC}/records/abc", item_code="AMR_PENALTY", version=1)
    wire.event_time.FromDatetime(datetime(2026, 6, 1, 2, tzinfo=UTC))
    without = to_record(wire)
    wire.publicity_end_time.FromDatetime(datetime(2029, 6, 1, 16, tzinfo=UTC))
    record = to_record(wire)
    assert without.publicity_end is None
    assert record.publicity_end == datetime(2029, 6, 1, 16, tzinfo=UTC)
    assert decode_records(encode_records((record, without))) == (record, without)


def test_records_stored_before_publicity_ends_were_kept_are_read_again_from_the_registry(world: World) -> None:
    sc, store, records, _, clock = world
    ends = replace(penalty("p1", date(2026, 6, 1)), publicity_end=datetime(2026, 12, 1, tzinfo=BEIJING))
    evaluated(sc, store, records, USCC, reg_basic("r"), ends)
    # As an older scoring stored them: no publicity end, and none known.
    state = store.enterprises[USCC]
    legacy = tuple(replace(r, publicity_end=None, publicity_known=False) for r in state.records)
    store.enterprises[USCC] = replace(state, records=legacy)
    assert value(sc, USCC, "penalties_24m") == 1
    calls = records.calls

    clock.now = DAY_2
    usecases.sweep_stale(sc)

    assert records.calls == calls + 1  # the registry's records, with their publicity ends, replace the stored ones
    assert value(sc, USCC, "penalties_24m") == 0
    assert all(r.publicity_known for r in store.enterprises[USCC].records)
    calls = records.calls
    clock.now = DAY_2 + timedelta(days=1)
    usecases.sweep_stale(sc)
    assert records.calls == calls  # once known, the day's re-check reads the stored records again


def test_a_stored_record_says_whether_its_publicity_end_is_known() -> None:
    at = datetime(2026, 6, 1, 2, tzinfo=UTC)
    endless = to_record(rpb.CreditRecord(name=f"enterprises/{USCC}/records/abc", item_code="REG_BASIC", version=1))
    assert endless.publicity_known
    assert decode_records(encode_records((endless,)))[0].publicity_known
    old = {"id": "abc", "item": "AMR_PENALTY", "fields": {}, "at": at.isoformat(), "v": 1, "disputed": False}
    (legacy,) = decode_records(json.dumps([old]))
    assert (legacy.publicity_end, legacy.publicity_known) == (None, False)


class _Registry(rgrpc.RecordServiceServicer):
    """A registry answering one listing: an older release's (no publicity ends kept) or this one's."""

    def __init__(self, publicity_known: bool) -> None:
        self.publicity_known = publicity_known

    def ListEnterpriseRecords(self, request: rpb.ListEnterpriseRecordsRequest, context: object) -> object:
        wire = rpb.CreditRecord(name=f"enterprises/{USCC}/records/p1", item_code="AMR_PENALTY", version=1)
        wire.event_time.FromDatetime(datetime(2020, 6, 1, 2, tzinfo=UTC))
        wire.state = rpb.RECORD_STATE_CURRENT
        # Only a newer release sets publicity_known; an older one sends exactly this without it.
        return rpb.ListEnterpriseRecordsResponse(records=[wire], revision=7, publicity_known=self.publicity_known)


@pytest.mark.parametrize("publicity_known", [False, True])
def test_a_listing_from_a_registry_keeping_no_publicity_ends_leaves_them_unknown(publicity_known: bool) -> None:
    # During a rolling upgrade this scoring may read from a registry of the previous release, which sets no
    # publicity_end_time on any record: its penalties must be stored as not known (read again by the day's re-check),
    # not as known to have no end (counted for ever).
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    rgrpc.add_RecordServiceServicer_to_server(_Registry(publicity_known), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            page = GrpcRecordSource(channel).enterprise_records(USCC)
    finally:
        server.stop(None)
    assert page is not None
    (record,) = page.records
    assert (record.publicity_end, record.publicity_known) == (None, publicity_known)
    (stored,) = decode_records(encode_records((record,)))
    assert stored.publicity_known is publicity_known
