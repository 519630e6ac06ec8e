"""The registry's proto contract at the edges: malformed input is INVALID_ARGUMENT with its reason, never INTERNAL.

Each value here is one the proto rules out (a name that cannot hold a code, a filter that is not a value of its
enum, a page token the server never issued). On PostgreSQL most of them used to reach the database and fail there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import records_pb2 as rec_pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from creditnode.registry.v1 import sharing_list_pb2 as sl_pb
from creditnode.registry.v1 import sharing_list_pb2_grpc as sl_grpc
from services.kit.paging import encode_token
from services.kit.status import error_info
from services.registry.domain.sharing_list import DEFAULT_SHARING_LIST_PATH
from tests.integration.registry.records_support import records
from tests.registry_helpers import RegistryClient, change, random_uscc, ts

INVALID = grpc.StatusCode.INVALID_ARGUMENT


@pytest.fixture
def client(registry_server: str) -> Iterator[RegistryClient]:
    with grpc.insecure_channel(registry_server) as channel:
        yield RegistryClient(channel)


def _fails(call: Callable[[], object], code: grpc.StatusCode, reason: str, field: str | None = None) -> None:
    with pytest.raises(grpc.RpcError) as err:
        call()
    assert err.value.code() == code, err.value.details()
    info = error_info(err.value)
    assert info is not None
    assert info.reason == reason
    if field is not None:
        assert info.metadata["field"] == field


def _first(stream: Iterator[object]) -> object:
    try:
        return next(stream)
    finally:
        stream.cancel()  # type: ignore[attr-defined]


@pytest.mark.parametrize("uscc", ["ab\x00cd", "91610100MA6U0X1234\x00", "9161010" + "０" * 11, "x" * 18])
def test_an_enterprise_name_that_cannot_hold_a_code_is_invalid_uscc(client: RegistryClient, uscc: str) -> None:
    name = f"enterprises/{uscc}"
    _fails(
        lambda: client.registry.GetEnterprise(rs_pb.GetEnterpriseRequest(name=name)),
        INVALID,
        "ERROR_REASON_INVALID_USCC",
        "name",
    )
    rotate = rs_pb.RotateEnterpriseKeyRequest(
        name=name,
        new_public_key=bytes(32),
        signing_key_id="0123456789abcdef",
        signed_at=ts(datetime.now(UTC)),
        signature=bytes(64),
    )
    _fails(lambda: client.registry.RotateEnterpriseKey(rotate), INVALID, "ERROR_REASON_INVALID_USCC", "name")
    _fails(
        lambda: records(client.channel).ListEnterpriseRecords(rec_pb.ListEnterpriseRecordsRequest(parent=name)),
        INVALID,
        "ERROR_REASON_INVALID_USCC",
        "parent",
    )


def test_a_registered_enterprise_is_still_found_by_its_name(client: RegistryClient) -> None:
    platform, _ = client.admitted_platform()
    enterprise, _ = client.enterprise(platform.name)
    found = client.registry.GetEnterprise(rs_pb.GetEnterpriseRequest(name=enterprise.name)).enterprise
    assert found.uscc == enterprise.uscc
    _fails(
        lambda: client.registry.GetEnterprise(rs_pb.GetEnterpriseRequest(name=f"enterprises/{random_uscc()}")),
        grpc.StatusCode.NOT_FOUND,
        "ERROR_REASON_ENTERPRISE_NOT_FOUND",
    )


def _forged_list_calls(client: RegistryClient) -> dict[str, Callable[[], object]]:
    """Each list method called with a well-encoded token around a position it never issues."""
    nul = "a\x00"
    big = "9" * 18  # digits, but beyond the 32-bit row ids of the registry's tables
    sharing = sl_grpc.SharingListServiceStub(client.channel)
    return {
        "ListPlatforms": lambda: client.registry.ListPlatforms(
            rs_pb.ListPlatformsRequest(page_token=encode_token(nul, ["platforms", 0, "", ""]))
        ),
        "ListInstitutions": lambda: client.registry.ListInstitutions(
            rs_pb.ListInstitutionsRequest(page_token=encode_token(nul, ["institutions", ""]))
        ),
        "ListEnterprises": lambda: client.registry.ListEnterprises(
            rs_pb.ListEnterprisesRequest(page_token=encode_token(nul, ["enterprises", ""]))
        ),
        "ListDepartments": lambda: client.registry.ListDepartments(
            rs_pb.ListDepartmentsRequest(page_token=encode_token(nul, ["departments"]))
        ),
        "ListPlatformHistory": lambda: client.admin.ListPlatformHistory(
            admin_pb.ListPlatformHistoryRequest(
                name="platforms/xian", page_token=encode_token(big, ["history", "xian"])
            )
        ),
        "ListPlatformBreaches": lambda: client.admin.ListPlatformBreaches(
            admin_pb.ListPlatformBreachesRequest(page_token=encode_token(big, ["breaches", ""]))
        ),
        "ListSharingListVersions": lambda: sharing.ListSharingListVersions(
            sl_pb.ListSharingListVersionsRequest(page_token=encode_token("two", ["sharing-lists"]))
        ),
    }


@pytest.mark.parametrize(
    "method",
    [
        "ListPlatforms",
        "ListInstitutions",
        "ListEnterprises",
        "ListDepartments",
        "ListPlatformHistory",
        "ListPlatformBreaches",
        "ListSharingListVersions",
    ],
)
def test_a_page_token_around_a_position_never_issued_is_invalid_page_token(client: RegistryClient, method: str) -> None:
    client.admitted_platform("xian")
    _fails(_forged_list_calls(client)[method], INVALID, "ERROR_REASON_INVALID_PAGE_TOKEN", "page_token")


def test_a_forged_record_page_token_is_invalid_page_token(client: RegistryClient) -> None:
    uscc = random_uscc()
    query = ["records", uscc, [], [], 0, 0, False]
    forged = ["not json", '["TAX_PAYMENT", "yesterday", "0"]', '["TAX_PAYMENT"]', '["A\\u0000", "x", "y"]']
    # Event times a Timestamp never holds: aware, but outside the years 1-9999 once in UTC (they failed as INTERNAL
    # when the position was bound to the UTC column).
    forged += [
        f'["TAX_PAYMENT", "{t}", "{"0" * 32}"]' for t in ("0001-01-01T00:00:00+08:00", "9999-12-31T23:00:00-05:00")
    ]
    for after in forged:
        request = rec_pb.ListEnterpriseRecordsRequest(
            parent=f"enterprises/{uscc}", page_token=encode_token(after, query)
        )
        _fails(
            lambda r=request: records(client.channel).ListEnterpriseRecords(r),  # type: ignore[misc]
            INVALID,
            "ERROR_REASON_INVALID_PAGE_TOKEN",
            "page_token",
        )


@pytest.mark.parametrize("region_code", ["６１０１００", "6101٠٠", "61a100"])
def test_a_region_code_is_six_ascii_digits(client: RegistryClient, region_code: str) -> None:
    create = admin_pb.CreatePlatformRequest(
        platform_id="xian",
        display_name="西安市融资信用服务平台",
        kind=pb.PLATFORM_KIND_CITY,
        region_code=region_code,
        docking=pb.DOCKING_DIRECT,
        change=change(),
    )
    _fails(lambda: client.admin.CreatePlatform(create), INVALID, "ERROR_REASON_INVALID_FIELD", "region_code")
    assert client.registry.ListPlatforms(rs_pb.ListPlatformsRequest()).platforms == []
    _fails(
        lambda: client.registry.ListPlatforms(rs_pb.ListPlatformsRequest(region_code=region_code)),
        INVALID,
        "ERROR_REASON_INVALID_FIELD",
        "region_code",
    )


@pytest.mark.parametrize("kinds", [[rs_pb.PARTICIPANT_KIND_UNSPECIFIED], [99], [rs_pb.PARTICIPANT_KIND_PLATFORM, 0]])
def test_a_watch_for_kinds_that_are_not_a_kind_is_refused(client: RegistryClient, kinds: list[int]) -> None:
    client.admitted_platform("xian")
    request = rs_pb.WatchParticipantsRequest(kinds=kinds)  # type: ignore[arg-type]
    _fails(
        lambda: _first(client.registry.WatchParticipants(request, timeout=10)),
        INVALID,
        "ERROR_REASON_INVALID_FIELD",
        "kinds",
    )


@pytest.mark.parametrize("categories", [[sl_pb.ITEM_CATEGORY_UNSPECIFIED], [99]])
def test_record_reads_refuse_categories_that_are_not_a_category(client: RegistryClient, categories: list[int]) -> None:
    stub = records(client.channel)
    listing = rec_pb.ListEnterpriseRecordsRequest(parent=f"enterprises/{random_uscc()}", categories=categories)  # type: ignore[arg-type]
    _fails(lambda: stub.ListEnterpriseRecords(listing), INVALID, "ERROR_REASON_INVALID_FIELD", "categories")
    watch = rec_pb.WatchRecordChangesRequest(categories=categories)  # type: ignore[arg-type]
    _fails(
        lambda: _first(stub.WatchRecordChanges(watch, timeout=10)), INVALID, "ERROR_REASON_INVALID_FIELD", "categories"
    )


def test_record_reads_refuse_item_codes_that_are_not_codes(client: RegistryClient) -> None:
    stub = records(client.channel)
    listing = rec_pb.ListEnterpriseRecordsRequest(parent=f"enterprises/{random_uscc()}", item_codes=["TAX\x00"])
    _fails(lambda: stub.ListEnterpriseRecords(listing), INVALID, "ERROR_REASON_INVALID_FIELD", "item_codes")
    watch = rec_pb.WatchRecordChangesRequest(item_codes=["tax payment"])
    _fails(
        lambda: _first(stub.WatchRecordChanges(watch, timeout=10)), INVALID, "ERROR_REASON_INVALID_FIELD", "item_codes"
    )


def test_record_reads_refuse_more_item_codes_than_a_list_could_hold(client: RegistryClient) -> None:
    # Each code is a bound parameter of the read's IN: PostgreSQL takes at most 65535 of them (INTERNAL past that).
    codes = [f"ITEM_{i}" for i in range(70_000)]
    stub = records(client.channel)
    listing = rec_pb.ListEnterpriseRecordsRequest(parent=f"enterprises/{random_uscc()}", item_codes=codes)
    _fails(lambda: stub.ListEnterpriseRecords(listing), INVALID, "ERROR_REASON_INVALID_FIELD", "item_codes")
    watch = rec_pb.WatchRecordChangesRequest(item_codes=codes)
    _fails(
        lambda: _first(stub.WatchRecordChanges(watch, timeout=10)), INVALID, "ERROR_REASON_INVALID_FIELD", "item_codes"
    )


def test_a_timeliness_window_ending_before_1900_is_invalid(client: RegistryClient) -> None:
    # Without a start the window is the 30 days before its end: from year 1 that is no date at all.
    year_one = rec_pb.GetTimelinessRequest(end_time=ts(datetime(1, 1, 1, tzinfo=UTC)))
    _fails(lambda: records(client.channel).GetTimeliness(year_one), INVALID, "ERROR_REASON_INVALID_FIELD", "end_time")


@pytest.mark.parametrize("objection", ["objections/o\x001", "objections/o1/notices/2", "objections/\t"])
def test_an_objection_name_with_control_characters_or_parts_is_invalid(client: RegistryClient, objection: str) -> None:
    name = f"enterprises/{random_uscc()}/records/{'0' * 32}"
    _fails(
        lambda: records(client.channel).SetRecordDispute(
            rec_pb.SetRecordDisputeRequest(name=name, objection=objection)
        ),
        INVALID,
        "ERROR_REASON_INVALID_FIELD",
        "objection",
    )


def test_a_negative_sharing_list_page_size_is_invalid(client: RegistryClient) -> None:
    sharing = sl_grpc.SharingListServiceStub(client.channel)
    _fails(
        lambda: sharing.ListSharingListVersions(sl_pb.ListSharingListVersionsRequest(page_size=-1)),
        INVALID,
        "ERROR_REASON_INVALID_FIELD",
        "page_size",
    )


def test_a_sharing_list_text_past_its_limit_is_invalid_before_it_is_parsed(client: RegistryClient) -> None:
    # The node's list is about 33 KB; every registry reparses every stored version at each catalogue load, and the
    # YAML parser spends seconds per megabyte.
    text = DEFAULT_SHARING_LIST_PATH.read_text(encoding="utf-8").replace("version: 1\n", "version: 2\n", 1)
    padded = text + "# " + "x" * 1_100_000 + "\n"
    request = sl_pb.PublishSharingListRequest(
        yaml_text=padded, change=admin_pb.Change(actor="operator", reason="a long comment"), validate_only=True
    )
    sharing = sl_grpc.SharingListServiceStub(client.channel)
    _fails(lambda: sharing.PublishSharingList(request), INVALID, "ERROR_REASON_INVALID_FIELD", "yaml_text")
    items = [sl_pb.SharingListItem(code=f"ITEM_{i}", name="x" * 100) for i in range(40_000)]
    structured = sl_pb.PublishSharingListRequest(
        content=sl_pb.SharingList(version=2, title="many items", items=items),
        change=admin_pb.Change(actor="operator", reason="many items"),
        validate_only=True,
    )
    _fails(lambda: sharing.PublishSharingList(structured, timeout=60), INVALID, "ERROR_REASON_INVALID_FIELD", "content")


def test_an_assessment_with_a_stale_etag_is_aborted_and_not_recorded(client: RegistryClient) -> None:
    platform, _ = client.admitted_platform("xian")
    stale = platform.etag
    client.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name=platform.name, change=change()))
    now = datetime.now(UTC)
    assessment = pb.Assessment(
        kind=pb.ASSESSMENT_KIND_SECURITY,
        assessor="省信息安全测评中心",
        assessed_on=ts(now - timedelta(days=2)),
        result=pb.ASSESSMENT_RESULT_FAILED,
        findings="late finding",
        expires_on=ts(now + timedelta(days=30)),
    )
    request = admin_pb.RecordAssessmentRequest(name=platform.name, assessment=assessment, change=change(etag=stale))
    _fails(
        lambda: client.admin.RecordAssessment(request),
        grpc.StatusCode.ABORTED,
        "ERROR_REASON_CONCURRENT_MODIFICATION",
    )
    after = client.registry.GetPlatform(rs_pb.GetPlatformRequest(name=platform.name)).platform
    assert [a.findings for a in after.assessments if a.kind == pb.ASSESSMENT_KIND_SECURITY] == ["no blocking findings"]
    current = admin_pb.RecordAssessmentRequest(
        name=platform.name, assessment=assessment, change=change(etag=after.etag)
    )
    recorded = client.admin.RecordAssessment(current).platform
    assert [a.findings for a in recorded.assessments if a.kind == pb.ASSESSMENT_KIND_SECURITY] == ["late finding"]
