"""Per-record ingestion rules, and the demo generator's records passing them."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.kit.errors import InvalidArgument
from services.kit.workdays import WorkCalendar
from services.registry.domain.records import (
    IdempotencyKey,
    IncomingRecord,
    Outcome,
    RecordRejected,
    StoredSource,
    ValidatedRecord,
    canonical_text,
    check_not_reinserted,
    classify_replay,
    validate_record,
)
from services.registry.domain.sharing_list import (
    CHINA_TZ,
    SharingList,
    SharingListCatalogue,
    load_sharing_list,
    sharing_list_from_mapping,
)
from services.registry.domain.uscc import make_uscc, validate_uscc
from tools.demo_records import DEFAULT_AS_OF, generate

USCC = make_uscc("9", "1", "610113", "MA6TG8XL")
OTHER_USCC = make_uscc("9", "1", "610113", "MA6TG8XM")
RECEIVED = datetime(2026, 4, 12, 9, 0, tzinfo=CHINA_TZ)
PUBLISHED = datetime(2026, 1, 1, tzinfo=CHINA_TZ)
CALENDAR = WorkCalendar.load()


@pytest.fixture(scope="module")
def node_list() -> SharingList:
    return load_sharing_list()


@pytest.fixture
def catalogue(node_list: SharingList) -> SharingListCatalogue:
    catalogue = SharingListCatalogue()
    catalogue.publish(node_list, at=PUBLISHED, by="ops", note="first list")
    return catalogue


def tax_payment(**changes: Any) -> IncomingRecord:
    record = IncomingRecord(
        department="sx-tax",
        item_code="TAX_PAYMENT",
        source_record_id="sx-tax.2026-03.000123",
        source_version=1,
        uscc=USCC,
        event_time=datetime(2026, 3, 31, 23, 0, tzinfo=CHINA_TZ),
        fields={"period": "2026-03", "tax_paid_yuan": Decimal("48211.37")},
    )
    return replace(record, **changes)


def registration(**fields: object) -> IncomingRecord:
    values: dict[str, object] = {
        "enterprise_name": "陕西秦川机械制造有限公司",
        "established_on": date(2015, 6, 1),
        "registered_capital_yuan": Decimal(5_000_000),
        "industry_code": "C3484",
        "enterprise_type": "有限责任公司(自然人投资或控股)",
        "status": "ACTIVE",
        "region_code": "610113",
        "legal_representative": "张三丰",
        "legal_rep_id_number": "61010319850312123X",
    }
    values.update(fields)
    return IncomingRecord(
        department="sx-amr",
        item_code="REG_BASIC",
        source_record_id="amr-001",
        source_version=1,
        uscc=USCC,
        event_time=datetime(2026, 4, 11, 10, 0, tzinfo=CHINA_TZ),
        fields=values,
    )


def check(record: IncomingRecord, catalogue: SharingListCatalogue, at: datetime = RECEIVED) -> ValidatedRecord:
    return validate_record(record, catalogue, received_at=at, validate_uscc=validate_uscc, calendar=CALENDAR)


def rejection(record: IncomingRecord, catalogue: SharingListCatalogue, at: datetime = RECEIVED) -> RecordRejected:
    with pytest.raises(RecordRejected) as caught:
        check(record, catalogue, at)
    return caught.value


# ------------------------------------------------------------------------------------------------ acceptance


def test_a_well_formed_record_is_accepted_with_its_version_key_and_timeliness(catalogue: SharingListCatalogue) -> None:
    valid = check(tax_payment(), catalogue)
    assert valid.list_version == 1
    assert valid.key == IdempotencyKey("sx-tax", "TAX_PAYMENT", "sx-tax.2026-03.000123", 1)
    assert valid.timeliness.on_time
    assert valid.timeliness.due_before == datetime(2026, 4, 21, tzinfo=CHINA_TZ)
    assert valid.counts_for_timeliness


def test_wire_text_for_decimals_and_dates_is_normalized(catalogue: SharingListCatalogue) -> None:
    record = registration(registered_capital_yuan="5000000.00", established_on="2015-06-01")
    valid = check(record, catalogue)
    assert valid.fields["registered_capital_yuan"] == Decimal(5_000_000)
    assert valid.fields["established_on"] == date(2015, 6, 1)
    assert valid.fingerprint == check(registration(), catalogue).fingerprint


def test_trailing_zeros_beyond_the_scale_are_the_same_amount(catalogue: SharingListCatalogue) -> None:
    padded = check(tax_payment(fields={"period": "2026-03", "tax_paid_yuan": "10.5000"}), catalogue)
    plain = check(tax_payment(fields={"period": "2026-03", "tax_paid_yuan": Decimal("10.5")}), catalogue)
    assert padded.fingerprint == plain.fingerprint


def test_an_absent_optional_field_and_a_none_value_are_the_same(catalogue: SharingListCatalogue) -> None:
    with_none = check(registration(contact_phone=None), catalogue)
    assert "contact_phone" not in with_none.fields
    assert with_none.fingerprint == check(registration(), catalogue).fingerprint


def test_the_uscc_is_kept_in_its_normalized_form(catalogue: SharingListCatalogue) -> None:
    assert check(tax_payment(uscc=f" {USCC.lower()} "), catalogue).uscc == USCC


# ------------------------------------------------------------------------------------------------ who may send what


def test_an_item_not_on_the_list_is_rejected(catalogue: SharingListCatalogue) -> None:
    rejected = rejection(tax_payment(item_code="TAX_WEATHER"), catalogue)
    assert rejected.reason == "ERROR_REASON_ITEM_NOT_IN_SHARING_LIST"


def test_only_the_responsible_department_may_send_an_item(catalogue: SharingListCatalogue) -> None:
    # The content is wrong too, but responsibility is decided before any content is looked at.
    rejected = rejection(tax_payment(department="sx-power", fields={"bogus": 1}), catalogue)
    assert rejected.reason == "ERROR_REASON_DEPARTMENT_NOT_RESPONSIBLE"
    assert rejected.kind == "PERMISSION_DENIED"


def test_a_malformed_uscc_is_rejected_without_echoing_it(catalogue: SharingListCatalogue) -> None:
    bad = USCC[:-1] + ("0" if USCC[-1] != "0" else "1")
    rejected = rejection(tax_payment(uscc=bad), catalogue)
    assert rejected.reason == "ERROR_REASON_INVALID_USCC"
    assert rejected.field == "uscc"
    assert bad not in rejected.message


def test_any_uscc_checker_can_be_plugged_in(catalogue: SharingListCatalogue) -> None:
    @dataclass(frozen=True)
    class Checked:
        code: str

    def strict(code: str) -> Checked:
        raise InvalidArgument("ERROR_REASON_INVALID_USCC", "invalid unified social credit code: test")

    with pytest.raises(RecordRejected, match="test"):
        validate_record(tax_payment(), catalogue, received_at=RECEIVED, validate_uscc=strict, calendar=CALENDAR)
    accepted = validate_record(tax_payment(), catalogue, received_at=RECEIVED, validate_uscc=Checked, calendar=CALENDAR)
    assert accepted.uscc == USCC


@pytest.mark.parametrize(
    "change",
    [{"source_record_id": ""}, {"source_record_id": "has space"}, {"source_record_id": "x" * 129},
     {"source_version": 0}, {"source_version": True}],
)  # fmt: skip
def test_a_bad_source_reference_is_rejected(catalogue: SharingListCatalogue, change: dict[str, Any]) -> None:
    assert rejection(tax_payment(**change), catalogue).reason == "ERROR_REASON_SOURCE_REFERENCE_INVALID"


# ------------------------------------------------------------------------------------------------ schema


@pytest.mark.parametrize(
    ("fields", "reason", "field"),
    [
        ({"period": "2026-03"}, "ERROR_REASON_FIELD_REQUIRED", "tax_paid_yuan"),
        ({"period": "2026-03", "tax_paid_yuan": 1, "taxpaid": 1}, "ERROR_REASON_FIELD_UNKNOWN", "taxpaid"),
        ({"period": 202603, "tax_paid_yuan": 1}, "ERROR_REASON_FIELD_WRONG_TYPE", "period"),
        ({"period": "2026-03", "tax_paid_yuan": 1.5}, "ERROR_REASON_FIELD_WRONG_TYPE", "tax_paid_yuan"),
        ({"period": "2026-03", "tax_paid_yuan": True}, "ERROR_REASON_FIELD_WRONG_TYPE", "tax_paid_yuan"),
        ({"period": "2026-3", "tax_paid_yuan": 1}, "ERROR_REASON_FIELD_MALFORMED", "period"),
        ({"period": "2026-03-01", "tax_paid_yuan": 1}, "ERROR_REASON_FIELD_TOO_LONG", "period"),
        ({"period": "2026-03", "tax_paid_yuan": "1e5"}, "ERROR_REASON_FIELD_MALFORMED", "tax_paid_yuan"),
        ({"period": "2026-03", "tax_paid_yuan": "NaN"}, "ERROR_REASON_FIELD_MALFORMED", "tax_paid_yuan"),
        ({"period": "2026-03", "tax_paid_yuan": Decimal("NaN")}, "ERROR_REASON_FIELD_MALFORMED", "tax_paid_yuan"),
        ({"period": "2026-03", "tax_paid_yuan": "-1"}, "ERROR_REASON_FIELD_OUT_OF_RANGE", "tax_paid_yuan"),
        ({"period": "2026-03", "tax_paid_yuan": 10**30}, "ERROR_REASON_FIELD_OUT_OF_RANGE", "tax_paid_yuan"),
        ({"period": "2026-03", "tax_paid_yuan": "0.001"}, "ERROR_REASON_FIELD_TOO_PRECISE", "tax_paid_yuan"),
    ],
)
def test_values_must_match_the_item_schema(
    catalogue: SharingListCatalogue, fields: dict[str, object], reason: str, field: str
) -> None:
    rejected = rejection(tax_payment(fields=fields), catalogue)
    assert (rejected.reason, rejected.field) == (reason, field)
    assert rejected.metadata == {"field": field}


@pytest.mark.parametrize(
    ("fields", "reason", "field"),
    [
        ({"status": "DORMANT"}, "ERROR_REASON_FIELD_NOT_IN_ENUM", "status"),
        ({"status": 1}, "ERROR_REASON_FIELD_WRONG_TYPE", "status"),
        ({"established_on": "2026-02-30"}, "ERROR_REASON_FIELD_MALFORMED", "established_on"),
        ({"established_on": datetime(2015, 6, 1, tzinfo=UTC)}, "ERROR_REASON_FIELD_WRONG_TYPE", "established_on"),
        ({"established_on": date(1066, 10, 14)}, "ERROR_REASON_FIELD_OUT_OF_RANGE", "established_on"),
        ({"industry_code": "Z99"}, "ERROR_REASON_FIELD_MALFORMED", "industry_code"),
        ({"region_code": "110101"}, "ERROR_REASON_FIELD_MALFORMED", "region_code"),
        ({"legal_representative": "张三\x00"}, "ERROR_REASON_FIELD_MALFORMED", "legal_representative"),
        ({"legal_representative": "张" * 51}, "ERROR_REASON_FIELD_TOO_LONG", "legal_representative"),
        ({"enterprise_name": "x" * 40_000}, "ERROR_REASON_RECORD_TOO_LARGE", ""),
    ],
)
def test_enum_date_pattern_and_size_rules(
    catalogue: SharingListCatalogue, fields: dict[str, object], reason: str, field: str
) -> None:
    rejected = rejection(registration(**fields), catalogue)
    assert (rejected.reason, rejected.field) == (reason, field)


def test_a_record_with_very_many_fields_is_too_large(catalogue: SharingListCatalogue) -> None:
    fields: dict[str, object] = {f"f{i}": i for i in range(100)}
    assert rejection(tax_payment(fields=fields), catalogue).reason == "ERROR_REASON_RECORD_TOO_LARGE"


# Built once: hypothesis runs the test body many times and function-scoped fixtures would not be reset between runs.
FIXED_CATALOGUE = SharingListCatalogue()
FIXED_CATALOGUE.publish(load_sharing_list(), at=PUBLISHED, by="ops", note="")


@settings(deadline=None)
@given(st.text(min_size=51, max_size=80).filter(lambda s: s.strip()))
def test_a_rejection_never_carries_the_value_it_refused(value: str) -> None:
    with pytest.raises(RecordRejected) as caught:
        check(registration(legal_representative=value), FIXED_CATALOGUE)
    assert value not in caught.value.message
    assert all(value not in v for v in caught.value.metadata.values())


# ------------------------------------------------------------------------------------------------ event time


def test_an_event_in_the_future_beyond_the_tolerance_is_rejected(catalogue: SharingListCatalogue) -> None:
    soon = registration()
    soon = replace(soon, event_time=RECEIVED + timedelta(minutes=4))
    assert check(soon, catalogue).event_time == soon.event_time
    later = replace(soon, event_time=RECEIVED + timedelta(minutes=6))
    assert rejection(later, catalogue).reason == "ERROR_REASON_EVENT_TIME_IN_FUTURE"


def test_an_event_before_1900_is_out_of_range(catalogue: SharingListCatalogue) -> None:
    # A mistyped year (0026 for 2026) would otherwise be stored as history and count as a very late delivery.
    mistyped = replace(registration(), event_time=datetime(26, 3, 1, tzinfo=UTC))
    refused = rejection(mistyped, catalogue)
    assert (refused.reason, refused.field) == ("ERROR_REASON_FIELD_OUT_OF_RANGE", "event_time")
    first = replace(registration(), event_time=datetime(1900, 1, 1, tzinfo=UTC))
    assert check(first, catalogue).event_time == first.event_time


def test_a_periodic_record_must_be_dated_inside_its_period(catalogue: SharingListCatalogue) -> None:
    # Dating March's figures in April would push the deadline a month later.
    shifted = tax_payment(event_time=datetime(2026, 4, 1, 0, 30, tzinfo=CHINA_TZ))
    assert rejection(shifted, catalogue).reason == "ERROR_REASON_EVENT_TIME_OUTSIDE_PERIOD"
    # 31 March 23:00 in Beijing is 15:00 UTC: the comparison is made in Beijing time.
    assert check(tax_payment(event_time=datetime(2026, 3, 31, 15, 0, tzinfo=UTC)), catalogue).timeliness.on_time


def test_naive_times_are_a_programming_error(catalogue: SharingListCatalogue) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        check(tax_payment(), catalogue, at=datetime(2026, 4, 12))


def test_a_delivery_after_the_deadline_is_late_by_the_overrun(catalogue: SharingListCatalogue) -> None:
    at = datetime(2026, 4, 23, 6, 0, tzinfo=CHINA_TZ)
    valid = check(tax_payment(), catalogue, at=at)
    assert not valid.timeliness.on_time
    assert valid.timeliness.late_by == timedelta(days=2, hours=6)


def test_a_delivery_on_the_first_working_day_after_a_deadline_in_a_holiday_is_on_time(
    catalogue: SharingListCatalogue,
) -> None:
    # January's tax figures are due on 20 February 2026, inside the Spring Festival rest (15-23 February): the
    # period ends with Tuesday 24 February, the first working day after it (Civil Code art. 203).
    january = tax_payment(event_time=datetime(2026, 1, 31, 23, 0, tzinfo=CHINA_TZ), fields={
        "period": "2026-01", "tax_paid_yuan": Decimal("48211.37")})  # fmt: skip
    valid = check(january, catalogue, at=datetime(2026, 2, 24, 17, 0, tzinfo=CHINA_TZ))
    assert valid.timeliness.on_time
    assert valid.timeliness.due_before == datetime(2026, 2, 25, tzinfo=CHINA_TZ)
    assert not check(january, catalogue, at=datetime(2026, 2, 25, 9, 0, tzinfo=CHINA_TZ)).timeliness.on_time


def test_only_first_deliveries_are_measured_for_timeliness(catalogue: SharingListCatalogue) -> None:
    assert not check(tax_payment(source_version=2), catalogue).counts_for_timeliness


# ------------------------------------------------------------------------------------------------ list versions


def with_required_note(version: int) -> SharingList:
    data = load_sharing_list().to_mapping()
    data["version"] = version
    data["effective_from"] = date(2026, 1, 2)  # in force when the tests publish it
    tax = next(item for item in data["items"] if item["code"] == "TAX_PAYMENT")
    tax["fields"].append({"name": "note", "label": "备注", "type": "string", "max_length": 50, "required": True})
    return sharing_list_from_mapping(data)


def test_records_keep_the_version_they_were_validated_under(catalogue: SharingListCatalogue) -> None:
    catalogue.publish(with_required_note(2), at=RECEIVED - timedelta(days=1), by="ops", note="notes required")
    under_v1 = check(tax_payment(list_version=1), catalogue)
    assert under_v1.list_version == 1
    rejected = rejection(tax_payment(), catalogue)
    assert (rejected.reason, rejected.field) == ("ERROR_REASON_FIELD_REQUIRED", "note")
    fields = {"period": "2026-03", "tax_paid_yuan": Decimal(1), "note": "ok"}
    assert check(tax_payment(fields=fields), catalogue).list_version == 2


def test_a_retired_or_unknown_version_is_rejected(catalogue: SharingListCatalogue) -> None:
    catalogue.publish(with_required_note(2), at=PUBLISHED + timedelta(days=1), by="ops", note="")
    after_grace = PUBLISHED + timedelta(days=1) + catalogue.grace
    late = tax_payment(list_version=1, event_time=after_grace - timedelta(days=10))
    assert rejection(late, catalogue, at=after_grace).reason == "ERROR_REASON_SHARING_LIST_VERSION_RETIRED"
    assert rejection(tax_payment(list_version=7), catalogue).reason == "ERROR_REASON_SHARING_LIST_VERSION_NOT_FOUND"


# ------------------------------------------------------------------------------------------------ replays


def test_the_idempotency_key_digest_is_unambiguous() -> None:
    one = IdempotencyKey("sx-tax", "TAX_PAYMENT", "a:b", 1)
    other = IdempotencyKey("sx-tax", "TAX_PAYMENT:a", "b", 1)
    assert one.digest != other.digest
    assert one.digest == IdempotencyKey("sx-tax", "TAX_PAYMENT", "a:b", 1).digest
    assert one.source_key == ("sx-tax", "TAX_PAYMENT", "a:b")


def test_replays_are_duplicates_and_conflicting_or_older_versions_are_refused(catalogue: SharingListCatalogue) -> None:
    first = check(tax_payment(), catalogue)
    assert classify_replay(first, None) is Outcome.ACCEPTED
    stored = StoredSource(latest_source_version=1, fingerprints_by_version={1: first.fingerprint}, uscc=first.uscc)
    assert classify_replay(first, stored) is Outcome.DUPLICATE

    changed = check(tax_payment(fields={"period": "2026-03", "tax_paid_yuan": Decimal(9)}), catalogue)
    with pytest.raises(RecordRejected) as conflict:
        classify_replay(changed, stored)
    assert conflict.value.reason == "ERROR_REASON_IDEMPOTENCY_CONFLICT"
    assert conflict.value.kind == "ALREADY_EXISTS"

    newer = check(tax_payment(source_version=2, fields=changed.fields), catalogue)
    assert classify_replay(newer, stored) is Outcome.ACCEPTED
    # Version 2 overtook version 1 on the way: the late version 1 must not roll it back.
    only_v2 = StoredSource(2, {2: newer.fingerprint}, first.uscc)
    with pytest.raises(RecordRejected) as stale:
        classify_replay(first, only_v2)
    assert stale.value.reason == "ERROR_REASON_STALE_SOURCE_VERSION"

    # A newer version about another enterprise: refused, so no enterprise's history (or cache) changes under it.
    moved = check(tax_payment(source_version=2, uscc=OTHER_USCC), catalogue)
    with pytest.raises(RecordRejected) as other:
        classify_replay(moved, stored)
    assert other.value.reason == "ERROR_REASON_RECORD_ENTERPRISE_CHANGED"
    assert other.value.field == "uscc"


def test_corrected_content_may_not_come_back_from_the_same_department(catalogue: SharingListCatalogue) -> None:
    corrected_away = check(tax_payment(), catalogue)
    superseded = {corrected_away.fingerprint}
    # Re-sent under a new source id, a new version and a new event time: still the same content.
    again = check(
        tax_payment(source_record_id="resend-1", source_version=3,
                    event_time=datetime(2026, 3, 30, 8, 0, tzinfo=CHINA_TZ)),
        catalogue,
    )  # fmt: skip
    with pytest.raises(RecordRejected) as caught:
        check_not_reinserted(again, superseded)
    assert caught.value.reason == "ERROR_REASON_RECORD_REINSERTED"
    fixed = check(tax_payment(fields={"period": "2026-03", "tax_paid_yuan": Decimal("48211.73")}), catalogue)
    check_not_reinserted(fixed, superseded)


def test_content_is_the_same_in_any_unicode_normal_form(catalogue: SharingListCatalogue) -> None:
    # U+F90A is a CJK compatibility ideograph of U+91D1: canonically the same character, as e + U+0301 is é.
    composed = check(registration(enterprise_name="陕西\u91d1秦机械有限公司", enterprise_type="café"), catalogue)
    resent_record = registration(enterprise_name="陕西\uf90a秦机械有限公司", enterprise_type="cafe\u0301")
    resent = check(replace(resent_record, source_record_id="amr-002"), catalogue)
    assert resent.fingerprint == composed.fingerprint
    assert resent.fields["enterprise_name"] == "陕西\uf90a秦机械有限公司"  # stored as the department sent it
    with pytest.raises(RecordRejected) as caught:
        check_not_reinserted(resent, {composed.fingerprint})
    assert caught.value.reason == "ERROR_REASON_RECORD_REINSERTED"
    stored = StoredSource(1, {1: composed.fingerprint}, composed.uscc)
    assert classify_replay(replace(resent, key=composed.key), stored) is Outcome.DUPLICATE


def test_content_stored_before_fingerprints_normalized_text_is_still_recognized(
    catalogue: SharingListCatalogue,
) -> None:
    # Versions stored earlier were fingerprinted over the text as sent: the same text sent again still matches.
    sent = check(registration(enterprise_name="陕西\uf90a秦机械有限公司"), catalogue)
    texts = sorted((k, v if isinstance(v, str) else canonical_text(v)) for k, v in sent.fields.items())
    reference = json.dumps(["sx-amr", "REG_BASIC", sent.uscc, texts], ensure_ascii=False, separators=(",", ":"))
    as_stored = hashlib.sha256(reference.encode()).hexdigest()
    assert as_stored != sent.fingerprint
    with pytest.raises(RecordRejected):
        check_not_reinserted(sent, {as_stored})
    assert classify_replay(sent, StoredSource(1, {1: as_stored}, sent.uscc)) is Outcome.DUPLICATE
    nfc = check(registration(enterprise_name="陕西\u91d1秦机械有限公司"), catalogue)
    assert nfc.as_sent_fingerprint is None


# ------------------------------------------------------------------------------------------------ demo records


DEMO_USCCS = [make_uscc("9", "1", region, f"MA{i:06d}") for i, region in enumerate(["610113", "610402"] * 30)]


@pytest.fixture(scope="module")
def demo() -> list[dict[str, Any]]:
    return list(generate(DEMO_USCCS, seed=7))


def to_incoming(record: Mapping[str, Any]) -> IncomingRecord:
    return IncomingRecord(**{k: v for k, v in record.items() if k != "received_at"})


def test_every_demo_record_passes_validation_and_every_item_appears(
    demo: list[dict[str, Any]], catalogue: SharingListCatalogue, node_list: SharingList
) -> None:
    outcomes: Counter[str] = Counter()
    for record in demo:
        valid = check(to_incoming(record), catalogue, at=record["received_at"])
        outcomes[valid.item_code] += 1
    assert set(outcomes) == {item.code for item in node_list.items}


def test_demo_deliveries_are_mostly_but_not_all_on_time(
    demo: list[dict[str, Any]], catalogue: SharingListCatalogue
) -> None:
    on_time = Counter(check(to_incoming(r), catalogue, at=r["received_at"]).timeliness.on_time for r in demo)
    share = on_time[True] / sum(on_time.values())
    assert 0.8 < share < 0.99


def test_demo_records_have_unique_keys_and_follow_ups_are_newer_versions(
    demo: list[dict[str, Any]], catalogue: SharingListCatalogue
) -> None:
    keys = Counter((r["department"], r["item_code"], r["source_record_id"], r["source_version"]) for r in demo)
    assert max(keys.values()) == 1
    stored: dict[tuple[str, str, str], StoredSource] = {}
    versions = Counter(r["source_version"] for r in demo)
    assert versions[2] > 0
    for record in sorted(demo, key=lambda r: r["received_at"]):
        valid = check(to_incoming(record), catalogue, at=record["received_at"])
        previous = stored.get(valid.key.source_key)
        assert classify_replay(valid, previous) is Outcome.ACCEPTED
        known = dict(previous.fingerprints_by_version) if previous else {}
        known[valid.source_version] = valid.fingerprint
        stored[valid.key.source_key] = StoredSource(max(known), known, valid.uscc)


def test_demo_generation_is_reproducible_and_seeded(demo: list[dict[str, Any]]) -> None:
    assert list(generate(DEMO_USCCS[:5], seed=7)) == [r for r in demo if r["uscc"] in set(DEMO_USCCS[:5])]
    assert list(generate(DEMO_USCCS[:5], seed=8)) != list(generate(DEMO_USCCS[:5], seed=7))


def test_demo_records_were_all_delivered_by_the_demo_clock(demo: list[dict[str, Any]]) -> None:
    assert all(r["event_time"] <= r["received_at"] <= DEFAULT_AS_OF for r in demo)


def test_demo_enterprises_differ_in_health(demo: list[dict[str, Any]]) -> None:
    troubled = {r["uscc"] for r in demo if r["item_code"] in {"COURT_DISHONEST_DEBTOR", "TAX_ARREARS", "SI_ARREARS"}}
    assert 0 < len(troubled) < len(DEMO_USCCS)
