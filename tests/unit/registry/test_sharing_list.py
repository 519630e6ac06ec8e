"""The sharing list: the node's own YAML, validation of bad lists, deadlines, versions and diffs."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import yaml

from services.kit.errors import FailedPrecondition, NotFound
from services.kit.masking import MaskKind
from services.kit.workdays import WorkCalendar, library_years
from services.registry.domain.sharing_list import (
    CHINA_TZ,
    DEFAULT_SHARING_LIST_PATH,
    LONGEST_REST_RUN_DAYS,
    ChangeKind,
    Deadline,
    DeadlineKind,
    FieldType,
    Openness,
    SharingList,
    SharingListCatalogue,
    SharingListInvalid,
    SharingMethod,
    diff_sharing_lists,
    load_sharing_list,
    parse_sharing_list,
    sharing_list_from_mapping,
)

CALENDAR = WorkCalendar.load()

# The items and fields other parts of the node (scoring, consent, the demo) rely on: code -> {field: type}.
CONTRACT: dict[str, dict[str, FieldType]] = {
    "REG_BASIC": {
        "established_on": FieldType.DATE,
        "registered_capital_yuan": FieldType.DECIMAL,
        "industry_code": FieldType.STRING,
        "enterprise_type": FieldType.STRING,
        "status": FieldType.ENUM,
        "legal_representative": FieldType.STRING,
        "legal_rep_id_number": FieldType.STRING,
        "contact_phone": FieldType.STRING,
    },
    "AMR_ABNORMAL_OPERATION": {"listed_on": FieldType.DATE, "reason": FieldType.STRING, "removed_on": FieldType.DATE},
    "TAX_CREDIT_GRADE": {"year": FieldType.INT, "grade": FieldType.ENUM},
    "TAX_PAYMENT": {"period": FieldType.STRING, "tax_paid_yuan": FieldType.DECIMAL},
    "TAX_INVOICE": {
        "period": FieldType.STRING,
        "invoices_issued_count": FieldType.INT,
        "sales_amount_yuan": FieldType.DECIMAL,
    },
    "TAX_ARREARS": {
        "tax_type": FieldType.STRING,
        "amount_yuan": FieldType.DECIMAL,
        "announced_on": FieldType.DATE,
        "cleared": FieldType.BOOL,
    },
    "TAX_FINANCIAL_STATEMENT": {
        "year": FieldType.INT,
        "revenue_yuan": FieldType.DECIMAL,
        "profit_yuan": FieldType.DECIMAL,
        "total_assets_yuan": FieldType.DECIMAL,
        "total_liabilities_yuan": FieldType.DECIMAL,
    },
    "SI_HEADCOUNT": {"period": FieldType.STRING, "insured_count": FieldType.INT},
    "SI_ARREARS": {"period": FieldType.STRING, "amount_yuan": FieldType.DECIMAL, "cleared": FieldType.BOOL},
    "HOUSING_FUND_PAYMENT": {
        "period": FieldType.STRING,
        "contributors_count": FieldType.INT,
        "amount_yuan": FieldType.DECIMAL,
    },
    "COURT_JUDGMENT": {
        "case_number": FieldType.STRING,
        "role": FieldType.ENUM,
        "cause": FieldType.STRING,
        "judged_on": FieldType.DATE,
        "amount_yuan": FieldType.DECIMAL,
    },
    "COURT_ENFORCEMENT": {
        "case_number": FieldType.STRING,
        "filed_on": FieldType.DATE,
        "amount_yuan": FieldType.DECIMAL,
        "status": FieldType.ENUM,
    },
    "COURT_DISHONEST_DEBTOR": {
        "case_number": FieldType.STRING,
        "listed_on": FieldType.DATE,
        "removed_on": FieldType.DATE,
    },
    "DISCIPLINE_MALICIOUS_EVASION": {
        "decision_number": FieldType.STRING,
        "established_on": FieldType.DATE,
        "authority": FieldType.STRING,
        "lifted_on": FieldType.DATE,
    },
    "HONOR_PATENT": {"patent_number": FieldType.STRING, "patent_type": FieldType.ENUM, "granted_on": FieldType.DATE},
    "CUSTOMS_TRADE": {"period": FieldType.STRING, "export_yuan": FieldType.DECIMAL, "import_yuan": FieldType.DECIMAL},
}
PENALTY_FIELDS = {
    "decision_number": FieldType.STRING,
    "decided_on": FieldType.DATE,
    "penalty_type": FieldType.STRING,
    "amount_yuan": FieldType.DECIMAL,
}
UTILITY_FIELDS = {
    "period": FieldType.STRING,
    "amount_due_yuan": FieldType.DECIMAL,
    "amount_paid_yuan": FieldType.DECIMAL,
    "arrears_months": FieldType.INT,
}
CERTIFICATE_FIELDS = {
    "certificate_number": FieldType.STRING,
    "granted_on": FieldType.DATE,
    "expires_on": FieldType.DATE,
}
CONTRACT |= {code: PENALTY_FIELDS for code in ("AMR_PENALTY", "ENV_PENALTY", "SAFETY_PENALTY")}
CONTRACT |= {code: UTILITY_FIELDS for code in ("UTIL_ELECTRICITY", "UTIL_WATER", "UTIL_GAS")}
CONTRACT |= {code: CERTIFICATE_FIELDS for code in ("HONOR_HIGH_TECH", "HONOR_TECH_SME", "HONOR_SPECIALIZED_SME")}
OTHER_CODES = (
    "REG_CHANGE", "REG_ANNUAL_REPORT", "TAX_MAJOR_VIOLATION", "COURT_CONSUMPTION_RESTRICTION", "CREDIT_COMMITMENT",
    "ENV_CREDIT_RATING", "CUSTOMS_CREDIT_RATING", "CUSTOMS_TRADE_PARTNERS", "REAL_ESTATE_MORTGAGE",
)  # fmt: skip
OPENNESS = {
    "REG_BASIC": Openness.PUBLIC,
    "AMR_PENALTY": Openness.PUBLIC,
    "TAX_CREDIT_GRADE": Openness.NON_PUBLIC,
    "TAX_PAYMENT": Openness.NON_PUBLIC,
    "TAX_INVOICE": Openness.OPERATING_OPT_IN,
    "TAX_ARREARS": Openness.PUBLIC,
    "TAX_MAJOR_VIOLATION": Openness.PUBLIC,
    "TAX_FINANCIAL_STATEMENT": Openness.COMMERCIAL_SECRET,
    "SI_HEADCOUNT": Openness.NON_PUBLIC,
    "UTIL_ELECTRICITY": Openness.NON_PUBLIC,
    "COURT_DISHONEST_DEBTOR": Openness.PUBLIC,
    "CUSTOMS_TRADE": Openness.OPERATING_OPT_IN,
    "CUSTOMS_TRADE_PARTNERS": Openness.COMMERCIAL_SECRET,
    "REAL_ESTATE_MORTGAGE": Openness.NON_PUBLIC,
}


@pytest.fixture(scope="module")
def node_list() -> SharingList:
    return load_sharing_list()


def raw_list() -> dict[str, Any]:
    data = yaml.safe_load(DEFAULT_SHARING_LIST_PATH.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return copy.deepcopy(data)


def small_list(version: int = 1, **item_changes: Any) -> dict[str, Any]:
    """A two-item list, easy to vary in one attribute."""
    item: dict[str, Any] = {
        "code": "TAX_PAYMENT",
        "name": "纳税情况信息（按月）",
        "category": "TAX",
        "department": "sx-tax",
        "sharing_method": "MONTHLY_BATCH",
        "deadline": {"day_of_following_month": 20},
        "openness": "NON_PUBLIC",
        "extends_national": False,
        "fields": [
            {"name": "period", "label": "所属期", "type": "string", "max_length": 7, "required": True},
            {"name": "tax_paid_yuan", "label": "实缴税款", "type": "decimal", "min": 0, "required": True},
            {"name": "grade", "label": "等级", "type": "enum", "values": ["A", "B"], "required": False},
        ],
    }
    item.update(item_changes)
    penalty = {
        "code": "AMR_PENALTY",
        "name": "市场监管行政处罚信息",
        "category": "ADMINISTRATIVE_PENALTY",
        "department": "sx-amr",
        "sharing_method": "DAILY_BATCH",
        "deadline": {"within_days": 7},
        "openness": "PUBLIC",
        "extends_national": False,
        "fields": [{"name": "decided_on", "label": "处罚决定日期", "type": "date", "required": True}],
    }
    return {
        "version": version,
        "title": "测试清单",
        "effective_from": "2026-01-01",
        "departments": [
            {"code": "sx-tax", "name": "国家税务总局陕西省税务局", "kind": "GOVERNMENT"},
            {"code": "sx-amr", "name": "陕西省市场监督管理局", "kind": "GOVERNMENT"},
        ],
        "items": [item, penalty],
    }


def problems_of(data: object) -> list[tuple[str, str]]:
    with pytest.raises(SharingListInvalid) as caught:
        sharing_list_from_mapping(data)
    assert caught.value.reason == "ERROR_REASON_SHARING_LIST_INVALID"
    return list(caught.value.problems)


# ------------------------------------------------------------------------------------------------ the node's list


def test_the_node_list_is_large_enough_and_names_every_department_it_uses(node_list: SharingList) -> None:
    assert node_list.version == 1
    assert len(node_list.items) >= 30
    assert len({item.department for item in node_list.items}) >= 12
    listed = {d.code for d in node_list.departments}
    assert {item.department for item in node_list.items} <= listed
    assert {"sx-amr", "sx-tax", "sx-court", "sx-power", "sx-water", "sx-gas", "sx-ndrc"} <= listed


@pytest.mark.parametrize("code", sorted(CONTRACT))
def test_the_node_list_keeps_the_item_contract_other_services_rely_on(node_list: SharingList, code: str) -> None:
    item = node_list.item(code)
    assert item is not None, code
    for name, ftype in CONTRACT[code].items():
        schema = item.field(name)
        assert schema is not None, f"{code}.{name}"
        assert schema.type is ftype, f"{code}.{name}"


def test_the_node_list_has_the_other_named_items(node_list: SharingList) -> None:
    assert all(node_list.item(code) is not None for code in OTHER_CODES)


@pytest.mark.parametrize(("code", "openness"), sorted(OPENNESS.items()))
def test_each_item_has_its_data_class(node_list: SharingList, code: str, openness: Openness) -> None:
    item = node_list.item(code)
    assert item is not None
    assert item.openness is openness


def test_registration_keeps_personal_fields_masked_and_optional_phone(node_list: SharingList) -> None:
    item = node_list.item("REG_BASIC")
    assert item is not None
    masks = {f.name: f.mask for f in item.personal_fields}
    assert masks == {
        "legal_representative": MaskKind.NAME,
        "legal_rep_id_number": MaskKind.ID_NUMBER,
        "contact_phone": MaskKind.PHONE,
    }
    phone = item.field("contact_phone")
    assert phone is not None
    assert not phone.required
    status = item.field("status")
    assert status is not None
    assert status.values == ("ACTIVE", "REVOKED", "CANCELLED")


def test_every_field_naming_a_party_is_a_masked_name(node_list: SharingList) -> None:
    # A party (法定代表人, 出质人, 抵押权人, 负责人 …) may be a natural person, so its name is personal information
    # wherever it appears: 抵押权人 was shipped unmarked while 出质人 and 质权人 were masked.
    parties = [(item.code, f) for item in node_list.items for f in item.fields if f.label.endswith("人")]
    assert len(parties) >= 7
    assert [(code, f.name) for code, f in parties if f.mask is not MaskKind.NAME] == []


def test_grades_and_roles_have_their_enum_values(node_list: SharingList) -> None:
    def values(code: str, name: str) -> tuple[str, ...]:
        item = node_list.item(code)
        assert item is not None
        schema = item.field(name)
        assert schema is not None
        return schema.values

    assert values("TAX_CREDIT_GRADE", "grade") == ("A", "B", "M", "C", "D")
    assert values("COURT_JUDGMENT", "role") == ("PLAINTIFF", "DEFENDANT", "THIRD_PARTY")
    assert values("COURT_ENFORCEMENT", "status") == ("OPEN", "CLOSED")
    assert values("HONOR_PATENT", "patent_type") == ("INVENTION", "UTILITY_MODEL", "DESIGN")


def test_monthly_items_are_due_on_a_day_of_the_following_month(node_list: SharingList) -> None:
    monthly = [item for item in node_list.items if item.sharing_method is SharingMethod.MONTHLY_BATCH]
    assert {"TAX_PAYMENT", "SI_HEADCOUNT", "UTIL_ELECTRICITY", "CUSTOMS_TRADE"} <= {item.code for item in monthly}
    assert all(item.deadline.kind is DeadlineKind.DAY_OF_FOLLOWING_MONTH for item in monthly)
    assert all(item.field("period") is not None for item in monthly)


def test_the_canonical_yaml_round_trips_to_the_same_list(node_list: SharingList) -> None:
    again = parse_sharing_list(node_list.to_yaml())
    assert again == node_list
    assert again.digest == node_list.digest


def test_masking_a_record_changes_only_its_personal_fields(node_list: SharingList) -> None:
    item = node_list.item("REG_BASIC")
    assert item is not None
    values = {"legal_representative": "张三丰", "contact_phone": "13912345678", "status": "ACTIVE"}
    assert item.mask_personal(values) == {"legal_representative": "张**", "contact_phone": "139****5678",
                                          "status": "ACTIVE"}  # fmt: skip


# ------------------------------------------------------------------------------------------------ bad lists


def test_a_valid_small_list_loads() -> None:
    loaded = sharing_list_from_mapping(small_list())
    item = loaded.item("TAX_PAYMENT")
    assert item is not None
    paid = item.field("tax_paid_yuan")
    assert paid is not None
    assert paid.minimum == Decimal(0)
    assert paid.effective_scale == 2


def test_every_problem_is_reported_at_once_with_its_path() -> None:
    data = small_list()
    data["items"][0]["department"] = "sx-nowhere"
    data["items"][0]["colour"] = "red"
    data["items"][1]["deadline"] = {"within_days": 0}
    problems = problems_of(data)
    paths = [path for path, _ in problems]
    assert "items[TAX_PAYMENT].department" in paths
    assert "items[TAX_PAYMENT].colour" in paths
    assert "items[AMR_PENALTY].deadline.within_days" in paths
    assert len(problems) == 3


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"category": "WEATHER"}, "items[TAX_PAYMENT].category"),
        ({"openness": "SECRETISH"}, "items[TAX_PAYMENT].openness"),
        ({"deadline": {"within_days": 7}}, "items[TAX_PAYMENT].deadline"),
        ({"deadline": {"day_of_following_month": 31}}, "items[TAX_PAYMENT].deadline.day_of_following_month"),
        ({"deadline": {"within_days": 3, "within_hours": 2}}, "items[TAX_PAYMENT].deadline"),
        ({"extends_national": "yes"}, "items[TAX_PAYMENT].extends_national"),
        ({"fields": []}, "items[TAX_PAYMENT].fields"),
    ],
)
def test_a_bad_item_attribute_is_named(change: dict[str, Any], path: str) -> None:
    assert path in [p for p, _ in problems_of(small_list(**change))]


@pytest.mark.parametrize(
    ("field", "path"),
    [
        ({"name": "x", "label": "x", "type": "string", "required": True}, "fields.x.max_length"),
        ({"name": "x", "label": "x", "type": "int", "max_length": 5, "required": True}, "fields.x.max_length"),
        ({"name": "x", "label": "x", "type": "decimal", "min": 5, "max": 1, "required": True}, "fields.x.min"),
        ({"name": "x", "label": "x", "type": "int", "min": 0.5, "required": True}, "fields.x.min"),
        (
            {"name": "x", "label": "x", "type": "string", "max_length": 5, "pattern": "(", "required": True},
            "fields.x.pattern",
        ),
        ({"name": "x", "label": "x", "type": "enum", "values": ["a"], "required": True}, "fields.x.values"),
        ({"name": "x", "label": "x", "type": "enum", "values": ["A", "A"], "required": True}, "fields.x.values"),
        ({"name": "x", "label": "x", "type": "date"}, "fields.x.required"),
        ({"name": "x", "label": "x", "type": "uuid", "required": True}, "fields.x.type"),
        ({"name": "x", "label": "x", "type": "date", "required": True, "mask": "NAME"}, "fields.x.mask"),
        (
            {"name": "x", "label": "x", "type": "string", "max_length": 5, "required": True, "personal": True},
            "fields.x.mask",
        ),
        ({"name": "X-Y", "label": "x", "type": "date", "required": True}, "fields[3].name"),
        ({"name": "period", "label": "x", "type": "date", "required": True}, "fields.period.name"),
    ],
)
def test_a_bad_field_is_named(field: dict[str, Any], path: str) -> None:
    data = small_list()
    data["items"][0]["fields"].append(field)
    paths = [p for p, _ in problems_of(data)]
    assert f"items[TAX_PAYMENT].{path}" in paths


def test_duplicate_codes_are_refused() -> None:
    data = small_list()
    data["items"][1]["code"] = "TAX_PAYMENT"
    data["departments"].append(dict(data["departments"][0]))
    paths = [p for p, _ in problems_of(data)]
    assert "items[TAX_PAYMENT].code" in paths
    assert "departments[2].code" in paths


@pytest.mark.parametrize("text", ["items: [", "- just a list", "version: 1"])
def test_text_that_is_not_a_list_document_is_refused(text: str) -> None:
    with pytest.raises(SharingListInvalid):
        parse_sharing_list(text)


def test_the_error_message_names_the_first_problem_and_counts_the_rest() -> None:
    data = small_list()
    data["title"] = ""
    data["effective_from"] = "someday"
    with pytest.raises(SharingListInvalid) as caught:
        sharing_list_from_mapping(data)
    assert caught.value.message == "sharing list is invalid: title: must be a non-empty string (and 1 more)"
    assert caught.value.metadata["problems"] == "2"


# ------------------------------------------------------------------------------------------------ deadlines


def test_an_hourly_deadline_counts_from_the_event_instant() -> None:
    event = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert Deadline(DeadlineKind.WITHIN_HOURS, 24).due_before(event, CALENDAR) == event + timedelta(hours=24)


def test_a_daily_deadline_ends_at_beijing_midnight() -> None:
    # 2026-03-01 20:00 UTC is already 2 March in Beijing.
    event = datetime(2026, 3, 1, 20, 0, tzinfo=UTC)
    due = Deadline(DeadlineKind.WITHIN_DAYS, 7).due_before(event, CALENDAR)
    assert due == datetime(2026, 3, 10, 0, 0, tzinfo=CHINA_TZ)


def test_a_monthly_deadline_falls_in_the_next_month_even_across_the_year_end() -> None:
    deadline = Deadline(DeadlineKind.DAY_OF_FOLLOWING_MONTH, 20)
    december = datetime(2025, 12, 31, 23, 0, tzinfo=CHINA_TZ)
    assert deadline.due_before(december, CALENDAR) == datetime(2026, 1, 21, tzinfo=CHINA_TZ)
    february = datetime(2026, 2, 28, 23, 0, tzinfo=CHINA_TZ)
    assert deadline.due_before(february, CALENDAR) == datetime(2026, 3, 21, tzinfo=CHINA_TZ)


def test_a_deadline_refuses_a_naive_event_time() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Deadline(DeadlineKind.WITHIN_DAYS, 1).due_before(datetime(2026, 1, 1), CALENDAR)


def test_a_day_deadline_on_a_saturday_moves_to_the_monday() -> None:
    # Wednesday 4 March 2026 + 3 days = Saturday 7 March, a rest day: due by the end of Monday 9 March (art. 203).
    event = datetime(2026, 3, 4, 10, 0, tzinfo=CHINA_TZ)
    assert Deadline(DeadlineKind.WITHIN_DAYS, 3).due_before(event, CALENDAR) == datetime(2026, 3, 10, tzinfo=CHINA_TZ)


def test_a_day_deadline_in_the_national_day_holiday_moves_to_the_first_working_day_after_it() -> None:
    # 28 September 2026 + 3 days = 1 October; 1-7 October are rest days, 8 October is the first working day.
    event = datetime(2026, 9, 28, 10, 0, tzinfo=CHINA_TZ)
    assert Deadline(DeadlineKind.WITHIN_DAYS, 3).due_before(event, CALENDAR) == datetime(2026, 10, 9, tzinfo=CHINA_TZ)


def test_a_monthly_deadline_in_the_spring_festival_moves_to_the_first_working_day_after_it() -> None:
    # January's figures are due on 20 February 2026, inside the 15-23 February Spring Festival rest: by 24 February.
    event = datetime(2026, 1, 31, 12, 0, tzinfo=CHINA_TZ)
    due = Deadline(DeadlineKind.DAY_OF_FOLLOWING_MONTH, 20).due_before(event, CALENDAR)
    assert due == datetime(2026, 2, 25, tzinfo=CHINA_TZ)


def test_a_day_deadline_on_a_make_up_working_saturday_stays_on_it() -> None:
    # Saturday 10 October 2026 is a 调休 working day (for the National Day holiday): the deadline does not move.
    assert CALENDAR.is_working_day(date(2026, 10, 10))
    event = datetime(2026, 10, 5, 10, 0, tzinfo=CHINA_TZ)
    assert Deadline(DeadlineKind.WITHIN_DAYS, 5).due_before(event, CALENDAR) == datetime(2026, 10, 11, tzinfo=CHINA_TZ)


def test_an_hourly_deadline_is_not_moved_off_a_holiday() -> None:
    event = datetime(2026, 9, 30, 12, 0, tzinfo=CHINA_TZ)  # 24 hours later is 1 October, National Day
    assert Deadline(DeadlineKind.WITHIN_HOURS, 24).due_before(event, CALENDAR) == event + timedelta(hours=24)


def test_a_day_deadline_in_a_year_the_calendar_does_not_know_gets_the_longest_rest_the_calendar_has_seen() -> None:
    only_2026 = WorkCalendar([library_years()[2026]])
    # Monday 4 January 2027 + 3 days = Thursday 7 January: without 2027's arrangement any day may be a holiday, so
    # the department is given the longest run of rest days on record rather than judged on a guess.
    event = datetime(2027, 1, 4, 10, 0, tzinfo=CHINA_TZ)
    due = Deadline(DeadlineKind.WITHIN_DAYS, 3).due_before(event, only_2026)
    assert due == datetime(2027, 1, 7 + LONGEST_REST_RUN_DAYS + 1, tzinfo=CHINA_TZ)
    # A known working day decides alone, however near the unknown year: Thursday 31 December 2026.
    assert Deadline(DeadlineKind.WITHIN_DAYS, 3).due_before(
        datetime(2026, 12, 28, 10, 0, tzinfo=CHINA_TZ), only_2026
    ) == datetime(2027, 1, 1, tzinfo=CHINA_TZ)


def test_the_rest_allowed_for_an_unknown_year_is_the_longest_run_of_rest_days_the_calendar_holds() -> None:
    longest = run = 0
    for year in CALENDAR.covered_years():
        day = date(year, 1, 1)
        while day.year == year:
            run = 0 if CALENDAR.is_working_day(day) else run + 1
            longest = max(longest, run)
            day += timedelta(days=1)
    assert longest == LONGEST_REST_RUN_DAYS  # 2020's Spring Festival, extended to 2 February


# ------------------------------------------------------------------------------------------------ versions


T0 = datetime(2026, 1, 1, tzinfo=UTC)


def catalogue_with(*versions: SharingList) -> SharingListCatalogue:
    catalogue = SharingListCatalogue()
    for index, version in enumerate(versions):
        catalogue.publish(version, at=T0 + timedelta(days=30 * index), by="ops", note=f"v{version.version}")
    return catalogue


def test_versions_are_appended_in_order_and_zero_means_current() -> None:
    v1, v2 = sharing_list_from_mapping(small_list(1)), sharing_list_from_mapping(small_list(2))
    catalogue = catalogue_with(v1, v2)
    assert catalogue.get(0).sharing_list is v2
    assert catalogue.get(1).sharing_list is v1
    assert catalogue.get(1).superseded_at == T0 + timedelta(days=30)
    assert catalogue.get(2).superseded_at is None


@pytest.mark.parametrize("version", [1, 3])
def test_a_publish_must_be_the_next_version(version: int) -> None:
    catalogue = catalogue_with(sharing_list_from_mapping(small_list(1)))
    with pytest.raises(FailedPrecondition) as caught:
        catalogue.publish(sharing_list_from_mapping(small_list(version)), at=T0, by="ops", note="")
    assert caught.value.reason == "ERROR_REASON_SHARING_LIST_VERSION_CONFLICT"
    assert catalogue.current is not None
    assert catalogue.current.version == 1


def test_a_new_version_may_not_take_effect_before_the_current_one() -> None:
    catalogue = catalogue_with(sharing_list_from_mapping(small_list(1)))
    earlier = small_list(2) | {"effective_from": "2025-06-01"}
    with pytest.raises(FailedPrecondition):
        catalogue.publish(sharing_list_from_mapping(earlier), at=T0, by="ops", note="")


def test_a_version_is_not_published_before_its_first_day_in_xian() -> None:
    # A published version is current at once (records are validated, masked and released under it), so one whose
    # effective_from is still ahead would apply before its first day: an item it makes PUBLIC would leave early.
    catalogue = catalogue_with(sharing_list_from_mapping(small_list(1)))
    next_day = small_list(2) | {"effective_from": "2026-02-01"}
    with pytest.raises(SharingListInvalid) as caught:
        # 23:59 on 31 January in Xi'an
        catalogue.publish(
            sharing_list_from_mapping(next_day), at=datetime(2026, 1, 31, 15, 59, tzinfo=UTC), by="o", note=""
        )
    assert caught.value.metadata["path"] == "effective_from"
    assert catalogue.current is not None
    assert catalogue.current.version == 1
    # 00:00 on 1 February in Xi'an, still 31 January in UTC: its first day has begun
    catalogue.publish(sharing_list_from_mapping(next_day), at=datetime(2026, 1, 31, 16, tzinfo=UTC), by="o", note="")
    assert catalogue.current.version == 2


def test_an_unknown_version_is_not_found() -> None:
    catalogue = catalogue_with(sharing_list_from_mapping(small_list(1)))
    with pytest.raises(NotFound) as caught:
        catalogue.get(9)
    assert caught.value.reason == "ERROR_REASON_SHARING_LIST_VERSION_NOT_FOUND"


def test_a_replaced_version_accepts_records_only_during_its_grace_period() -> None:
    v1, v2 = sharing_list_from_mapping(small_list(1)), sharing_list_from_mapping(small_list(2))
    catalogue = catalogue_with(v1, v2)
    replaced_at = T0 + timedelta(days=30)
    assert catalogue.for_records(1, replaced_at + catalogue.grace - timedelta(seconds=1)) is v1
    with pytest.raises(FailedPrecondition) as caught:
        catalogue.for_records(1, replaced_at + catalogue.grace)
    assert caught.value.reason == "ERROR_REASON_SHARING_LIST_VERSION_RETIRED"
    assert catalogue.for_records(0, replaced_at + 10 * catalogue.grace) is v2


# ------------------------------------------------------------------------------------------------ diff


def test_identical_versions_differ_in_nothing(node_list: SharingList) -> None:
    diff = diff_sharing_lists(node_list, node_list)
    assert diff.changes == ()
    assert not diff.breaking


def test_a_diff_names_added_removed_and_changed_elements_and_what_breaks_senders() -> None:
    old = sharing_list_from_mapping(small_list(1))
    data = small_list(2, openness="PUBLIC")
    fields = data["items"][0]["fields"]
    fields[0]["max_length"] = 6  # shorter: breaking
    fields[2]["values"] = ["A", "B", "C"]  # a value added: not breaking
    fields.append({"name": "note", "label": "备注", "type": "string", "max_length": 50, "required": False})
    data["items"].pop(1)
    data["departments"].append({"code": "sx-court", "name": "陕西省高级人民法院", "kind": "GOVERNMENT"})
    diff = diff_sharing_lists(old, sharing_list_from_mapping(data))
    by_path = {change.path: change for change in diff.changes}
    assert by_path["departments.sx-court"].kind is ChangeKind.ADDED
    assert by_path["items.AMR_PENALTY"].kind is ChangeKind.REMOVED
    assert by_path["items.AMR_PENALTY"].breaking
    assert by_path["items.TAX_PAYMENT.openness"].after == "PUBLIC"
    assert not by_path["items.TAX_PAYMENT.openness"].breaking
    assert by_path["items.TAX_PAYMENT.fields.period.max_length"].breaking
    assert not by_path["items.TAX_PAYMENT.fields.grade.values"].breaking
    assert not by_path["items.TAX_PAYMENT.fields.note"].breaking
    assert diff.breaking
    assert (diff.from_version, diff.to_version) == (1, 2)


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda d: d["items"][0]["fields"].append(
            {"name": "n", "label": "n", "type": "int", "required": True}), "items.TAX_PAYMENT.fields.n"),
        (lambda d: d["items"][0]["fields"][2].update(values=["A"]), "items.TAX_PAYMENT.fields.grade.values"),
        (lambda d: d["items"][0]["fields"][2].update(required=True), "items.TAX_PAYMENT.fields.grade.required"),
        (lambda d: d["items"][0]["fields"][1].update(type="int"), "items.TAX_PAYMENT.fields.tax_paid_yuan.type"),
        (lambda d: d["items"][0]["fields"][1].update(scale=0), "items.TAX_PAYMENT.fields.tax_paid_yuan.scale"),
        (lambda d: d["items"][0]["fields"].pop(2), "items.TAX_PAYMENT.fields.grade"),
        (lambda d: d["items"][0].update(department="sx-amr"), "items.TAX_PAYMENT.department"),
    ],
)  # fmt: skip
def test_changes_that_can_reject_an_old_record_are_breaking(mutate: Any, path: str) -> None:
    data = small_list(2)
    mutate(data)
    diff = diff_sharing_lists(sharing_list_from_mapping(small_list(1)), sharing_list_from_mapping(data))
    assert {change.path for change in diff.changes if change.breaking} == {path}


def test_the_diff_describes_deadlines_in_words() -> None:
    data = small_list(2)
    data["items"][1]["deadline"] = {"within_days": 5}
    diff = diff_sharing_lists(sharing_list_from_mapping(small_list(1)), sharing_list_from_mapping(data))
    (change,) = diff.changes
    assert (change.path, change.before, change.after) == (
        "items.AMR_PENALTY.deadline",
        "within 7 days",
        "within 5 days",
    )


def test_the_list_says_when_it_takes_effect(node_list: SharingList) -> None:
    assert node_list.effective_from == date(2026, 1, 1)
