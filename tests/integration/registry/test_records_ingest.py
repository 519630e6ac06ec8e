"""Record ingestion over the API: per-record checks and reasons, idempotency, parking, versions, stream resume."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client import REGISTRY
from sqlalchemy.exc import OperationalError

from creditnode.common.v1 import error_reason_pb2 as er
from creditnode.registry.v1 import records_pb2 as rec_pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import sharing_list_pb2 as sl_pb
from creditnode.registry.v1 import sharing_list_pb2_grpc as sl_grpc
from services.kit.status import error_info
from services.registry.domain.sharing_list import CHINA_TZ
from services.registry.main import RegistrySettings, build
from services.registry.store.records import SqlRecords
from tests.conftest import free_port
from tests.integration.registry.records_support import (
    as_department,
    create_departments,
    ingestion,
    records,
    tax_record,
    tax_stream,
    wire_record,
    wire_value,
)
from tests.registry_helpers import RegistryClient, random_uscc, ts

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


def _batch(
    client: RegistryClient, recs: list[rec_pb.IngestRecord], request_id: str = "", md=TAX
) -> rec_pb.IngestBatchResponse:  # type: ignore[no-untyped-def]
    return ingestion(client.channel).IngestBatch(
        rec_pb.IngestBatchRequest(request_id=request_id, records=recs), metadata=md
    )


def test_every_kind_of_bad_record_gets_its_own_reason_and_the_rest_of_the_batch_is_stored(
    client: RegistryClient, platform: str
) -> None:
    e, _ = client.enterprise(platform)
    good = tax_record(e.uscc, 1)

    def variant(**kw: object) -> rec_pb.IngestRecord:
        r = wire_record({**good, "source_record_id": f"v-{len(kw)}-{sorted(kw)[0]}"})
        for k, v in kw.items():
            if k == "fields":
                r.ClearField("fields")
                for name, value in v.items():  # type: ignore[attr-defined]
                    r.fields[name].CopyFrom(value)
            elif k == "event_time":
                r.event_time.CopyFrom(ts(v))  # type: ignore[arg-type]
            else:
                setattr(r, k, v)
        return r

    period = good["fields"]["period"]
    fields = {k: wire_value(v) for k, v in good["fields"].items()}
    huge = {"period": wire_value("x" * 100_000), "tax_paid_yuan": wire_value("1")}
    not_decimal = {"period": wire_value(period), "tax_paid_yuan": rec_pb.FieldValue(decimal_value="1e999")}
    cases = [
        (variant(item_code="NO_SUCH_ITEM"), er.ERROR_REASON_ITEM_NOT_IN_SHARING_LIST),
        (variant(item_code="REG_BASIC"), er.ERROR_REASON_DEPARTMENT_NOT_RESPONSIBLE),
        (variant(fields={**fields, "tax_paid_yuan": wire_value(True)}), er.ERROR_REASON_FIELD_WRONG_TYPE),
        (variant(fields={"period": wire_value(period)}), er.ERROR_REASON_FIELD_REQUIRED),
        (variant(fields=huge), er.ERROR_REASON_RECORD_TOO_LARGE),
        (variant(fields=not_decimal), er.ERROR_REASON_FIELD_MALFORMED),
        (variant(event_time=datetime.now(UTC) + timedelta(days=2)), er.ERROR_REASON_EVENT_TIME_IN_FUTURE),
        (variant(event_time=datetime(1899, 12, 31, tzinfo=UTC)), er.ERROR_REASON_FIELD_OUT_OF_RANGE),
        (variant(uscc="91610100ABCDEFGHIJ"), er.ERROR_REASON_INVALID_USCC),
        (variant(fields={**fields, "extra": wire_value("x")}), er.ERROR_REASON_FIELD_UNKNOWN),
        (variant(source_record_id="bad id!"), er.ERROR_REASON_SOURCE_REFERENCE_INVALID),
    ]
    recs = [wire_record(good)] + [c[0] for c in cases] + [wire_record(good)]
    for i, r in enumerate(recs):
        r.sequence = i + 1
    resp = _batch(client, recs)
    outcomes = [r.outcome for r in resp.results]
    assert outcomes[0] == rec_pb.RECORD_OUTCOME_ACCEPTED
    assert outcomes[-1] == rec_pb.RECORD_OUTCOME_DUPLICATE  # the same key and content again
    for (_, reason), result in zip(cases, resp.results[1:-1], strict=True):
        assert result.outcome == rec_pb.RECORD_OUTCOME_REJECTED
        assert result.reason == reason, result
        assert "x" * 20 not in result.message  # values never echoed
    assert resp.counts.accepted == 1
    assert resp.counts.duplicate == 1
    assert resp.counts.rejected == len(cases)


def test_an_item_code_postgresql_cannot_store_is_refused_alone_and_the_rest_is_stored(
    client: RegistryClient, platform: str
) -> None:
    # The refusal is kept for the delivery figures: a NUL in the code (SQLite stores it, PostgreSQL refuses it) must
    # not fail the chunk, or the department's good records are lost with it and a resend fails the same way.
    e, _ = client.enterprise(platform)
    nul = wire_record(tax_record(e.uscc, 51), 1)
    nul.item_code = "TAX_PAYMENT\x00"
    resp = _batch(client, [nul, wire_record(tax_record(e.uscc, 52), 2)])
    assert [r.outcome for r in resp.results] == [rec_pb.RECORD_OUTCOME_REJECTED, rec_pb.RECORD_OUTCOME_ACCEPTED]
    assert resp.results[0].reason == er.ERROR_REASON_ITEM_NOT_IN_SHARING_LIST
    assert resp.results[0].field == "item_code"
    figures = records(client.channel).GetTimeliness(rec_pb.GetTimelinessRequest(item_codes=["TAX_PAYMENT"]))
    assert [r.first_deliveries for r in figures.items] == [1]


def test_a_new_version_for_another_enterprise_is_refused_and_the_record_stays_as_it_was(
    client: RegistryClient, platform: str
) -> None:
    # Readers that hold an enterprise's records (the gateway's cache, scoring) follow changes by enterprise: a record
    # moving from one enterprise to another would leave the first one's copies stale, so a record stays put.
    first, _ = client.enterprise(platform)
    other, _ = client.enterprise(platform)
    v1 = _batch(client, [wire_record(tax_record(first.uscc, 31), 1)])
    moved = _batch(client, [wire_record(tax_record(other.uscc, 31, amount="5.00", source_version=2), 2)])
    assert moved.results[0].outcome == rec_pb.RECORD_OUTCOME_REJECTED
    assert moved.results[0].reason == er.ERROR_REASON_RECORD_ENTERPRISE_CHANGED
    assert moved.results[0].field == "uscc"
    got = records(client.channel).GetRecord(rec_pb.GetRecordRequest(name=v1.results[0].record, include_history=True))
    assert [v.fields["tax_paid_yuan"].decimal_value for v in got.versions] == ["1000.00"]
    assert got.record.uscc == first.uscc
    listed = records(client.channel).ListEnterpriseRecords(
        rec_pb.ListEnterpriseRecordsRequest(parent=f"enterprises/{other.uscc}")
    )
    assert list(listed.records) == []


def test_unknown_department_is_permission_denied(client: RegistryClient) -> None:
    with pytest.raises(grpc.RpcError) as err:
        _batch(client, [], md=as_department("nobody"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as err:
        ingestion(client.channel).GetStreamPosition(rec_pb.GetStreamPositionRequest(stream_id="s"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


def test_batch_retry_returns_first_results_and_a_correction_is_a_new_version(
    client: RegistryClient, platform: str
) -> None:
    e, _ = client.enterprise(platform)
    first = _batch(client, [wire_record(tax_record(e.uscc, 7), 1)], request_id="b-1")
    again = _batch(client, [wire_record(tax_record(e.uscc, 7), 1)], request_id="b-1")
    assert first == again
    assert first.results[0].outcome == rec_pb.RECORD_OUTCOME_ACCEPTED
    with pytest.raises(grpc.RpcError) as err:
        _batch(client, [wire_record(tax_record(e.uscc, 8), 1)], request_id="b-1")
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    conflict = _batch(client, [wire_record(tax_record(e.uscc, 7, amount="5.00"), 1)])
    assert conflict.results[0].reason == er.ERROR_REASON_IDEMPOTENCY_CONFLICT
    v2 = _batch(client, [wire_record(tax_record(e.uscc, 7, amount="5.00", source_version=2), 1)])
    assert v2.results[0].outcome == rec_pb.RECORD_OUTCOME_ACCEPTED
    stale = _batch(client, [wire_record(tax_record(e.uscc, 7, amount="6.00", source_version=1), 1)])
    assert stale.results[0].reason in (er.ERROR_REASON_IDEMPOTENCY_CONFLICT, er.ERROR_REASON_STALE_SOURCE_VERSION)

    got = records(client.channel).GetRecord(rec_pb.GetRecordRequest(name=v2.results[0].record, include_history=True))
    assert got.record.version == 2
    assert got.record.fields["tax_paid_yuan"].decimal_value == "5.00"
    assert [v.fields["tax_paid_yuan"].decimal_value for v in got.versions] == ["1000.00", "5.00"]
    assert got.versions[0].HasField("valid_to")
    assert not got.versions[1].HasField("valid_to")
    assert got.record.provenance.department == "departments/sx-tax"
    assert got.record.provenance.source_record_id == "tax-7"

    # As of before the correction, the listing shows the first content.
    before = got.versions[1].valid_from.ToDatetime(tzinfo=UTC) - timedelta(microseconds=1)
    listing = records(client.channel).ListEnterpriseRecords(
        rec_pb.ListEnterpriseRecordsRequest(parent=f"enterprises/{e.uscc}", as_of=ts(before))
    )
    assert [r.fields["tax_paid_yuan"].decimal_value for r in listing.records] == ["1000.00"]


def test_a_correction_in_the_same_batch_as_the_record_supersedes_it(client: RegistryClient, platform: str) -> None:
    e, _ = client.enterprise(platform)
    resp = _batch(
        client,
        [
            wire_record(tax_record(e.uscc, 7, amount="1000.00", source_version=1), 1),
            wire_record(tax_record(e.uscc, 7, amount="5.00", source_version=2), 2),
            wire_record(tax_record(e.uscc, 7, amount="6.00", source_version=3), 3),
        ],
    )
    assert [r.outcome for r in resp.results] == [rec_pb.RECORD_OUTCOME_ACCEPTED] * 3
    got = records(client.channel).GetRecord(rec_pb.GetRecordRequest(name=resp.results[2].record, include_history=True))
    assert [v.HasField("valid_to") for v in got.versions] == [True, True, False]
    listing = records(client.channel).ListEnterpriseRecords(
        rec_pb.ListEnterpriseRecordsRequest(parent=f"enterprises/{e.uscc}")
    )
    assert [(r.version, r.fields["tax_paid_yuan"].decimal_value) for r in listing.records] == [(3, "6.00")]


def test_a_category_selects_records_by_the_list_version_they_were_validated_under(
    client: RegistryClient, platform: str
) -> None:
    e, _ = client.enterprise(platform)
    listing = rec_pb.ListEnterpriseRecordsRequest(parent=f"enterprises/{e.uscc}")
    start = records(client.channel).ListEnterpriseRecords(listing).revision
    r1 = _batch(client, [wire_record(tax_record(e.uscc, 1), 1)]).results[0]  # validated under version 1: TAX
    lists = sl_grpc.SharingListServiceStub(client.channel)
    text = lists.GetSharingList(sl_pb.GetSharingListRequest(include_yaml=True)).yaml_text
    at = text.index("code: TAX_PAYMENT")
    text = text[:at] + text[at:].replace("category: TAX", "category: FINANCE", 1)
    lists.PublishSharingList(
        sl_pb.PublishSharingListRequest(
            yaml_text=text.replace("version: 1\n", "version: 2\n", 1),
            change=admin_pb.Change(actor="operator", reason="TAX_PAYMENT moves to FINANCE"),
        )
    )
    r2 = _batch(client, [wire_record(tax_record(e.uscc, 2), 1)]).results[0]  # validated under version 2: FINANCE
    assert r1.outcome == r2.outcome == rec_pb.RECORD_OUTCOME_ACCEPTED

    def listed(category: int) -> list[tuple[str, int]]:
        request = rec_pb.ListEnterpriseRecordsRequest(parent=listing.parent, categories=[category])
        return sorted((r.name, r.category) for r in records(client.channel).ListEnterpriseRecords(request).records)

    assert listed(sl_pb.ITEM_CATEGORY_TAX) == [(r1.record, sl_pb.ITEM_CATEGORY_TAX)]
    assert listed(sl_pb.ITEM_CATEGORY_FINANCE) == [(r2.record, sl_pb.ITEM_CATEGORY_FINANCE)]
    end = records(client.channel).ListEnterpriseRecords(listing).revision
    watch = records(client.channel).WatchRecordChanges(
        rec_pb.WatchRecordChangesRequest(start_revision=start, categories=[sl_pb.ITEM_CATEGORY_FINANCE]), timeout=20
    )
    watched: list[str] = []
    for message in watch:
        watched += [c.record.name for c in message.changes]
        if message.revision >= end:
            watch.cancel()
            break
    assert watched == [r2.record]


def test_a_record_pushed_on_an_open_stream_is_stored_as_it_arrives(client: RegistryClient, platform: str) -> None:
    # A department pushing records as they happen keeps its stream open: each record is stored when it arrives,
    # not once a chunk fills or the stream ends.
    e, _ = client.enterprise(platform)
    listing = rec_pb.ListEnterpriseRecordsRequest(parent=f"enterprises/{e.uscc}")
    seen_while_open: list[bool] = []

    def pushed() -> Iterator[rec_pb.StreamRecordsRequest]:
        yield rec_pb.StreamRecordsRequest(stream_id="live", records=[wire_record(tax_record(e.uscc, 1), 1)])
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not records(client.channel).ListEnterpriseRecords(listing).records:
            time.sleep(0.05)
        seen_while_open.append(bool(records(client.channel).ListEnterpriseRecords(listing).records))
        yield rec_pb.StreamRecordsRequest(records=[wire_record(tax_record(e.uscc, 2), 2)])

    done = ingestion(client.channel).StreamRecords(pushed(), metadata=TAX, timeout=60)
    assert seen_while_open == [True]
    assert (done.last_acknowledged_sequence, done.counts.accepted) == (2, 2)
    received = {
        r.provenance.source_record_id: r.provenance.receive_time.ToDatetime(tzinfo=UTC)
        for r in records(client.channel).ListEnterpriseRecords(listing).records
    }
    assert received["tax-1"] < received["tax-2"]  # each stamped when it arrived


def test_a_record_is_found_only_by_its_one_name(client: RegistryClient, platform: str) -> None:
    # Objections key their disputes by the record's name: another spelling of it must not find the same record.
    e, _ = client.enterprise(platform)
    other, _ = client.enterprise(platform)
    name = _batch(client, [wire_record(tax_record(e.uscc, 1), 1)]).results[0].record
    record_id = name.rsplit("/", 1)[1]
    assert records(client.channel).GetRecord(rec_pb.GetRecordRequest(name=name)).record.name == name
    for alias, code in (
        (f"enterprises/{other.uscc}/records/{record_id}", grpc.StatusCode.NOT_FOUND),
        (f"{name}0", grpc.StatusCode.INVALID_ARGUMENT),  # was cut back to the first 32 characters
        (name.upper(), grpc.StatusCode.INVALID_ARGUMENT),
    ):
        with pytest.raises(grpc.RpcError) as err:
            records(client.channel).GetRecord(rec_pb.GetRecordRequest(name=alias))
        assert err.value.code() == code, alias
    with pytest.raises(grpc.RpcError) as err:
        records(client.channel).SetRecordDispute(
            rec_pb.SetRecordDisputeRequest(
                name=f"enterprises/{other.uscc}/records/{record_id}", objection="objections/o-1"
            )
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_records_for_an_unregistered_enterprise_are_parked_then_applied_on_registration(
    client: RegistryClient, platform: str
) -> None:
    uscc = random_uscc()
    resp = _batch(client, [wire_record(tax_record(uscc, 1), 1), wire_record(tax_record(uscc, 2), 2)])
    assert [r.outcome for r in resp.results] == [rec_pb.RECORD_OUTCOME_PARKED] * 2
    listing = records(client.channel).ListEnterpriseRecords(
        rec_pb.ListEnterpriseRecordsRequest(parent=f"enterprises/{uscc}")
    )
    assert list(listing.records) == []

    watch = records(client.channel).WatchRecordChanges(
        rec_pb.WatchRecordChangesRequest(start_revision=listing.revision), timeout=20
    )
    client.enterprise(platform, uscc=uscc)
    created = []
    for msg in watch:
        created += [c for c in msg.changes if c.type == rec_pb.RECORD_CHANGE_TYPE_CREATED]
        if len(created) >= 2:
            watch.cancel()
            break
    assert {c.record.uscc for c in created} == {uscc}
    listing = records(client.channel).ListEnterpriseRecords(
        rec_pb.ListEnterpriseRecordsRequest(parent=f"enterprises/{uscc}")
    )
    assert len(listing.records) == 2


def test_an_as_of_read_never_finds_a_record_while_it_was_parked(client: RegistryClient, platform: str) -> None:
    uscc = random_uscc()
    parked = _batch(client, [wire_record(tax_record(uscc, 1), 1)])
    corrected = _batch(client, [wire_record(tax_record(uscc, 1, amount="5.00", source_version=2), 1)])
    assert [parked.results[0].outcome, corrected.results[0].outcome] == [rec_pb.RECORD_OUTCOME_PARKED] * 2
    e, _ = client.enterprise(platform, uscc=uscc)
    registered = e.create_time.ToDatetime(tzinfo=UTC)

    def as_of(at: datetime) -> list[tuple[int, str]]:
        request = rec_pb.ListEnterpriseRecordsRequest(parent=f"enterprises/{uscc}", as_of=ts(at))
        return [
            (r.version, r.fields["tax_paid_yuan"].decimal_value)
            for r in records(client.channel).ListEnterpriseRecords(request).records
        ]

    assert as_of(registered - timedelta(milliseconds=50)) == []  # parked then: not served
    assert as_of(datetime.now(UTC)) == [(2, "5.00")]
    history = (
        records(client.channel)
        .GetRecord(rec_pb.GetRecordRequest(name=corrected.results[0].record, include_history=True))
        .versions
    )
    assert history[0].valid_from == history[0].valid_to  # replaced while parked: never in force


def test_stream_acknowledges_and_skips_what_was_committed(client: RegistryClient, platform: str) -> None:
    usccs = [client.enterprise(platform)[0].uscc for _ in range(3)]
    stub = ingestion(client.channel)

    def send(start: int, stop: int) -> rec_pb.StreamRecordsResponse:
        def messages() -> Iterator[rec_pb.StreamRecordsRequest]:
            batch = list(tax_stream(usccs, start, stop))
            for i in range(0, len(batch), 300):
                yield rec_pb.StreamRecordsRequest(stream_id="tax-main", records=batch[i : i + 300])

        return stub.StreamRecords(messages(), metadata=TAX)

    first = send(1, 2501)
    assert first.last_acknowledged_sequence == 2500
    assert first.counts.accepted == 2500
    again = send(1001, 3001)  # overlaps: 1001..2500 are skipped as already done
    assert again.last_acknowledged_sequence == 3000
    assert again.counts.accepted == 500
    assert again.counts.duplicate == 0
    pos = stub.GetStreamPosition(rec_pb.GetStreamPositionRequest(stream_id="tax-main"), metadata=TAX)
    assert pos.last_acknowledged_sequence == 3000
    backwards = [wire_record(tax_record(usccs[0], 9), 9), wire_record(tax_record(usccs[0], 8), 8)]
    with pytest.raises(grpc.RpcError) as err:
        stub.StreamRecords(iter([rec_pb.StreamRecordsRequest(stream_id="x", records=backwards)]), metadata=TAX)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_disputes_corrections_and_anti_reinsertion(client: RegistryClient, platform: str) -> None:
    e, _ = client.enterprise(platform)
    name = _batch(client, [wire_record(tax_record(e.uscc, 1), 1)]).results[0].record
    stub = records(client.channel)
    flagged = stub.SetRecordDispute(rec_pb.SetRecordDisputeRequest(name=name, objection="objections/o1"))
    assert [d.objection for d in flagged.record.disputes] == ["objections/o1"]
    stub.SetRecordDispute(rec_pb.SetRecordDisputeRequest(name=name, objection="objections/o1"))  # idempotent
    period = tax_record(e.uscc, 1)["fields"]["period"]
    cleared = stub.ClearRecordDispute(
        rec_pb.ClearRecordDisputeRequest(
            name=name,
            objection="objections/o1",
            outcome=rec_pb.DISPUTE_OUTCOME_CORRECTED,
            corrected_fields={"period": wire_value(period), "tax_paid_yuan": rec_pb.FieldValue(decimal_value="1.00")},
        )
    )
    assert list(cleared.record.disputes) == []
    assert cleared.record.version == 2
    assert cleared.record.provenance.kind == rec_pb.PROVENANCE_KIND_OBJECTION_CORRECTION
    back = _batch(client, [wire_record({**tax_record(e.uscc, 1), "source_record_id": "resent"}, 1)])
    assert back.results[0].reason == er.ERROR_REASON_RECORD_REINSERTED
    with pytest.raises(grpc.RpcError) as err:
        stub.ClearRecordDispute(
            rec_pb.ClearRecordDisputeRequest(
                name=name, objection="objections/none", outcome=rec_pb.DISPUTE_OUTCOME_UPHELD
            )
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("stored", "resent"),
    [("\u91d1\u6b20\u7a0e", "\uf90a\u6b20\u7a0e"), ("caf\u00e9", "cafe\u0301")],
    ids=["cjk-compatibility-ideograph", "decomposed-accent"],
)
def test_removed_content_re_encoded_in_another_unicode_form_is_still_refused(
    client: RegistryClient, platform: str, stored: str, resent: str
) -> None:
    # The two texts are one text (canonical equivalence): a department whose export re-encodes it must not bring
    # back what an objection removed.
    e, _ = client.enterprise(platform)
    arrears = {
        "item_code": "TAX_ARREARS",
        "source_record_id": "arrears-1",
        "uscc": e.uscc,
        "event_time": datetime.now(UTC) - timedelta(days=1),
        "fields": {"tax_type": stored, "amount_yuan": Decimal("10.00"), "announced_on": date(2026, 1, 5),
                   "cleared": False},
    }  # fmt: skip
    first = _batch(client, [wire_record(arrears, 1)]).results[0]
    same_key = _batch(client, [wire_record({**arrears, "fields": {**arrears["fields"], "tax_type": resent}}, 1)])
    assert same_key.results[0].outcome == rec_pb.RECORD_OUTCOME_DUPLICATE
    stub = records(client.channel)
    stub.SetRecordDispute(rec_pb.SetRecordDisputeRequest(name=first.record, objection="objections/o1"))
    stub.ClearRecordDispute(
        rec_pb.ClearRecordDisputeRequest(
            name=first.record, objection="objections/o1", outcome=rec_pb.DISPUTE_OUTCOME_REMOVED
        )
    )
    again = {**arrears, "source_record_id": "arrears-2", "fields": {**arrears["fields"], "tax_type": resent}}
    back = _batch(client, [wire_record(again, 1)])
    assert back.results[0].outcome == rec_pb.RECORD_OUTCOME_REJECTED
    assert back.results[0].reason == er.ERROR_REASON_RECORD_REINSERTED


def test_a_correction_the_department_already_delivered_bars_the_disputed_version(
    client: RegistryClient, platform: str
) -> None:
    e, _ = client.enterprise(platform)
    name = _batch(client, [wire_record(tax_record(e.uscc, 1), 1)]).results[0].record
    stub = records(client.channel)
    stub.SetRecordDispute(rec_pb.SetRecordDisputeRequest(name=name, objection="objections/o2"))
    clear = rec_pb.ClearRecordDisputeRequest(
        name=name, objection="objections/o2", outcome=rec_pb.DISPUTE_OUTCOME_CORRECTED, disputed_version=1
    )
    with pytest.raises(grpc.RpcError) as err:  # nothing newer than the disputed version has arrived yet
        stub.ClearRecordDispute(clear)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    _batch(client, [wire_record(tax_record(e.uscc, 1, amount="1.00", source_version=2), 1)])  # the correction
    cleared = stub.ClearRecordDispute(clear)
    assert list(cleared.record.disputes) == []
    assert cleared.record.version == 2  # the department's version stays current: no extra version
    back = _batch(client, [wire_record({**tax_record(e.uscc, 1), "source_record_id": "resent"}, 1)])
    assert back.results[0].reason == er.ERROR_REASON_RECORD_REINSERTED  # the disputed content cannot come back


def test_a_statement_is_shown_only_after_an_upheld_or_unverifiable_outcome(
    client: RegistryClient, platform: str
) -> None:
    e, _ = client.enterprise(platform)
    name = _batch(client, [wire_record(tax_record(e.uscc, 1), 1)]).results[0].record
    stub = records(client.channel)
    stub.SetRecordDispute(rec_pb.SetRecordDisputeRequest(name=name, objection="objections/o3"))
    attach = rec_pb.AttachRecordStatementRequest(name=name, objection="objections/o3", statement="税款已于次月补缴")
    with pytest.raises(grpc.RpcError) as err:  # still open: nothing was decided yet
        stub.AttachRecordStatement(attach)
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    stub.ClearRecordDispute(
        rec_pb.ClearRecordDisputeRequest(name=name, objection="objections/o3", outcome=rec_pb.DISPUTE_OUTCOME_UPHELD)
    )
    shown = stub.AttachRecordStatement(attach).record
    assert list(shown.statements) == ["税款已于次月补缴"]
    assert stub.AttachRecordStatement(attach).record.statements == shown.statements  # a retry changes nothing
    with pytest.raises(grpc.RpcError) as err:
        stub.AttachRecordStatement(
            rec_pb.AttachRecordStatementRequest(name=name, objection="objections/none", statement="x")
        )
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_timeliness_counts_deliveries_rejections_and_items_without_data(client: RegistryClient, platform: str) -> None:
    e, _ = client.enterprise(platform)
    late = tax_record(e.uscc, 1)  # last month's tax record, due the 20th of this month: on time or late by date
    bad = wire_record({**tax_record(e.uscc, 2), "fields": {"period": "2026-01"}}, 2)
    _batch(client, [wire_record(late, 1), bad, wire_record(late, 3)])
    resp = records(client.channel).GetTimeliness(rec_pb.GetTimelinessRequest(departments=["sx-tax"]))
    rows = {r.item_code: r for r in resp.items}
    tax = rows["TAX_PAYMENT"]
    assert tax.first_deliveries == 1
    assert tax.on_time + tax.late == 1
    assert tax.rejected == 1
    assert tax.schema_rejected == 1
    assert tax.duplicates == 1
    assert tax.rejections_by_reason[0].reason == er.ERROR_REASON_FIELD_REQUIRED
    assert not tax.no_data
    assert tax.HasField("last_receive_time")
    others = [r for code, r in rows.items() if code != "TAX_PAYMENT"]
    assert others
    assert all(r.no_data for r in others)


def test_a_sharing_list_version_whose_first_day_is_ahead_is_not_published(client: RegistryClient) -> None:
    stub = sl_grpc.SharingListServiceStub(client.channel)
    text = stub.GetSharingList(sl_pb.GetSharingListRequest(include_yaml=True)).yaml_text
    tomorrow = (datetime.now(UTC).astimezone(CHINA_TZ).date() + timedelta(days=1)).isoformat()  # in Xi'an
    ahead = re.sub(r"^effective_from: .*$", f"effective_from: {tomorrow}", text, count=1, flags=re.M)
    ahead = ahead.replace("version: 1\n", "version: 2\n", 1)
    change = admin_pb.Change(actor="operator-test", reason="next year's list")
    for validate_only in (True, False):
        with pytest.raises(grpc.RpcError) as caught:
            stub.PublishSharingList(
                sl_pb.PublishSharingListRequest(yaml_text=ahead, change=change, validate_only=validate_only)
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        info = error_info(caught.value)
        assert info is not None
        assert (info.reason, info.metadata["path"]) == ("ERROR_REASON_SHARING_LIST_INVALID", "effective_from")
    assert stub.GetSharingList(sl_pb.GetSharingListRequest()).version.version == 1


def test_sharing_list_is_published_at_start_and_versions_keep_history(client: RegistryClient) -> None:
    from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
    from creditnode.registry.v1 import sharing_list_pb2 as sl_pb
    from creditnode.registry.v1 import sharing_list_pb2_grpc as sl_grpc

    stub = sl_grpc.SharingListServiceStub(client.channel)
    v1 = stub.GetSharingList(sl_pb.GetSharingListRequest(include_yaml=True))
    assert v1.version.version == 1
    assert len(v1.sharing_list.items) >= 30
    assert len({i.department for i in v1.sharing_list.items}) >= 12
    text = v1.yaml_text.replace("version: 1\n", "version: 2\n", 1).replace(
        "纳税情况信息（按月）", "纳税情况信息（月度）"
    )
    change = admin_pb.Change(actor="operator-test", reason="rename an item")
    checked = stub.PublishSharingList(
        sl_pb.PublishSharingListRequest(yaml_text=text, change=change, validate_only=True)
    )
    assert checked.diff.changes
    assert stub.GetSharingList(sl_pb.GetSharingListRequest()).version.version == 1
    published = stub.PublishSharingList(sl_pb.PublishSharingListRequest(yaml_text=text, change=change))
    assert published.version.version == 2
    assert published.version.note == "rename an item"
    history = stub.ListSharingListVersions(sl_pb.ListSharingListVersionsRequest())
    assert [v.version for v in history.versions] == [2, 1]
    assert history.versions[1].HasField("supersede_time")
    assert history.versions[1].HasField("accept_records_until")
    diff = stub.DiffSharingListVersions(sl_pb.DiffSharingListVersionsRequest(from_version=1))
    assert any(c.path.startswith("items.TAX_PAYMENT") for c in diff.diff.changes)
    structured = stub.PublishSharingList(
        sl_pb.PublishSharingListRequest(content=published_content(stub, 3), change=change, validate_only=True)
    )
    assert structured.version.version == 3
    assert not structured.diff.breaking
    with pytest.raises(grpc.RpcError) as err:
        stub.PublishSharingList(sl_pb.PublishSharingListRequest(yaml_text=text, change=change))
    assert err.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def published_content(stub: object, version: int) -> object:
    from creditnode.registry.v1 import sharing_list_pb2 as sl_pb

    current = stub.GetSharingList(sl_pb.GetSharingListRequest()).sharing_list  # type: ignore[attr-defined]
    current.version = version
    return current


def test_delivery_metrics_count_a_chunk_once_when_it_is_sent_again_after_failing(
    client: RegistryClient, platform: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    e, _ = client.enterprise(platform)

    def lag_observations() -> float:
        return REGISTRY.get_sample_value("creditnode_ingest_lag_seconds_count", {"department": "sx-tax"}) or 0.0

    before = lag_observations()
    real_write = SqlRecords.write

    def failing_write(self: SqlRecords, writes: object) -> None:
        raise OperationalError("INSERT INTO record_versions", {}, Exception("disk I/O error"))

    monkeypatch.setattr(SqlRecords, "write", failing_write)
    with pytest.raises(grpc.RpcError) as err:
        _batch(client, [wire_record(tax_record(e.uscc, 41), 1)])
    assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    assert lag_observations() == before  # nothing was stored, so nothing was delivered
    monkeypatch.setattr(SqlRecords, "write", real_write)
    again = _batch(client, [wire_record(tax_record(e.uscc, 41), 1)])
    assert again.results[0].outcome == rec_pb.RECORD_OUTCOME_ACCEPTED
    assert lag_observations() == before + 1


def test_the_ingestion_port_serves_departments_ingestion_and_nothing_else(database_url: str, tmp_path: Path) -> None:
    # The data-sharing exchange reaches this port only: it must not reach participants, raw records or the admin API.
    ingest_addr = f"127.0.0.1:{free_port()}"
    settings = RegistrySettings(
        listen_addr="127.0.0.1:0",
        database_url=database_url,
        var_dir=tmp_path,
        ca_autocreate=True,
        ingest_listen_addr=ingest_addr,
    )
    server = build(settings, configure_logs=False)
    try:
        with grpc.insecure_channel(server.address) as main, grpc.insecure_channel(ingest_addr) as ingest:
            client = RegistryClient(main)
            create_departments(client)
            platform, _ = client.admitted_platform()
            e, _ = client.enterprise(platform.name)
            stored = ingestion(ingest).IngestBatch(
                rec_pb.IngestBatchRequest(records=[wire_record(tax_record(e.uscc, 51), 1)]), metadata=TAX
            )
            assert stored.results[0].outcome == rec_pb.RECORD_OUTCOME_ACCEPTED
            health = health_pb2_grpc.HealthStub(ingest).Check(health_pb2.HealthCheckRequest(), timeout=5)
            assert health.status == health_pb2.HealthCheckResponse.SERVING
            with pytest.raises(grpc.RpcError) as err:
                records(ingest).GetRecord(rec_pb.GetRecordRequest(name=stored.results[0].record), timeout=5)
            assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
            with pytest.raises(grpc.RpcError) as err:
                RegistryClient(ingest).enterprise(platform.name)
            assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        server.stop(0)


@pytest.mark.parametrize("where", ["openness", "category", "sharing_method", "field_type", "mask", "department_kind"])
def test_structured_content_with_an_undefined_enum_number_is_invalid_and_names_the_path(
    client: RegistryClient, where: str
) -> None:
    stub = sl_grpc.SharingListServiceStub(client.channel)
    content = published_content(stub, 2)
    item = content.items[0]  # type: ignore[attr-defined]
    personal = next(f for f in item.fields if f.personal)
    if where == "field_type":
        item.fields[0].type = 77
    elif where == "mask":
        personal.mask = 77
    elif where == "department_kind":
        content.departments[0].kind = 77  # type: ignore[attr-defined]
    else:
        setattr(item, where, 77)
    with pytest.raises(grpc.RpcError) as err:
        stub.PublishSharingList(
            sl_pb.PublishSharingListRequest(content=content, change=admin_pb.Change(actor="op", reason="r"))
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    info = error_info(err.value)
    assert info is not None
    assert info.reason == "ERROR_REASON_SHARING_LIST_INVALID"
    expected = {
        "field_type": f"items[{item.code}].fields.{item.fields[0].name}.type",
        "mask": f"items[{item.code}].fields.{personal.name}.mask",
        "department_kind": "departments[0].kind",
    }.get(where, f"items[{item.code}].{where}")
    assert info.metadata["path"] == expected
    assert stub.GetSharingList(sl_pb.GetSharingListRequest()).version.version == 1


def test_structured_content_with_a_mask_on_a_field_not_marked_personal_is_invalid(client: RegistryClient) -> None:
    # The operator asked for the field to be masked: publishing it as plain data would serve it unmasked.
    stub = sl_grpc.SharingListServiceStub(client.channel)
    content = published_content(stub, 2)
    item = content.items[0]  # type: ignore[attr-defined]
    field = next(f for f in item.fields if f.personal)
    field.personal = False
    assert field.mask != sl_pb.MASK_KIND_UNSPECIFIED
    with pytest.raises(grpc.RpcError) as err:
        stub.PublishSharingList(
            sl_pb.PublishSharingListRequest(content=content, change=admin_pb.Change(actor="op", reason="r"))
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    info = error_info(err.value)
    assert info is not None
    assert info.reason == "ERROR_REASON_SHARING_LIST_INVALID"
    assert info.metadata["path"] == f"items[{item.code}].fields.{field.name}.mask"
    assert stub.GetSharingList(sl_pb.GetSharingListRequest()).version.version == 1


def test_a_stream_id_sent_again_on_later_messages_with_surrounding_spaces_is_the_same_stream(
    client: RegistryClient, platform: str
) -> None:
    # The first message's stream_id is trimmed; the same id repeated on later messages must compare as trimmed too.
    e, _ = client.enterprise(platform)
    recs = [wire_record(tax_record(e.uscc, n), n) for n in (1, 2)]
    messages = [rec_pb.StreamRecordsRequest(stream_id="tax-spaced ", records=[r]) for r in recs]
    done = ingestion(client.channel).StreamRecords(iter(messages), metadata=TAX, timeout=60)
    assert (done.last_acknowledged_sequence, done.counts.accepted) == (2, 2)
    pos = ingestion(client.channel).GetStreamPosition(
        rec_pb.GetStreamPositionRequest(stream_id="tax-spaced"), metadata=TAX
    )
    assert pos.last_acknowledged_sequence == 2
