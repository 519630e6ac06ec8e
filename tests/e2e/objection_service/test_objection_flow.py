"""The objection service as a real process next to a real registry process: filing, routing, a department's
correction, the dispute flag set and cleared in the registry, correction notices, and refused filings."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy import create_engine

from creditnode.common.v1 import error_reason_pb2 as ec_pb
from creditnode.objection.v1 import objection_service_pb2 as ob
from creditnode.objection.v1 import objection_service_pb2_grpc as ob_grpc
from creditnode.registry.v1 import records_pb2 as rec_pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_admin_service_pb2_grpc as admin_grpc
from services.kit.db import service_metadata
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.heads import NodeKey
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.schema import add_evidence_tables
from services.kit.evidence.servicer import register_evidence_log_service
from services.kit.server import RunningServer, ServerSpec
from services.kit.status import error_info
from tests.conftest import free_port, fresh_database
from tests.integration.registry.records_support import (
    as_department,
    create_departments,
    ingestion,
    records,
    tax_record,
    wire_record,
)
from tests.processes import ServiceProcess, start_service
from tests.registry_helpers import RegistryClient, ts

TAX = "departments/sx-tax"
BANK = "institutions/bank-a"
OTHER_BANK = "institutions/bank-b"
# The platform received the objections an hour before the test: well within clock 1.
RECEIVED = datetime.now(UTC) - timedelta(hours=1)


def _eventually(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Wait for background delivery (the outbox dispatcher); the bound is generous, not a timing claim."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.1)


class DisclosureLog:
    """Stands in for the gateway: a real evidence log with DISCLOSURE leaves, served over EvidenceLogService."""

    def __init__(self, tmp_path: Path) -> None:
        self.engine = create_engine(f"sqlite:///{tmp_path / 'disclosures.db'}")
        models = add_evidence_tables(service_metadata())
        models.metadata.create_all(self.engine)
        self.log = EvidenceLog(self.engine, models, origin="test/gateway", key=NodeKey.generate()).start()
        self.server = RunningServer(
            ServerSpec(
                name="disclosures",
                listen_addr="127.0.0.1:0",
                register=lambda server: register_evidence_log_service(server, self.log),
            )
        )

    def disclose(self, recipient: str, uscc: str, items: list[str], records: list[str] | None = None) -> None:
        """A leaf as the gateway writes it; ``records`` are record names (the leaf keeps their ids)."""
        payload: dict[str, Any] = {
            "type": "credit_report",
            "decision": "ALLOW",
            "requester": recipient,
            "enterprise": f"enterprises/{uscc}",
            "released": items,
        }
        if records is not None:
            payload["records"] = [name.rsplit("/", 1)[-1] for name in records]
        self.log.append(LeafKind.DISCLOSURE, payload)

    def close(self) -> None:
        self.server.stop(0)
        self.log.close()
        self.engine.dispose()


@pytest.fixture
def objection_database_url(tmp_path: Path) -> Iterator[str]:
    yield from fresh_database(tmp_path, "objection")


@pytest.fixture
def node(tmp_path: Path, database_url: str, objection_database_url: str) -> Iterator[dict[str, Any]]:
    disclosures = DisclosureLog(tmp_path)
    started: list[ServiceProcess] = []
    try:
        registry = start_service(
            "registry",
            free_port(),
            tmp_path,
            {"DATABASE_URL": database_url, "VAR_DIR": str(tmp_path / "registry"), "CA_AUTOCREATE": "true"},
        )
        started.append(registry)
        registry.wait_serving()
        objection = start_service(
            "objection",
            free_port(),
            tmp_path,
            {
                "DATABASE_URL": objection_database_url,
                "VAR_DIR": str(tmp_path / "objection"),
                "REGISTRY_ADDR": registry.address,
                # No scoring here: these objections are about records (re-evaluation requests wait for scoring).
                "SCORING_ADDR": "127.0.0.1:9",
                "GATEWAY_ADDR": disclosures.server.address,
                "DISPATCH_INTERVAL_SECONDS": "0.2",
                "SHARING_LIST_TTL_SECONDS": "0",
            },
        )
        started.append(objection)
        objection.wait_serving()
        with grpc.insecure_channel(registry.address) as rch, grpc.insecure_channel(objection.address) as och:
            yield {
                "registry": RegistryClient(rch),
                "objections": ob_grpc.ObjectionServiceStub(och),
                "disclosures": disclosures,
                "processes": started,
            }
    finally:
        for process in reversed(started):
            process.kill()
        disclosures.close()


def _ingest(client: RegistryClient, record: dict[str, Any]) -> str:
    response = ingestion(client.channel).IngestBatch(
        rec_pb.IngestBatchRequest(records=[wire_record(record, 1)]), metadata=as_department("sx-tax")
    )
    result = response.results[0]
    assert result.outcome == rec_pb.RECORD_OUTCOME_ACCEPTED, result
    return result.record


def _reason(err: pytest.ExceptionInfo[grpc.RpcError]) -> str:
    info = error_info(err.value)
    return info.reason if info else ""


def _file(objections: Any, **kw: Any) -> ob.FileObjectionResponse:
    request = ob.FileObjectionRequest(
        platform=kw.pop("platform"),
        filer_kind=kw.pop("filer_kind", ob.FILER_KIND_ENTERPRISE),
        reasons="the tax was paid in full",
        **kw,
    )
    request.receive_time.CopyFrom(ts(RECEIVED))
    result: ob.FileObjectionResponse = objections.FileObjection(request)
    return result


def test_a_correction_flows_from_filing_to_the_registry_and_to_recipients(node: dict[str, Any]) -> None:
    client: RegistryClient = node["registry"]
    objections = node["objections"]
    disclosures: DisclosureLog = node["disclosures"]
    create_departments(client)
    platform, _ = client.admitted_platform()
    acme, _ = client.enterprise(platform.name)
    other, _ = client.enterprise(platform.name)
    record = _ingest(client, tax_record(acme.uscc, 1))
    foreign = _ingest(client, tax_record(other.uscc, 2))
    neighbour = _ingest(client, tax_record(acme.uscc, 3))
    # Before the objection: BANK received the record to be disputed, OTHER_BANK only another one of the same item.
    disclosures.disclose(BANK, acme.uscc, ["TAX_PAYMENT"], [record, neighbour])
    disclosures.disclose(OTHER_BANK, acme.uscc, ["TAX_PAYMENT"], [neighbour])

    filer = f"enterprises/{acme.uscc}"
    filed = _file(
        objections,
        platform=platform.name,
        filer=filer,
        enterprise=acme.uscc,
        records=[ob.RecordTarget(record=record, version=1)],
        request_id="file-1",
    ).objection
    assert filed.status == ob.OBJECTION_STATUS_ROUTED
    assert filed.lines[0].department == TAX
    assert filed.forward_timeliness == ob.FORWARD_TIMELINESS_ON_TIME
    name = filed.name

    # The dispatcher sets the in-dispute flag in the registry.
    def flagged() -> bool:
        got = records(client.channel).GetRecord(rec_pb.GetRecordRequest(name=record)).record
        return any(d.objection == name for d in got.disputes)

    _eventually(flagged, "the dispute flag is set")

    # Refused filings.
    with pytest.raises(grpc.RpcError) as err:
        _file(
            objections,
            platform=platform.name,
            filer=filer,
            enterprise=acme.uscc,
            records=[ob.RecordTarget(record=foreign, version=1)],
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert _reason(err) == "ERROR_REASON_OBJECTION_TARGET_NOT_OWNED"
    unknown = f"enterprises/{acme.uscc}/records/no-such-record"
    with pytest.raises(grpc.RpcError) as err:
        _file(
            objections,
            platform=platform.name,
            filer=filer,
            enterprise=acme.uscc,
            records=[ob.RecordTarget(record=unknown, version=1)],
        )
    assert _reason(err) == "ERROR_REASON_OBJECTION_TARGET_NOT_OWNED"
    with pytest.raises(grpc.RpcError) as err:
        _file(
            objections,
            platform=platform.name,
            filer=filer,
            enterprise=acme.uscc,
            records=[ob.RecordTarget(record=record, version=1)],
        )
    assert err.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert _reason(err) == "ERROR_REASON_OBJECTION_DUPLICATE"
    with pytest.raises(grpc.RpcError) as err:
        _file(
            objections,
            platform=platform.name,
            filer_kind=ob.FILER_KIND_INSTITUTION,
            filer="institutions/never-received",
            enterprise=acme.uscc,
            records=[ob.RecordTarget(record=record, version=1)],
        )
    assert _reason(err) == "ERROR_REASON_OBJECTION_DATA_NEVER_RECEIVED"
    # A replay of the first filing returns it.
    again = _file(
        objections,
        platform=platform.name,
        filer=filer,
        enterprise=acme.uscc,
        records=[ob.RecordTarget(record=record, version=1)],
        request_id="file-1",
    ).objection
    assert again.name == name

    # Only the routed department answers.
    target = ob.Target(record=ob.RecordTarget(record=record, version=1))
    with pytest.raises(grpc.RpcError) as err:
        objections.AnswerObjection(
            ob.AnswerObjectionRequest(
                name=name, department="departments/sx-amr", target=target, outcome=ob.OUTCOME_UPHELD
            )
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert _reason(err) == "ERROR_REASON_OBJECTION_NOT_ROUTED_TO_CALLER"

    # The department delivers the corrected version, then answers CORRECTED.
    corrected = _ingest(client, tax_record(acme.uscc, 1, amount="0.00", source_version=2))
    assert corrected == record
    answered = objections.AnswerObjection(
        ob.AnswerObjectionRequest(
            name=name, department=TAX, target=target, outcome=ob.OUTCOME_CORRECTED, corrected_version=2
        )
    ).objection
    assert answered.status == ob.OBJECTION_STATUS_RESOLVED
    assert answered.lines[0].outcome == ob.OUTCOME_CORRECTED

    def cleared() -> bool:
        got = records(client.channel).GetRecord(rec_pb.GetRecordRequest(name=record)).record
        return not any(d.objection == name for d in got.disputes)

    _eventually(cleared, "the dispute flag is cleared")
    # The disputed content may not come back from the department, even under another source id ...
    again_sent = ingestion(client.channel).IngestBatch(
        rec_pb.IngestBatchRequest(records=[wire_record(tax_record(acme.uscc, 13), 1)]), metadata=as_department("sx-tax")
    )
    assert again_sent.results[0].outcome == rec_pb.RECORD_OUTCOME_REJECTED
    assert again_sent.results[0].reason == ec_pb.ERROR_REASON_RECORD_REINSERTED
    # ... and the department's own correction stays the current version: no duplicate version was made.
    assert records(client.channel).GetRecord(rec_pb.GetRecordRequest(name=record)).record.version == 2

    notices = objections.ListCorrectionNotices(ob.ListCorrectionNoticesRequest(recipient=BANK)).notices
    assert [n.objection for n in notices] == [name]
    assert notices[0].changes[0].outcome == ob.OUTCOME_CORRECTED
    assert not objections.ListCorrectionNotices(ob.ListCorrectionNoticesRequest(recipient=OTHER_BANK)).notices

    # The timeline is the enterprise's and the platform's to read, nobody else's.
    timeline = objections.GetObjection(ob.GetObjectionRequest(name=name, requester=filer)).objection.timeline
    kinds = [e.kind for e in timeline]
    assert kinds[0] == "RECEIVED_BY_PLATFORM"
    assert "ROUTED" in kinds
    assert kinds[-1] == "RESOLVED"
    assert objections.GetObjection(ob.GetObjectionRequest(name=name, requester=platform.name)).objection.name == name
    with pytest.raises(grpc.RpcError) as err:
        objections.GetObjection(ob.GetObjectionRequest(name=name, requester="platforms/someone-else"))
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED

    # Supervisors list with SLA figures.
    listing = objections.ListObjections(ob.ListObjectionsRequest(platform=platform.name))
    assert [o.name for o in listing.objections] == [name]
    assert listing.sla.objections == 1
    assert listing.sla.handled_on_time.part == 1


def test_a_late_forward_is_recorded_against_the_platform_in_the_registry(node: dict[str, Any]) -> None:
    client: RegistryClient = node["registry"]
    objections = node["objections"]
    create_departments(client)
    platform, _ = client.admitted_platform()
    acme, _ = client.enterprise(platform.name)
    record = _ingest(client, tax_record(acme.uscc, 5))
    request = ob.FileObjectionRequest(
        platform=platform.name,
        filer_kind=ob.FILER_KIND_ENTERPRISE,
        filer=f"enterprises/{acme.uscc}",
        enterprise=acme.uscc,
        records=[ob.RecordTarget(record=record, version=1)],
        reasons="never owed",
    )
    request.receive_time.CopyFrom(ts(datetime.now(UTC) - timedelta(days=12)))  # far beyond 2 working days
    filed = objections.FileObjection(request).objection
    assert filed.forward_timeliness == ob.FORWARD_TIMELINESS_LATE
    admin = admin_grpc.RegistryAdminServiceStub(client.channel)

    def recorded() -> bool:
        found = admin.ListPlatformBreaches(admin_pb.ListPlatformBreachesRequest(platform=platform.name)).breaches
        return [b.reference for b in found] == [filed.name]

    _eventually(recorded, "the breach is recorded in the registry")
    breach = admin.ListPlatformBreaches(admin_pb.ListPlatformBreachesRequest(platform=platform.name)).breaches[0]
    assert breach.kind == admin_pb.BREACH_KIND_OBJECTION_FORWARDED_LATE
    assert acme.uscc not in breach.detail


def test_an_upheld_record_shows_the_enterprises_statement_in_the_registry(node: dict[str, Any]) -> None:
    client: RegistryClient = node["registry"]
    objections = node["objections"]
    create_departments(client)
    platform, _ = client.admitted_platform()
    acme, _ = client.enterprise(platform.name)
    record = _ingest(client, tax_record(acme.uscc, 7))
    filed = _file(
        objections,
        platform=platform.name,
        filer=f"enterprises/{acme.uscc}",
        enterprise=acme.uscc,
        records=[ob.RecordTarget(record=record, version=1)],
    ).objection
    target = ob.Target(record=ob.RecordTarget(record=record, version=1))
    objections.AnswerObjection(
        ob.AnswerObjectionRequest(name=filed.name, department=TAX, target=target, outcome=ob.OUTCOME_UPHELD)
    )
    objections.AttachStatement(
        ob.AttachStatementRequest(
            name=filed.name, enterprise=acme.uscc, target=target, statement="该笔税款系分期缴纳，已按约履行"
        )
    )

    def shown() -> bool:
        got = records(client.channel).GetRecord(rec_pb.GetRecordRequest(name=record)).record
        return "该笔税款系分期缴纳，已按约履行" in got.statements

    _eventually(shown, "the statement is shown with the record")
