"""Record reads and dispute flags over the API: retries and conflicts of a clearing, masking by each version's list."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import pytest
import yaml

from creditnode.common.v1 import error_reason_pb2 as er
from creditnode.registry.v1 import records_pb2 as rec_pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import sharing_list_pb2 as sl_pb
from creditnode.registry.v1 import sharing_list_pb2_grpc as sl_grpc
from services.gateway.clients.record_cache import RecordCache
from services.gateway.clients.registry import RegistryReader
from services.kit.status import error_info
from tests.integration.registry.records_support import (
    as_department,
    create_departments,
    ingestion,
    records,
    tax_record,
    wire_record,
    wire_value,
)
from tests.registry_helpers import RegistryClient

TAX = as_department("sx-tax")


@pytest.fixture
def client(registry_server: str) -> Iterator[RegistryClient]:
    with grpc.insecure_channel(registry_server) as ch:
        c = RegistryClient(ch)
        create_departments(c)
        yield c


@pytest.fixture
def platform(client: RegistryClient) -> str:
    p, _ = client.admitted_platform()
    return p.name


def _ingest(
    client: RegistryClient, recs: list[rec_pb.IngestRecord], department: tuple[tuple[str, str]] = TAX
) -> rec_pb.IngestBatchResponse:
    response: rec_pb.IngestBatchResponse = ingestion(client.channel).IngestBatch(
        rec_pb.IngestBatchRequest(records=recs), metadata=department
    )
    return response


def _disputed_tax_record(client: RegistryClient, platform: str, objection: str) -> str:
    e, _ = client.enterprise(platform)
    name = _ingest(client, [wire_record(tax_record(e.uscc, 1), 1)]).results[0].record
    records(client.channel).SetRecordDispute(rec_pb.SetRecordDisputeRequest(name=name, objection=objection))
    return name


def _corrected(name: str, objection: str, amount: str, period: str) -> rec_pb.ClearRecordDisputeRequest:
    return rec_pb.ClearRecordDisputeRequest(
        name=name,
        objection=objection,
        outcome=rec_pb.DISPUTE_OUTCOME_CORRECTED,
        corrected_fields={"period": wire_value(period), "tax_paid_yuan": rec_pb.FieldValue(decimal_value=amount)},
    )


def test_clearing_again_with_another_outcome_is_refused_and_the_first_outcome_stands(
    client: RegistryClient, platform: str
) -> None:
    name = _disputed_tax_record(client, platform, "objections/o1")
    stub = records(client.channel)
    upheld = rec_pb.ClearRecordDisputeRequest(
        name=name, objection="objections/o1", outcome=rec_pb.DISPUTE_OUTCOME_UPHELD
    )
    first = stub.ClearRecordDispute(upheld).record
    assert stub.ClearRecordDispute(upheld).record == first  # a retry of the same clearing is answered as the first
    period = tax_record("", 1)["fields"]["period"]
    with pytest.raises(grpc.RpcError) as err:
        stub.ClearRecordDispute(_corrected(name, "objections/o1", "1.00", period))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(err.value)
    assert info is not None
    assert info.reason == er.ErrorReason.Name(er.ERROR_REASON_ILLEGAL_TRANSITION)
    assert dict(info.metadata) == {"from": "UPHELD", "to": "CORRECTED"}
    now = stub.GetRecord(rec_pb.GetRecordRequest(name=name, include_history=True))
    assert now.record.version == 1
    assert len(now.versions) == 1
    # an upheld record's statement may still be attached: the flag ended UPHELD, not CORRECTED
    stub.AttachRecordStatement(rec_pb.AttachRecordStatementRequest(name=name, objection="objections/o1", statement="s"))


def test_clearing_again_with_other_corrected_fields_is_refused_and_the_same_ones_are_a_retry(
    client: RegistryClient, platform: str
) -> None:
    name = _disputed_tax_record(client, platform, "objections/o2")
    stub = records(client.channel)
    period = tax_record("", 1)["fields"]["period"]
    first = stub.ClearRecordDispute(_corrected(name, "objections/o2", "1.00", period)).record
    assert first.version == 2
    again = stub.ClearRecordDispute(_corrected(name, "objections/o2", "1.0", period)).record  # the same amount
    assert again == first
    with pytest.raises(grpc.RpcError) as err:
        stub.ClearRecordDispute(_corrected(name, "objections/o2", "2.00", period))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    info = error_info(err.value)
    assert info is not None
    assert info.reason == er.ErrorReason.Name(er.ERROR_REASON_ILLEGAL_TRANSITION)
    assert info.metadata["field"] == "corrected_fields"
    assert "2.00" not in str(err.value.details())
    now = stub.GetRecord(rec_pb.GetRecordRequest(name=name)).record
    assert now.version == 2
    assert now.fields["tax_paid_yuan"].decimal_value in ("1", "1.00", "1.0")


def _current_list(client: RegistryClient) -> tuple[sl_grpc.SharingListServiceStub, dict[str, Any], dict[str, Any]]:
    """The list service, the current list's content, and REG_ANNUAL_REPORT's contact_phone field within it."""
    lists = sl_grpc.SharingListServiceStub(client.channel)
    content = yaml.safe_load(lists.GetSharingList(sl_pb.GetSharingListRequest(include_yaml=True)).yaml_text)
    item = next(i for i in content["items"] if i["code"] == "REG_ANNUAL_REPORT")
    return lists, content, next(f for f in item["fields"] if f["name"] == "contact_phone")


def _publish_annual_report_phone(client: RegistryClient, version: int, personal: dict[str, Any] | None) -> None:
    """A new version of the list whose REG_ANNUAL_REPORT contact_phone is personal as ``personal`` says (its
    ``personal`` and ``mask`` keys), or not personal information at all (None)."""
    lists, content, phone = _current_list(client)
    content["version"] = version
    phone.pop("personal", None)
    phone.pop("mask", None)
    phone.update(personal or {})
    lists.PublishSharingList(
        sl_pb.PublishSharingListRequest(
            yaml_text=yaml.safe_dump(content, allow_unicode=True),
            change=admin_pb.Change(actor="operator", reason="whether the company switchboard is personal"),
        )
    )


def _phone_marking(client: RegistryClient) -> dict[str, Any]:
    """How the current list marks REG_ANNUAL_REPORT's contact_phone as personal (its ``personal`` and ``mask``)."""
    _, _, phone = _current_list(client)
    return {k: phone[k] for k in ("personal", "mask")}


def _phone_history(
    client: RegistryClient, platform: str, phone: str, lists: tuple[int, int], republish: Callable[[], None]
) -> rec_pb.GetRecordResponse:
    """An annual report sent under list version ``lists[0]``, the list republished, then its second version sent
    under ``lists[1]``: the record with its history, in the default (masked) view."""
    e, _ = client.enterprise(platform)
    fields: dict[str, object] = {
        "year": 2025,
        "submitted_on": date(2026, 3, 1),
        "on_time": True,
        "contact_phone": phone,
    }
    report = {
        "item_code": "REG_ANNUAL_REPORT",
        "source_record_id": "annual-2025",
        "uscc": e.uscc,
        "event_time": datetime.now(UTC) - timedelta(hours=1),
        "fields": fields,
        "list_version": lists[0],
    }
    amr = as_department("sx-amr")
    stored = _ingest(client, [wire_record(report, 1)], amr).results[0]
    assert stored.outcome == rec_pb.RECORD_OUTCOME_ACCEPTED
    republish()
    newer = {**report, "source_version": 2, "list_version": lists[1], "fields": {**fields, "on_time": False}}
    assert _ingest(client, [wire_record(newer, 1)], amr).results[0].outcome == rec_pb.RECORD_OUTCOME_ACCEPTED
    got: rec_pb.GetRecordResponse = records(client.channel).GetRecord(
        rec_pb.GetRecordRequest(name=stored.record, include_history=True)
    )
    assert [v.provenance.list_version for v in got.versions] == list(lists)
    return got


def test_each_version_in_a_record_history_is_masked_by_the_list_version_it_was_validated_under(
    client: RegistryClient, platform: str
) -> None:
    phone = "13912345678"
    got = _phone_history(client, platform, phone, (1, 2), lambda: _publish_annual_report_phone(client, 2, None))
    first, second = got.versions
    assert phone not in str(first.fields["contact_phone"])  # version 1's list says the phone is personal
    assert second.fields["contact_phone"].string_value == phone  # version 2's list says it is not
    assert got.record.fields["contact_phone"].string_value == phone


def test_ending_a_dispute_moves_the_record_update_time(client: RegistryClient, platform: str) -> None:
    name = _disputed_tax_record(client, platform, "objections/o4")
    stub = records(client.channel)
    flagged = stub.GetRecord(rec_pb.GetRecordRequest(name=name)).record
    cleared = stub.ClearRecordDispute(
        rec_pb.ClearRecordDisputeRequest(name=name, objection="objections/o4", outcome=rec_pb.DISPUTE_OUTCOME_UPHELD)
    ).record
    assert list(cleared.disputes) == []
    assert cleared.update_time.ToDatetime() > flagged.update_time.ToDatetime()
    assert stub.GetRecord(rec_pb.GetRecordRequest(name=name)).record.update_time == cleared.update_time


def test_an_older_version_is_masked_as_the_current_versions_list_says_too(
    client: RegistryClient, platform: str
) -> None:
    # The other way round: validated when the phone was not personal, shown after a later list marked it again.
    phone = "13912345678"
    marking = _phone_marking(client)
    _publish_annual_report_phone(client, 2, None)
    got = _phone_history(client, platform, phone, (2, 3), lambda: _publish_annual_report_phone(client, 3, marking))
    first, second = got.versions
    assert phone not in str(first.fields["contact_phone"])  # not personal under list 2, personal again under 3
    assert phone not in str(second.fields["contact_phone"])
    assert first.fields["contact_phone"] == second.fields["contact_phone"]  # the same mask


def _penalty(uscc: str, source: str, decided: date, list_version: int) -> dict[str, Any]:
    return {
        "item_code": "AMR_PENALTY",
        "source_record_id": source,
        "uscc": uscc,
        "event_time": datetime(decided.year, decided.month, decided.day, 10, tzinfo=UTC),
        "fields": {
            "decision_number": f"陕市监罚〔{decided.year}〕{source}号",
            "decided_on": decided,
            "penalty_type": "罚款",
            "amount_yuan": Decimal("5000.00"),
            "authority": "西安市市场监督管理局",
        },
        "list_version": list_version,
    }


def test_a_records_publicity_ends_by_the_list_version_governing_it(client: RegistryClient, platform: str) -> None:
    e, _ = client.enterprise(platform)
    amr = as_department("sx-amr")
    under_v1 = _ingest(client, [wire_record(_penalty(e.uscc, "p-1", date(2024, 1, 31), 1), 1)], amr).results[0]
    assert under_v1.outcome == rec_pb.RECORD_OUTCOME_ACCEPTED
    lists, content, _ = _current_list(client)
    content["version"] = 2
    next(i for i in content["items"] if i["code"] == "AMR_PENALTY")["publicity_months"] = 1
    lists.PublishSharingList(
        sl_pb.PublishSharingListRequest(
            yaml_text=yaml.safe_dump(content, allow_unicode=True),
            change=admin_pb.Change(actor="operator", reason="a shorter publicity period for minor penalties"),
        )
    )
    under_v2 = _ingest(client, [wire_record(_penalty(e.uscc, "p-2", date(2024, 1, 31), 2), 1)], amr).results[0]
    assert under_v2.outcome == rec_pb.RECORD_OUTCOME_ACCEPTED
    stub = records(client.channel)
    listing = stub.ListEnterpriseRecords(rec_pb.ListEnterpriseRecordsRequest(parent=f"enterprises/{e.uscc}"))
    assert listing.publicity_known  # an unset end is no end: readers tell this registry from an older one
    listed = listing.records
    ends = {r.name: r.publicity_end_time.ToDatetime(UTC) for r in listed if r.HasField("publicity_end_time")}
    # 36 months under version 1 (the list it was validated under), 1 month (to 29 February 2024) under version 2.
    assert ends == {
        under_v1.record: datetime(2027, 1, 31, 16, tzinfo=UTC),  # 2027-02-01 00:00 Beijing
        under_v2.record: datetime(2024, 2, 29, 16, tzinfo=UTC),  # 2024-03-01 00:00 Beijing
    }
    got = stub.GetRecord(rec_pb.GetRecordRequest(name=under_v1.record)).record
    assert got.publicity_end_time.ToDatetime(UTC) == datetime(2027, 1, 31, 16, tzinfo=UTC)


def test_an_item_without_a_publicity_period_has_no_end(client: RegistryClient, platform: str) -> None:
    name = _disputed_tax_record(client, platform, "objections/o9")
    assert (
        not records(client.channel).GetRecord(rec_pb.GetRecordRequest(name=name)).record.HasField("publicity_end_time")
    )


def test_a_gateways_record_cache_keeps_this_registrys_listings(client: RegistryClient, platform: str) -> None:
    # The gateway keeps no listing from a registry that does not say its publicity ends are known (one of the
    # previous release, during a rolling upgrade): this one says so, or every report would read the registry again.
    e, _ = client.enterprise(platform)
    amr = as_department("sx-amr")
    assert _ingest(client, [wire_record(_penalty(e.uscc, "p-9", date(2025, 3, 3), 1), 1)], amr).results[0].outcome == (
        rec_pb.RECORD_OUTCOME_ACCEPTED
    )
    reader = RegistryReader(client.channel)
    cache = reader.cache = RecordCache(client.channel, reader.listing).start()
    try:
        deadline = time.monotonic() + 10
        while not cache.live() and time.monotonic() < deadline:
            time.sleep(0.05)
        listed = reader.records(e.uscc, ["AMR_PENALTY"], raw=False)
        assert [r.item_code for r in listed] == ["AMR_PENALTY"]
        assert reader.held_records(e.uscc, ["AMR_PENALTY"]) == listed
    finally:
        cache.stopping()
        cache.close()
