"""Storage forms of records: typed field JSON, stable record ids, and stored batch results round-trip exactly."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from services.registry.domain.ledger import record_id_of
from services.registry.domain.records import IdempotencyKey, Outcome
from services.registry.record_usecases import Result
from services.registry.store.records import decode_fields, encode_fields


def test_fields_keep_their_types_and_decimal_scale() -> None:
    values = {"amount": Decimal("1.50"), "day": date(2026, 3, 1), "count": 7, "flag": False, "name": "张三"}
    back = decode_fields(encode_fields(values))
    assert back == values
    assert str(back["amount"]) == "1.50"
    assert isinstance(back["flag"], bool)


def test_record_id_is_stable_across_versions_and_distinct_across_sources() -> None:
    v1 = IdempotencyKey("sx-tax", "TAX_PAYMENT", "r-1", 1)
    v2 = IdempotencyKey("sx-tax", "TAX_PAYMENT", "r-1", 2)
    other = IdempotencyKey("sx-tax", "TAX_PAYMENT", "r-2", 1)
    assert record_id_of(v1) == record_id_of(v2)
    assert record_id_of(v1) != record_id_of(other)
    assert len(record_id_of(v1)) == 32


def test_batch_results_round_trip() -> None:
    result = Result(3, Outcome.ACCEPTED, record_name="enterprises/x/records/y", on_time=True,
                    due_time=datetime(2026, 1, 1, tzinfo=UTC))  # fmt: skip
    rejected = Result(4, Outcome.REJECTED, "ERROR_REASON_FIELD_REQUIRED", "field x is required", "x")
    assert Result.from_json(result.to_json()) == result
    assert Result.from_json(rejected.to_json()) == rejected
