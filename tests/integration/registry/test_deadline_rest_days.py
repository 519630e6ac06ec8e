"""Delivery deadlines that fall on a rest day end on the next working day, in the registry's timeliness figures."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import grpc
import pytest

from creditnode.registry.v1 import records_pb2 as rec_pb
from services.registry import main
from services.registry.domain.sharing_list import CHINA_TZ
from tests.integration.registry.records_support import (
    as_department,
    create_departments,
    ingestion,
    records,
    wire_record,
)
from tests.registry_helpers import RegistryClient, random_uscc

# Tuesday 24 February 2026, the first working day after the Spring Festival rest (15-23 February).
FIRST_WORKING_DAY = datetime(2026, 2, 24, 15, 0, tzinfo=CHINA_TZ)


@pytest.fixture
def client(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RegistryClient]:
    """A registry on a real port whose clock reads 24 February 2026 (and runs on from there)."""
    started = datetime.now(UTC)
    monkeypatch.setattr(main, "utcnow", lambda: FIRST_WORKING_DAY + (datetime.now(UTC) - started))
    settings = main.RegistrySettings(
        listen_addr="127.0.0.1:0", database_url=database_url, var_dir=tmp_path, ca_autocreate=True
    )
    server = main.build(settings, configure_logs=False)
    try:
        with grpc.insecure_channel(server.address) as channel:
            c = RegistryClient(channel)
            create_departments(c)
            yield c
    finally:
        server.stop(0)


def _tax(n: int, period: str, event: datetime) -> rec_pb.IngestRecord:
    fields = {"period": period, "tax_paid_yuan": Decimal("1000.00")}
    r = {"item_code": "TAX_PAYMENT", "source_record_id": f"tax-{n}", "uscc": random_uscc(), "event_time": event}
    return wire_record({**r, "fields": fields}, sequence=n)


def test_a_record_due_in_the_spring_festival_and_delivered_the_first_working_day_after_counts_on_time(
    client: RegistryClient,
) -> None:
    # January's figures are due by day 20 of February, a rest day: the period ends with 24 February (art. 203).
    january = _tax(1, "2026-01", datetime(2026, 1, 31, 12, 0, tzinfo=CHINA_TZ))
    # December's were due by 20 January, a working day: a month late whatever the calendar.
    december = _tax(2, "2025-12", datetime(2025, 12, 31, 12, 0, tzinfo=CHINA_TZ))
    answer = ingestion(client.channel).IngestBatch(
        rec_pb.IngestBatchRequest(request_id="holiday-1", records=[january, december]),
        metadata=as_department("sx-tax"),
    )
    assert [r.outcome for r in answer.results] == [rec_pb.RECORD_OUTCOME_PARKED] * 2
    on_time, late = answer.results
    assert on_time.on_time
    assert on_time.due_time.ToDatetime(tzinfo=UTC) == datetime(2026, 2, 25, tzinfo=CHINA_TZ)
    assert not late.on_time

    figures = records(client.channel).GetTimeliness(rec_pb.GetTimelinessRequest(item_codes=["TAX_PAYMENT"]))
    (tax,) = figures.items
    assert (tax.first_deliveries, tax.on_time, tax.late) == (2, 1, 1)
    assert tax.on_time_share == 0.5
