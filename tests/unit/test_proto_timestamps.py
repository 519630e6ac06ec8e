"""The kit's datetime -> Timestamp conversion is protobuf's own, only cheaper: same value for every instant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
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


def test_a_naive_datetime_is_refused_not_read_as_the_hosts_local_time() -> None:
    # astimezone() read a naive value as the host's local time: under TZ=Asia/Shanghai 2026-01-01 00:00 went out
    # eight hours early, where protobuf's own conversion reads it as UTC. The node never means either: refuse it.
    with pytest.raises(ValueError, match="timezone-aware"):
        timestamp(datetime(2026, 1, 1))
