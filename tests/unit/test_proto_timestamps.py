"""The kit's datetime -> Timestamp conversion is protobuf's own, only cheaper: same value for every instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from google.protobuf.timestamp_pb2 import Timestamp
from hypothesis import given
from hypothesis import strategies as st

from services.kit.protos import timestamp

ZONES = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30))])


@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES))
def test_same_as_protobufs_conversion(at: datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(at.astimezone(UTC))
    assert timestamp(at) == expected


def test_none_stays_none() -> None:
    assert timestamp(None) is None
