"""A registry record as scoring reads it: an open objection on the wire is its dispute flag, kept by the store."""

from __future__ import annotations

from datetime import UTC, datetime

from creditnode.registry.v1 import records_pb2 as rpb
from services.scoring.clients.registry import to_record
from services.scoring.store.repositories import decode_records, encode_records
from tests.unit.scoring_service.test_usecases import USCC


def test_a_record_with_an_open_objection_is_read_in_dispute_and_stored_so() -> None:
    # The flag is what marks an evaluation's evidence (and the portrait) as resting on disputed data: dropped here,
    # every evaluation would go out unmarked, and the domain's own tests would not notice.
    wire = rpb.CreditRecord(name=f"enterprises/{USCC}/records/abc", item_code="AMR_PENALTY", version=2)
    wire.event_time.FromDatetime(datetime(2026, 6, 1, 2, tzinfo=UTC))
    undisputed = to_record(wire)
    wire.disputes.add(objection="objections/o1").set_time.FromDatetime(datetime(2026, 11, 30, 8, tzinfo=UTC))
    disputed = to_record(wire)
    assert (undisputed.in_dispute, disputed.in_dispute) == (False, True)
    assert decode_records(encode_records((disputed, undisputed))) == (disputed, undisputed)
    assert [r.in_dispute for r in decode_records(encode_records((disputed, undisputed)))] == [True, False]
