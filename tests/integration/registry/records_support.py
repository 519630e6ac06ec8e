"""Helpers for record tests: departments from the sharing list, wire records, and tax records by sequence."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc
import yaml
from sqlalchemy import Engine

from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import records_pb2 as rec_pb
from creditnode.registry.v1 import records_pb2_grpc as rec_grpc
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import sharing_list_pb2 as sl_pb
from services.kit.db import session_factories
from services.registry import record_usecases as uc
from services.registry.domain.participants import Docking, Platform, PlatformKind, PlatformStatus
from services.registry.domain.sharing_list import CHINA_TZ, DEFAULT_SHARING_LIST_PATH, parse_sharing_list
from services.registry.store.repositories import SqlRegistryUnitOfWork
from tests.registry_helpers import RegistryClient, change, ts


def store_with_a_city_platform(engine: Engine) -> Callable[[], SqlRegistryUnitOfWork]:
    """Units of work on ``engine`` with the node's sharing list published and one admitted city platform, city-1:
    for tests that drive the record use cases on the store directly."""
    writer, _ = session_factories(engine)
    now = datetime.now(UTC)
    uc.ensure_sharing_list(
        SqlRegistryUnitOfWork(writer), parse_sharing_list(DEFAULT_SHARING_LIST_PATH.read_text()), now
    )
    with SqlRegistryUnitOfWork(writer) as u:
        u.platforms.add(Platform("city-1", "city-1", PlatformKind.CITY, "610100", Docking.DIRECT, None,
                                 PlatformStatus.ADMITTED, now, now))  # fmt: skip
        u.commit()
    return lambda: SqlRegistryUnitOfWork(writer)


def create_departments(client: RegistryClient) -> list[str]:
    listed = yaml.safe_load(DEFAULT_SHARING_LIST_PATH.read_text(encoding="utf-8"))["departments"]
    for d in listed:
        kind = pb.DEPARTMENT_KIND_UTILITY if d["kind"] == "UTILITY" else pb.DEPARTMENT_KIND_GOVERNMENT
        client.admin.CreateDepartment(
            admin_pb.CreateDepartmentRequest(code=d["code"], display_name=d["name"], kind=kind, change=change())
        )
    return [d["code"] for d in listed]


def as_department(code: str) -> tuple[tuple[str, str]]:
    return (("x-creditnode-department", code),)


def wire_value(value: object) -> rec_pb.FieldValue:
    if isinstance(value, bool):
        return rec_pb.FieldValue(bool_value=value)
    if isinstance(value, int):
        return rec_pb.FieldValue(int_value=value)
    if isinstance(value, Decimal):
        return rec_pb.FieldValue(decimal_value=format(value, "f"))
    if isinstance(value, date):
        return rec_pb.FieldValue(date_value=sl_pb.CalendarDate(year=value.year, month=value.month, day=value.day))
    return rec_pb.FieldValue(string_value=str(value))


def wire_record(r: Mapping[str, Any], sequence: int = 0) -> rec_pb.IngestRecord:
    return rec_pb.IngestRecord(
        sequence=sequence,
        item_code=r["item_code"],
        list_version=r.get("list_version", 0),
        source_record_id=r["source_record_id"],
        source_version=r.get("source_version", 1),
        uscc=r["uscc"],
        event_time=ts(r["event_time"]),
        fields={k: wire_value(v) for k, v in r["fields"].items()},
    )


def month_close(months_back: int, now: datetime | None = None) -> tuple[str, datetime]:
    """(period, an event time inside it) for the month ``months_back`` before now (Beijing time)."""
    local = (now or datetime.now(UTC)).astimezone(CHINA_TZ)
    year, month = local.year, local.month - months_back
    while month <= 0:
        year, month = year - 1, month + 12
    return f"{year:04d}-{month:02d}", datetime(year, month, 1, 12, tzinfo=CHINA_TZ)


def tax_record(uscc: str, n: int, *, amount: str = "1000.00", source_version: int = 1) -> dict[str, Any]:
    """A valid TAX_PAYMENT record from sx-tax; ``n`` makes the source id (and so the record) unique."""
    period, event = month_close(1 + n % 12)
    return {
        "item_code": "TAX_PAYMENT",
        "source_record_id": f"tax-{n}",
        "source_version": source_version,
        "uscc": uscc,
        "event_time": event,
        "fields": {"period": period, "tax_paid_yuan": Decimal(amount)},
    }


def tax_stream(usccs: list[str], start: int, stop: int) -> Iterator[rec_pb.IngestRecord]:
    """Records with sequences start..stop-1 (sequence n is source record tax-n), spread over the enterprises."""
    for n in range(start, stop):
        yield wire_record(tax_record(usccs[n % len(usccs)], n, amount=f"{n % 997}.{n % 100:02d}"), sequence=n)


def ingestion(channel: grpc.Channel) -> rec_grpc.RecordIngestionServiceStub:
    return rec_grpc.RecordIngestionServiceStub(channel)


def records(channel: grpc.Channel) -> rec_grpc.RecordServiceStub:
    return rec_grpc.RecordServiceStub(channel)


def later(days: int = 0) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)
