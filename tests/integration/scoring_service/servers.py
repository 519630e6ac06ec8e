"""Stand-ins on real ports for what scoring calls: the registry's RecordService and consent's CheckAuthorization.

The registry's RecordService is not implemented yet, and a real consent check needs signed authorizations; these
serve the same protos, so the scoring service runs its real gRPC adapters against them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import grpc

from creditnode.consent.v1 import consent_service_pb2 as cpb
from creditnode.consent.v1 import consent_service_pb2_grpc as cgrpc
from creditnode.registry.v1 import records_pb2 as rpb
from creditnode.registry.v1 import records_pb2_grpc as rgrpc
from creditnode.registry.v1 import sharing_list_pb2 as slpb
from services.scoring.main import ScoringSettings


def value(v: object) -> rpb.FieldValue:
    if isinstance(v, bool):
        return rpb.FieldValue(bool_value=v)
    if isinstance(v, int):
        return rpb.FieldValue(int_value=v)
    if isinstance(v, date):
        return rpb.FieldValue(date_value=slpb.CalendarDate(year=v.year, month=v.month, day=v.day))
    return rpb.FieldValue(string_value=str(v))


@dataclass
class FakeRecords(rgrpc.RecordServiceServicer):
    """Records per enterprise with a revision counter; WatchRecordChanges streams changes after a revision."""

    records: dict[str, dict[str, rpb.CreditRecord]] = field(default_factory=dict)
    changes: list[rpb.RecordChange] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    closed: bool = False

    def put(self, uscc: str, record_id: str, item: str, at: datetime, version: int = 1, **fields: object) -> int:
        """Store a record (or a new version) and return its revision."""
        with self.cond:
            record = rpb.CreditRecord(
                name=f"enterprises/{uscc}/records/{record_id}",
                uscc=uscc,
                item_code=item,
                state=rpb.RECORD_STATE_CURRENT,
                version=version,
                fields={k: value(v) for k, v in fields.items()},
            )
            record.event_time.FromDatetime(at)
            self.records.setdefault(uscc, {})[record_id] = record
            revision = len(self.changes) + 1
            self.changes.append(
                rpb.RecordChange(
                    revision=revision,
                    type=rpb.RECORD_CHANGE_TYPE_CREATED if version == 1 else rpb.RECORD_CHANGE_TYPE_VERSION_ADDED,
                    record=record,
                )
            )
            self.cond.notify_all()
            return revision

    def ListEnterpriseRecords(
        self, request: rpb.ListEnterpriseRecordsRequest, context: grpc.ServicerContext
    ) -> rpb.ListEnterpriseRecordsResponse:
        uscc = request.parent.removeprefix("enterprises/")
        with self.cond:
            rows = list(self.records.get(uscc, {}).values())
            # As the registry of this release answers: its records' publicity ends are known (none set here means
            # none ends); an older registry's listing, without the flag, is re-read by scoring's daily re-check.
            return rpb.ListEnterpriseRecordsResponse(records=rows, revision=len(self.changes), publicity_known=True)

    def WatchRecordChanges(
        self, request: rpb.WatchRecordChangesRequest, context: grpc.ServicerContext
    ) -> Iterator[rpb.WatchRecordChangesResponse]:
        with self.cond:
            seen = request.start_revision or len(self.changes)
        yield rpb.WatchRecordChangesResponse(revision=seen)
        while context.is_active() and not self.closed:
            with self.cond:
                self.cond.wait_for(lambda s=seen: len(self.changes) > s or self.closed, 1.0)
                batch = self.changes[seen:]
            if batch:
                seen += len(batch)
                yield rpb.WatchRecordChangesResponse(changes=batch, revision=seen)
            else:
                yield rpb.WatchRecordChangesResponse(revision=seen)


@dataclass
class FakeConsent(cgrpc.ConsentServiceServicer):
    """ALLOW for (requester, enterprise) pairs granted POST_LOAN_MONITORING here, with the pair's ``data_since`` when
    one is set; DENY otherwise."""

    granted: set[tuple[str, str]] = field(default_factory=set)
    data_since: dict[tuple[str, str], datetime] = field(default_factory=dict)
    checks: int = 0

    def CheckAuthorization(
        self, request: cpb.CheckAuthorizationRequest, context: grpc.ServicerContext
    ) -> cpb.CheckAuthorizationResponse:
        self.checks += 1
        pair = (request.requester, request.enterprise)
        ok = request.purpose == "POST_LOAN_MONITORING" and pair in self.granted
        response = cpb.CheckAuthorizationResponse(decision=cpb.DECISION_ALLOW if ok else cpb.DECISION_DENY)
        if ok and pair in self.data_since:
            response.data_since.FromDatetime(self.data_since[pair])
        return response


@dataclass
class Fakes:
    records: FakeRecords
    consent: FakeConsent
    server: grpc.Server
    address: str

    def stop(self) -> None:
        with self.records.cond:
            self.records.closed = True
            self.records.cond.notify_all()
        self.server.stop(0)


def start_fakes() -> Fakes:
    records, consent = FakeRecords(), FakeConsent()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    rgrpc.add_RecordServiceServicer_to_server(records, server)
    cgrpc.add_ConsentServiceServicer_to_server(consent, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return Fakes(records, consent, server, f"127.0.0.1:{port}")


def scoring_settings(database_url: str, var_dir: Path, registry_addr: str, fakes: Fakes) -> ScoringSettings:
    """A scoring service over a real registry, with records and consent from the fakes (quick watch reconnects)."""
    return ScoringSettings(
        listen_addr="127.0.0.1:0",
        database_url=database_url,
        var_dir=var_dir,
        registry_addr=registry_addr,
        records_addr=fakes.address,
        consent_addr=fakes.address,
        watch_max_backoff_seconds=0.5,
    )


def now() -> datetime:
    return datetime.now(UTC)
