"""Personal data never leaks into logs, traces, metrics or errors.

The whole node runs as processes (registry, consent, scoring, objection, gateway) with DEBUG logs, every span
exported over OTLP to an in-memory collector and Prometheus metrics on a port per process. Personal values made for
this run (names, resident ID numbers, mobiles, bank cards, addresses) go through every path that carries them:
records ingested with personal fields (batch and stream, registered and parked), reports and self-queries, consent
grants, objections and statements. Then the same values go where they do not belong (a USCC, a request id, a stream
id, an item code, a page token, a resource name, metadata), so that validation fails, and into the user agent and
the trace headers (tracestate, baggage) of a platform's software. Afterwards every log line,
every span, every metrics page and everything each failed call told the client is searched for each value in any
spelling (full-width digits, separators, lower-case x, escaped text). A finding names the surface and the place."""

from __future__ import annotations

import base64
import json
import secrets
import time
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf.timestamp_pb2 import Timestamp

from creditnode.consent.v1 import consent_service_pb2 as cpb
from creditnode.consent.v1 import consent_service_pb2_grpc as cgrpc
from creditnode.gateway.v1 import gateway_service_pb2 as gw
from creditnode.gateway.v1 import gateway_service_pb2_grpc as gw_grpc
from creditnode.objection.v1 import objection_service_pb2 as ob
from creditnode.objection.v1 import objection_service_pb2_grpc as ob_grpc
from creditnode.registry.v1 import records_pb2 as rec
from creditnode.registry.v1 import records_pb2_grpc as rec_grpc
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from creditnode.scoring.v1 import scoring_service_pb2 as sc
from creditnode.scoring.v1 import scoring_service_pb2_grpc as sc_grpc
from services.gateway.client_lib import SelfQuerySigner
from tests import gateway_support
from tests.conftest import free_port
from tests.consent_support.signing import ts
from tests.e2e.telemetry_support import (
    ClientErrors,
    Seeds,
    SpanCollector,
    TraceEveryCall,
    full_width,
    log_texts,
    metrics_texts,
    otlp_receiver,
    spaced,
)
from tests.gateway_support import ID_NUMBER, PERSON, PHONE, Node, running_node, signed_objection
from tests.processes import ServiceProcess
from tests.registry_helpers import RegistryClient, random_uscc

SERVICES = {"registry", "consent", "scoring", "objection", "gateway"}
DEPARTMENT = "x-creditnode-department"


@pytest.fixture
def collector() -> Iterator[tuple[SpanCollector, str]]:
    received = SpanCollector()
    with otlp_receiver(received) as endpoint:
        yield received, endpoint


def test_no_personal_data_in_logs_spans_metrics_or_client_errors(
    collector: tuple[SpanCollector, str], tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    received, endpoint = collector
    # The node's own fixture records carry constant personal values: they must not leak either.
    seeds = Seeds.generate(extra={"fixture-name": PERSON, "fixture-id": ID_NUMBER, "fixture-phone": PHONE})
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "100")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    started: list[tuple[ServiceProcess, int]] = []
    start_service = gateway_support.start_service

    def start_with_metrics(name: str, port: int, log_dir: Path, env: dict[str, str]) -> ServiceProcess:
        metrics_port = free_port()
        proc = start_service(name, port, log_dir, {**env, "METRICS_PORT": str(metrics_port)})
        started.append((proc, metrics_port))
        return proc

    monkeypatch.setattr(gateway_support, "start_service", start_with_metrics)
    errors = ClientErrors()
    pages: dict[str, str] = {}
    with running_node(tmp_path, database_url) as node:
        _drive(node, seeds, errors)
        # Each call's spans are exported (the batch processor sends every 100 ms): wait for them all, so that none
        # of what is searched below is missing.
        deadline = time.monotonic() + 60
        while missing := {label for label, trace in errors.traces.items() if trace not in received.trace_ids()}:
            assert time.monotonic() < deadline, f"no span exported for {sorted(missing)}"
            time.sleep(0.2)
        for proc, metrics_port in started:
            url = f"http://127.0.0.1:{metrics_port}/metrics"
            pages[f"{proc.name}@{proc.address}"] = urllib.request.urlopen(url, timeout=10).read().decode()
    # Every process has stopped on SIGTERM: its log lines are written and its spans exported at exit.
    logs = {f"{proc.name}@{proc.address}": proc.log_path.read_text(errors="replace") for proc, _ in started}

    # The surfaces were really there, so that finding nothing means something.
    assert {proc.name for proc, _ in started} == SERVICES
    for where, text in logs.items():
        assert '"event":"rpc"' in text.replace(" ", ""), f"no per-RPC log lines from {where}"
    assert {f"creditnode-{s}" for s in SERVICES} <= received.services(), received.services()
    assert any(s.status.message for _, s in received.spans), "no span carried an error description"
    for where, body in pages.items():
        assert "creditnode_rpc_requests_total" in body, f"no RPC metrics from {where}"
    assert len(errors.failed) >= 60, errors.failed
    assert set(errors.failed) <= set(errors.traces), "a failed call went out untraced"

    leaks: list[str] = []
    for name, raw in logs.items():
        for where, text in log_texts(name, raw):
            leaks += seeds.leaks(where, text)
    for where, text in received.texts():
        leaks += seeds.leaks(where, text)
    for name, body in pages.items():
        for where, text in metrics_texts(name, body):
            leaks += seeds.leaks(where, text)
    for where, text in errors.texts:
        leaks += seeds.leaks(where, text)
    assert not leaks, f"{len(leaks)} personal values found:\n" + "\n".join(leaks)


# ---------------------------------------------------------------------------------------------------- the traffic


def _drive(node: Node, seeds: Seeds, errors: ClientErrors) -> None:
    # Every call goes out under a trace of its own, so that its spans can be waited for.
    tracer = TraceEveryCall(errors)
    node.registry = RegistryClient(grpc.intercept_channel(node.registry.channel, tracer))
    for caller in node.callers.values():
        caller.stub = gw_grpc.GatewayServiceStub(grpc.intercept_channel(caller.channel, tracer))
    record = _ingest(node, seeds, errors)
    _registry_reads(node, seeds, errors)
    _consent(node, seeds, errors)
    _reports(node, seeds, errors)
    _objections(node, seeds, errors, record)
    _scoring(node, seeds, errors)
    _user_agent(node, seeds, errors, tracer)


def _user_agent(node: Node, s: Seeds, errors: ClientErrors, tracer: TraceEveryCall) -> None:
    """Calls whose user agent, free text a platform's software chooses, names its user and carries numbers; so do
    their W3C ``tracestate`` and ``baggage`` headers."""
    agent = ("grpc.primary_user_agent", f"loan-app/2.1 ({s['name-3']}; {s['id-3']}; {s['phone-2']}; {s['email-1']})")
    # Valid members (a key, then printable ASCII without "," or "="): an invalid header would be ignored anyway.
    headers = (("tracestate", f"loanapp=id.{s['id-3']}.ph.{s['phone-2']}"), ("baggage", f"phone={s['phone-2']}"))
    xian = node.callers["xian"]
    creds = grpc.ssl_channel_credentials(node.pki.ca_pem, xian.key, xian.cert)
    options = [("grpc.ssl_target_name_override", "localhost"), agent]
    with (
        grpc.secure_channel(node.gateway.address, creds, options=options) as gateway,
        grpc.insecure_channel(node.registry_address, options=[agent]) as registry,
    ):
        stub = gw_grpc.GatewayServiceStub(grpc.intercept_channel(gateway, tracer))
        request = gw.GetCreditReportRequest(
            enterprise=node.enterprise.name,
            purpose="PRE_LOAN",
            request_id=secrets.token_hex(8),
            item_codes=["REG_BASIC"],
        )
        reg = RegistryClient(grpc.intercept_channel(registry, tracer)).registry
        get = rs_pb.GetEnterpriseRequest(name=node.enterprise.name)
        calls: list[tuple[str, Callable[[], object]]] = [
            (
                "GetCreditReport, personal values in the user agent and trace headers",
                lambda: stub.GetCreditReport(request, timeout=10, metadata=headers),
            ),
            (
                "GetEnterprise, personal values in the user agent and trace headers",
                lambda: reg.GetEnterprise(get, timeout=10, metadata=headers),
            ),
        ]
        for label, call in calls:
            # answered: the spans searched are those of calls served in full
            assert errors.call(label, call) is not None, label


def _when(at: datetime) -> Timestamp:
    return ts(at)


def _fields(values: dict[str, Any]) -> dict[str, rec.FieldValue]:
    return {k: gateway_support._value(v) for k, v in values.items()}


def _record(seq: int, item: str, uscc: str, fields: dict[str, Any], **kw: Any) -> rec.IngestRecord:
    return rec.IngestRecord(
        sequence=seq,
        item_code=item,
        source_record_id=kw.pop("source_record_id", f"{item.lower()}-{secrets.token_hex(6)}"),
        source_version=1,
        uscc=uscc,
        event_time=_when(datetime.now(UTC) - timedelta(hours=1)),
        fields=_fields(fields),
        **kw,
    )


def _basic(s: Seeds, **override: Any) -> dict[str, Any]:
    from datetime import date
    from decimal import Decimal

    values: dict[str, Any] = {
        "enterprise_name": "陕西遥测科技有限公司",
        "established_on": date(2016, 5, 4),
        "registered_capital_yuan": Decimal("2000000.00"),
        "industry_code": "I6510",
        "enterprise_type": "有限责任公司",
        "status": "ACTIVE",
        "region_code": "610113",
        "registered_address": s["address-1"],
        "legal_representative": s["name-1"],
        "legal_rep_id_number": s["id-1"],
        "contact_phone": s["phone-1"],
    }
    values.update(override)
    return {k: v for k, v in values.items() if v is not None}


def _personal_records(s: Seeds, uscc: str) -> list[tuple[str, rec.IngestRecord]]:
    """One record of every sharing-list item with personal fields, each field holding a seeded value."""
    from datetime import date
    from decimal import Decimal

    today = datetime.now(UTC).date()
    rows: list[tuple[str, str, dict[str, Any]]] = [
        ("sx-amr", "REG_BASIC", _basic(s)),
        (
            "sx-amr",
            "REG_CHANGE",
            {
                "change_item": "LEGAL_REPRESENTATIVE",
                "changed_on": today,
                "before_value": f"法定代表人{s['name-2']}，身份证{s['id-2']}，住址{s['address-2']}",
                "after_value": f"{s['name-3']} 手机{s['phone-2']} 银行卡{s['card-1']} 身份证{s['id-3']}",
            },
        ),
        (
            "sx-amr",
            "REG_ANNUAL_REPORT",
            {"year": today.year - 1, "submitted_on": today, "on_time": True, "contact_phone": s["phone-2"]}
            | {"email": s["email-1"], "employee_count": 12},
        ),
        (
            "sx-amr",
            "REG_EQUITY_PLEDGE",
            {
                "registration_number": f"DJ{secrets.token_hex(4)}",
                "registered_on": today,
                "pledged_equity_yuan": Decimal("100000.00"),
                "pledgor": s["name-2"],
                "pledgee": s["name-3"],
                "status": "VALID",
            },
        ),
        (
            "sx-tax",
            "TAX_ARREARS",
            {
                "tax_type": "增值税",
                "amount_yuan": Decimal("1200.00"),
                "announced_on": today,
                "cleared": False,
                "legal_representative": s["name-1"],
            },
        ),
        (
            "sx-tax",
            "TAX_MAJOR_VIOLATION",
            {
                "case_number": f"陕税稽〔2026〕{secrets.randbelow(999)}号",
                "case_nature": "虚开发票",
                "announced_on": today,
                "amount_yuan": Decimal("50000.00"),
                "responsible_person": s["name-2"],
            },
        ),
        (
            "sx-hrss",
            "HRSS_WAGE_ARREARS_LIST",
            {"decision_number": f"陕人社〔2026〕{secrets.randbelow(999)}号", "listed_on": today}
            | {"responsible_person": s["name-3"]},
        ),
        (
            "sx-court",
            "COURT_CONSUMPTION_RESTRICTION",
            {"case_number": f"(2026)陕01执{secrets.randbelow(9999)}号", "issued_on": date(2026, 1, 5)}
            | {"restricted_person": s["name-1"]},
        ),
    ]
    return [(dept, _record(1, item, uscc, fields)) for dept, item, fields in rows]


def _ingest(node: Node, s: Seeds, errors: ClientErrors) -> str:
    """Records with personal fields accepted (batch, stream, parked), then malformed ones; returns REG_BASIC's name."""
    stub = rec_grpc.RecordIngestionServiceStub(node.registry.channel)
    uscc = node.enterprise.uscc
    basic_name = ""
    for dept, record in _personal_records(s, uscc):
        result = stub.IngestBatch(
            rec.IngestBatchRequest(request_id=secrets.token_hex(8), records=[record]), metadata=((DEPARTMENT, dept),)
        ).results[0]
        assert result.outcome == rec.RECORD_OUTCOME_ACCEPTED, result
        if record.item_code == "REG_BASIC":
            basic_name = result.record

    # A stream from the market regulator: an enterprise not registered yet (parked) and the registered one.
    unregistered = random_uscc()
    streamed = [
        _record(1, "REG_BASIC", unregistered, _basic(s, legal_representative=s["name-3"], contact_phone=s["phone-2"])),
        _record(2, "REG_BASIC", uscc, _basic(s, legal_rep_id_number=s["id-2"], legal_representative=s["name-2"])),
    ]
    answer = stub.StreamRecords(
        iter([rec.StreamRecordsRequest(stream_id=f"amr-{secrets.token_hex(6)}", records=streamed)]),
        metadata=((DEPARTMENT, "sx-amr"),),
        timeout=30,
    )
    assert (answer.counts.parked, answer.counts.accepted) == (1, 1), answer

    # Personal values where they break the record: each must be rejected without being echoed.
    id_x = s["id-2"]
    bad = [
        _record(1, "REG_BASIC", uscc, _basic(s, legal_rep_id_number=full_width(s["id-1"]))),
        _record(2, "REG_BASIC", uscc, _basic(s, legal_rep_id_number=id_x[:-1] + "x")),
        _record(3, "REG_BASIC", uscc, _basic(s, legal_rep_id_number=spaced(s["id-3"], (6, 8)))),
        _record(4, "REG_BASIC", uscc, _basic(s, contact_phone=s["card-1"] + s["card-2"])),
        _record(5, "REG_BASIC", uscc, _basic(s, legal_representative=s["name-1"] * 20)),
        _record(6, "REG_BASIC", uscc, _basic(s, legal_representative=s["name-2"] + "\x07")),
        _record(7, "REG_BASIC", uscc, {**_basic(s), s["id-1"]: "x"}),
        _record(8, "REG_BASIC", uscc, {**_basic(s), s["name-1"]: s["phone-1"]}),
        _record(9, "REG_BASIC", uscc, {**_basic(s), spaced(s["phone-2"], (3, 4), "-"): "x"}),
        _record(10, "REG_BASIC", uscc, _basic(s, status=s["name-3"])),
        _record(11, "REG_BASIC", uscc, _basic(s, industry_code=s["phone-1"])),
        _record(12, "REG_BASIC", uscc, _basic(s, region_code=s["id-3"])),
        _record(13, "REG_BASIC", uscc, _basic(s, registered_capital_yuan=s["card-1"])),
        _record(14, "REG_BASIC", uscc, _basic(s, established_on=s["phone-2"])),
        _record(15, "REG_BASIC", s["id-1"], _basic(s)),
        _record(16, "REG_BASIC", full_width(s["id-2"]), _basic(s)),
        _record(17, s["id-3"], uscc, _basic(s)),
        _record(18, s["name-1"], uscc, _basic(s)),
        _record(19, "REG_ANNUAL_REPORT", uscc, {"year": s["phone-1"], "submitted_on": "x", "on_time": s["id-1"]}),
        _record(20, "TAX_ARREARS", uscc, _basic(s)),  # the wrong department for the item, and wrong fields
        _record(21, "REG_BASIC", uscc, _basic(s), source_record_id=s["id-1"] + s["card-1"] * 10),
    ]
    answer_batch = errors.call(
        "IngestBatch with malformed personal fields",
        lambda: stub.IngestBatch(
            rec.IngestBatchRequest(request_id=secrets.token_hex(8), records=bad), metadata=((DEPARTMENT, "sx-amr"),)
        ),
    )
    assert answer_batch is not None
    rejected = [r for r in answer_batch.results if r.outcome == rec.RECORD_OUTCOME_REJECTED]
    assert len(rejected) >= len(bad) - 2, answer_batch
    for r in rejected:
        errors.answer(f"IngestBatch record {r.sequence}", f"{r.message} field={r.field}")

    one = [_record(1, "REG_BASIC", uscc, _basic(s))]
    for label, request_id, dept in (
        ("IngestBatch, an ID number as request_id", s["id-1"] * 4, "sx-amr"),
        ("IngestBatch, a full-width ID number as request_id", full_width(s["id-2"]) * 4, "sx-amr"),
        ("IngestBatch, a lower-case x ID number as department", secrets.token_hex(4), s["id-2"].lower()),
        ("IngestBatch, an ID number as department", secrets.token_hex(4), s["id-3"]),
        ("IngestBatch, a spaced mobile as department", secrets.token_hex(4), spaced(s["phone-1"], (3, 4))),
    ):
        errors.call(
            label,
            lambda r=request_id, d=dept: stub.IngestBatch(
                rec.IngestBatchRequest(request_id=r, records=one), metadata=((DEPARTMENT, d),)
            ),
        )
    for label, stream_id in (
        ("StreamRecords, an ID number as stream_id", s["id-1"]),
        ("StreamRecords, a name as stream_id", s["name-2"] + "\x01"),
        ("StreamRecords, a long stream_id with a card number", s["card-1"] * 20),
        ("StreamRecords, full-width ID number as stream_id", full_width(s["id-3"]) * 10),
    ):
        answer = errors.call(
            label,
            lambda i=stream_id: stub.StreamRecords(
                iter([rec.StreamRecordsRequest(stream_id=i, records=bad[:6])]),
                metadata=((DEPARTMENT, "sx-amr"),),
                timeout=30,
            ),
        )
        for r in answer.results if answer is not None else ():
            errors.answer(f"{label}, record {r.sequence}", f"{r.message} field={r.field}")
        errors.call(
            f"GetStreamPosition, {label}",
            lambda i=stream_id: stub.GetStreamPosition(
                rec.GetStreamPositionRequest(stream_id=i), metadata=((DEPARTMENT, "sx-amr"),)
            ),
        )
    errors.call(
        "StreamRecords, stream_id changed to an ID number",
        lambda: stub.StreamRecords(
            iter(
                [
                    rec.StreamRecordsRequest(stream_id=secrets.token_hex(4), records=[]),
                    rec.StreamRecordsRequest(stream_id=s["id-2"], records=[]),
                ]
            ),
            metadata=((DEPARTMENT, "sx-amr"),),
            timeout=30,
        ),
    )
    assert basic_name
    return basic_name


def _token(value: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"a": value, "q": "0" * 16}).encode()).decode()


def _registry_reads(node: Node, s: Seeds, errors: ClientErrors) -> None:
    records = rec_grpc.RecordServiceStub(node.registry.channel)
    registry = node.registry.registry
    uscc = node.enterprise.uscc
    calls: list[tuple[str, Callable[[], object]]] = [
        (
            "ListEnterpriseRecords, an ID number as parent",
            lambda: records.ListEnterpriseRecords(rec.ListEnterpriseRecordsRequest(parent=f"enterprises/{s['id-1']}")),
        ),
        (
            "ListEnterpriseRecords, an ID number as page token",
            lambda: records.ListEnterpriseRecords(
                rec.ListEnterpriseRecordsRequest(parent=f"enterprises/{uscc}", page_token=s["id-2"])
            ),
        ),
        (
            "ListEnterpriseRecords, a page token holding a name",
            lambda: records.ListEnterpriseRecords(
                rec.ListEnterpriseRecordsRequest(parent=f"enterprises/{uscc}", page_token=_token(s["name-1"]))
            ),
        ),
        (
            "ListEnterpriseRecords, a mobile as item code",
            lambda: records.ListEnterpriseRecords(
                rec.ListEnterpriseRecordsRequest(parent=f"enterprises/{uscc}", item_codes=[s["phone-1"], s["name-2"]])
            ),
        ),
        (
            "GetRecord, an ID number as record id",
            lambda: records.GetRecord(rec.GetRecordRequest(name=f"enterprises/{uscc}/records/{s['id-3']}")),
        ),
        (
            "GetRecord, a name as enterprise",
            lambda: records.GetRecord(rec.GetRecordRequest(name=f"enterprises/{s['name-3']}/records/x")),
        ),
        (
            "SetRecordDispute, a card number as objection",
            lambda: records.SetRecordDispute(
                rec.SetRecordDisputeRequest(name=f"enterprises/{uscc}/records/x", objection=f"objections/{s['card-1']}")
            ),
        ),
        (
            "GetEnterprise, an ID number as USCC",
            lambda: registry.GetEnterprise(rs_pb.GetEnterpriseRequest(name=f"enterprises/{s['id-1']}")),
        ),
        (
            "GetEnterprise, a full-width ID number as USCC",
            lambda: registry.GetEnterprise(rs_pb.GetEnterpriseRequest(name=f"enterprises/{full_width(s['id-2'])}")),
        ),
        (
            "RegisterEnterprise, an ID number as USCC",
            lambda: registry.RegisterEnterprise(
                rs_pb.RegisterEnterpriseRequest(
                    platform="platforms/xian", uscc=s["id-3"], display_name="个体户", public_key=b"\x01" * 32
                )
            ),
        ),
        (
            "RegisterEnterprise, a mobile as platform",
            lambda: registry.RegisterEnterprise(
                rs_pb.RegisterEnterpriseRequest(
                    platform=f"platforms/{s['phone-1']}", uscc=random_uscc(), display_name="x", public_key=b"\x01" * 32
                )
            ),
        ),
        (
            "ListEnterprises, a mobile as page token",
            lambda: registry.ListEnterprises(rs_pb.ListEnterprisesRequest(page_token=s["phone-2"])),
        ),
        (
            "GetPlatform, a mobile as platform id",
            lambda: registry.GetPlatform(rs_pb.GetPlatformRequest(name=f"platforms/{s['phone-1']}")),
        ),
        (
            "GetInstitution, an ID number as institution id",
            lambda: registry.GetInstitution(rs_pb.GetInstitutionRequest(name=f"institutions/{s['id-1']}")),
        ),
        (
            "GetDepartment, a name as department code",
            lambda: registry.GetDepartment(rs_pb.GetDepartmentRequest(name=f"departments/{s['name-1']}")),
        ),
        (
            "GetDepartment, a card number as department code",
            lambda: registry.GetDepartment(rs_pb.GetDepartmentRequest(name=f"departments/{s['card-2']}")),
        ),
    ]
    for label, call in calls:
        errors.call(label, call)


def _signed_grant(node: Node, requester: str, **kw: Any) -> gw.GrantAuthorizationRequest:
    return gw.GrantAuthorizationRequest(grant=node.enterprise.grant(requester, **kw))


def _consent(node: Node, s: Seeds, errors: ClientErrors) -> None:
    stub = node.callers["xian"].stub
    granted = stub.GrantAuthorization(
        _signed_grant(node, "platforms/xian", items=("TAX_PAYMENT", "REG_CHANGE")), timeout=10
    ).result.authorization.name
    assert granted
    e = node.enterprise
    grants: list[tuple[str, gw.GrantAuthorizationRequest]] = [
        ("a mobile as purpose", _signed_grant(node, "platforms/xian", purpose=s["phone-1"])),
        ("an ID number as item", _signed_grant(node, "platforms/xian", items=(s["id-1"],))),
        ("a name as item", _signed_grant(node, "platforms/xian", items=(s["name-2"],))),
        ("an ID number as requester", _signed_grant(node, f"institutions/{s['id-2']}")),
        ("a name as requester", _signed_grant(node, f"platforms/{s['name-3']}")),
        ("a mobile as key id", _signed_grant(node, "platforms/xian", key_id=s["phone-2"])),
        ("a full-width ID number as nonce", _signed_grant(node, "platforms/xian", nonce=full_width(s["id-3"]))),
        ("a card number as category", _signed_grant(node, "platforms/xian", categories=(s["card-1"],))),
    ]
    wrong_enterprise = _signed_grant(node, "platforms/xian")
    wrong_enterprise.grant.enterprise = f"enterprises/{s['id-1']}"
    grants.append(("an ID number as enterprise", wrong_enterprise))
    with_request_id = _signed_grant(node, "platforms/xian")
    with_request_id.grant.request_id = spaced(s["id-2"], (6, 8))
    grants.append(("a spaced ID number as request id", with_request_id))
    for label, request in grants:
        errors.call(f"GrantAuthorization, {label}", lambda r=request: stub.GrantAuthorization(r, timeout=10))
    for label, authorization in (
        ("an ID number as authorization", f"authorizations/{s['id-1']}"),
        ("a name as authorization", f"authorizations/{s['name-1']}"),
    ):
        errors.call(
            f"PauseAuthorization, {label}",
            lambda a=authorization: stub.PauseAuthorization(gw.PauseAuthorizationRequest(pause=e.pause(a)), timeout=10),
        )
        errors.call(
            f"RevokeAuthorization, {label}",
            lambda a=authorization: stub.RevokeAuthorization(
                gw.RevokeAuthorizationRequest(revoke=e.revoke(a)), timeout=10
            ),
        )

    # Consent's own API, as the gateway and operators reach it.
    with grpc.insecure_channel(node.consent_address) as channel:
        consent = cgrpc.ConsentServiceStub(grpc.intercept_channel(channel, TraceEveryCall(errors)))
        check = cpb.CheckAuthorizationRequest(
            requester="platforms/xian", enterprise=e.name, purpose="PRE_LOAN", items=["TAX_PAYMENT"]
        )
        bad_check = cpb.CheckAuthorizationRequest(
            requester=f"platforms/{s['phone-1']}",
            enterprise=f"enterprises/{s['id-1']}",
            purpose=s["name-1"],
            items=[s["id-2"], s["card-1"]],
            request_id=s["id-3"],
        )
        calls: list[tuple[str, Callable[[], object]]] = [
            ("CheckAuthorization, personal values everywhere", lambda: consent.CheckAuthorization(bad_check)),
            (
                "ListAuthorizations, an ID number as page token",
                lambda: consent.ListAuthorizations(
                    cpb.ListAuthorizationsRequest(enterprise=e.name, page_token=s["id-1"])
                ),
            ),
            (
                "ListAuthorizations, a name as enterprise",
                lambda: consent.ListAuthorizations(
                    cpb.ListAuthorizationsRequest(enterprise=f"enterprises/{s['name-2']}")
                ),
            ),
            (
                "GetAuthorization, a mobile as id",
                lambda: consent.GetAuthorization(cpb.GetAuthorizationRequest(name=f"authorizations/{s['phone-2']}")),
            ),
            (
                "ListAuthorizationUses, a page token holding an ID number",
                lambda: consent.ListAuthorizationUses(
                    cpb.ListAuthorizationUsesRequest(authorization=granted, page_token=_token(s["id-3"]))
                ),
            ),
            (
                "ListAuthorizationEvents, an ID number as authorization",
                lambda: consent.ListAuthorizationEvents(
                    cpb.ListAuthorizationEventsRequest(authorization=f"authorizations/{s['id-2']}")
                ),
            ),
        ]
        for label, call in calls:
            errors.call(label, call)
        batch = errors.call(
            "BatchCheckAuthorizations, one good and one malformed",
            lambda: consent.BatchCheckAuthorizations(cpb.BatchCheckAuthorizationsRequest(requests=[check, bad_check])),
        )
        assert batch is not None
        assert batch.results[1].HasField("error"), batch
        for i, result in enumerate(batch.results):
            if result.HasField("error"):
                error = result.error
                errors.answer(f"BatchCheckAuthorizations result {i}", f"{error.message} {dict(error.metadata)}")


def _report(node: Node, **kw: Any) -> gw.GetCreditReportResponse:
    request = gw.GetCreditReportRequest(
        enterprise=kw.pop("enterprise", node.enterprise.name),
        purpose=kw.pop("purpose", "PRE_LOAN"),
        request_id=kw.pop("request_id", secrets.token_hex(8)),
        **kw,
    )
    response: gw.GetCreditReportResponse = node.callers["xian"].stub.GetCreditReport(request, timeout=10)
    return response


PERSONAL_ITEMS = [
    "REG_BASIC",
    "REG_CHANGE",
    "REG_ANNUAL_REPORT",
    "REG_EQUITY_PLEDGE",
    "TAX_ARREARS",
    "TAX_MAJOR_VIOLATION",
    "HRSS_WAGE_ARREARS_LIST",
    "COURT_CONSUMPTION_RESTRICTION",
]


def _reports(node: Node, s: Seeds, errors: ClientErrors) -> None:
    stub = node.callers["xian"].stub
    e = node.enterprise

    # Released masked to the platform, once the gateway's record cache has every seeded item.
    deadline = time.monotonic() + 60
    while True:
        released = _report(node, item_codes=PERSONAL_ITEMS)
        if {r.record.item_code for r in released.records} == set(PERSONAL_ITEMS):
            break
        assert time.monotonic() < deadline, f"never released: {released}"
        time.sleep(0.2)
    assert all(r.record.personal_data_masked for r in released.records)

    # The enterprise's own query returns them raw: the values really are in the node.
    self_query = stub.SelfQuery(SelfQuerySigner(e.name, e.key_id, e.key).sign(), timeout=10)
    raw = self_query.SerializeToString().decode(errors="replace")
    for label in ("name-1", "name-2", "name-3", "id-1", "id-2", "id-3", "phone-1", "phone-2", "card-1", "address-1"):
        assert s[label] in raw, f"{label} never reached the node"

    # Metadata is ASCII: a spaced mobile and a card number, as a caller's request id.
    x_request = [("x-request-id", spaced(s["phone-1"], (3, 4)) + " " + s["card-2"])]
    calls: list[tuple[str, Callable[[], object]]] = [
        ("GetCreditReport, an ID number as enterprise", lambda: _report(node, enterprise=f"enterprises/{s['id-1']}")),
        ("GetCreditReport, a bare ID number as enterprise", lambda: _report(node, enterprise=s["id-2"])),
        ("GetCreditReport, a mobile as purpose", lambda: _report(node, purpose=s["phone-1"], item_codes=["REG_BASIC"])),
        ("GetCreditReport, personal values as item codes", lambda: _report(node, item_codes=[s["id-3"], s["name-2"]])),
        (
            "GetCreditReport, a full-width ID number as request id",
            lambda: _report(node, item_codes=["REG_BASIC"], request_id=full_width(s["id-1"]) * 4),
        ),
        (
            "GetCreditReport, a card number as institution",
            lambda: _report(node, item_codes=["REG_BASIC"], institution=f"institutions/{s['card-1']}"),
        ),
        (
            "GetCreditReport, a name as on_behalf_of",
            lambda: _report(node, item_codes=["REG_BASIC"], on_behalf_of=f"platforms/{s['name-3']}"),
        ),
        (
            "GetCreditReport, a spaced mobile and a card number as x-request-id",
            lambda: stub.GetCreditReport(
                gw.GetCreditReportRequest(enterprise=e.name, purpose=s["phone-2"]), metadata=x_request, timeout=10
            ),
        ),
        (
            "SelfQuery, an ID number as item code",
            lambda: stub.SelfQuery(SelfQuerySigner(e.name, e.key_id, e.key).sign([s["id-1"]]), timeout=10),
        ),
        (
            "SelfQuery, a name as enterprise",
            lambda: stub.SelfQuery(SelfQuerySigner(f"enterprises/{s['name-1']}", e.key_id, e.key).sign(), timeout=10),
        ),
        (
            "SelfQuery, an ID number as key id",
            lambda: stub.SelfQuery(SelfQuerySigner(e.name, s["id-2"], e.key).sign(), timeout=10),
        ),
        (
            "GetEvaluation, an ID number as enterprise",
            lambda: stub.GetEvaluation(
                gw.GetEvaluationRequest(enterprise=f"enterprises/{s['id-3']}", purpose="PRE_LOAN"), timeout=10
            ),
        ),
        (
            "GetPortrait, a name as institution",
            lambda: stub.GetPortrait(
                gw.GetPortraitRequest(enterprise=e.name, purpose="PRE_LOAN", institution=f"institutions/{s['name-2']}"),
                timeout=10,
            ),
        ),
        (
            "GetEvidencePackage, personal values as case and loan",
            lambda: stub.GetEvidencePackage(
                gw.GetEvidencePackageRequest(
                    arbiter=f"institutions/{s['phone-1']}",
                    dispute_reference=f"{s['name-1']}{s['id-1']}",
                    enterprise=e.name,
                    lender="institutions/boc-xian",
                    loan_id=s["phone-2"],
                ),
                timeout=10,
            ),
        ),
        (
            "SubscribeRiskAlerts, an ID number as institution",
            lambda: list(
                stub.SubscribeRiskAlerts(
                    gw.SubscribeRiskAlertsRequest(institution=f"institutions/{s['id-2']}"), timeout=10
                )
            ),
        ),
        (
            "AckRiskAlerts, a card number as request id",
            lambda: stub.AckRiskAlerts(
                gw.AckRiskAlertsRequest(institution=f"institutions/{s['name-3']}", request_id=s["card-2"]), timeout=10
            ),
        ),
    ]
    for label, call in calls:
        errors.call(label, call)


def _objections(node: Node, s: Seeds, errors: ClientErrors, record: str) -> None:
    stub = node.callers["xian"].stub
    e = node.enterprise
    personal_text = (
        f"法定代表人{s['name-1']}（身份证号{s['id-1']}，手机{s['phone-1']}，住址{s['address-1']}）"
        f"从未担任该职务，请核实；退款请至银行卡{s['card-1']}，"
        f"联系人{s['name-2']}，电话{spaced(s['phone-2'], (3, 4), '-')}"
    )

    def objection(**kw: Any) -> gw.FileObjectionRequest:
        fields: dict[str, Any] = {
            "filer_kind": ob.FILER_KIND_ENTERPRISE,
            "filer": e.name,
            "enterprise": e.uscc,
            "records": [ob.RecordTarget(record=record, version=1)],
            "reasons": personal_text,
            "statement": f"本人{s['name-3']}，身份证{s['id-3']}，地址{s['address-2']}",
            "request_id": secrets.token_hex(8),
        }
        fields.update(kw)
        request = ob.FileObjectionRequest(**fields)
        request.receive_time.CopyFrom(ts(datetime.now(UTC) - timedelta(hours=1)))
        # Signed by the enterprise, so each malformed filing reaches the objection service's checks too.
        return signed_objection(e, request)

    filed = stub.FileObjection(objection(), timeout=20).result.objection
    assert filed.name
    target = ob.Target(record=ob.RecordTarget(record=record, version=1))
    bad: list[tuple[str, gw.FileObjectionRequest]] = [
        ("an ID number as enterprise", objection(enterprise=s["id-1"])),
        ("a name as filer", objection(filer=f"enterprises/{s['name-1']}")),
        ("an ID number in the record name", objection(records=[ob.RecordTarget(record=f"{record}{s['id-2']}")])),
        ("an ID number as attachment digest", objection(attachment_sha256=[s["id-3"], s["card-1"]])),
        (
            "a mobile in the evaluation name",
            objection(records=[], evaluation=f"enterprises/{e.uscc}/evaluations/{s['phone-1']}"),
        ),
        ("reasons too long", objection(reasons=personal_text * 60)),
        ("statement too long", objection(statement=personal_text * 60)),
        ("reasons with a control character", objection(reasons=personal_text + "\x00")),
        ("a full-width ID number as request id", objection(request_id=full_width(s["id-1"]) * 4)),
        ("an institution filer with an ID number", objection(filer_kind=ob.FILER_KIND_INSTITUTION, filer=s["id-2"])),
    ]
    for label, request in bad:
        errors.call(f"FileObjection, {label}", lambda r=request: stub.FileObjection(r, timeout=20))
    errors.call(
        "GetObjection, an ID number as id",
        lambda: stub.GetObjection(gw.GetObjectionRequest(name=f"objections/{s['id-1']}"), timeout=10),
    )

    # The department upholds the record and the enterprise attaches a statement full of personal data.
    objection_process = next(p for p in node.procs if p.name == "objection")
    with grpc.insecure_channel(objection_process.address) as channel:
        objections = ob_grpc.ObjectionServiceStub(grpc.intercept_channel(channel, TraceEveryCall(errors)))
        objections.AnswerObjection(
            ob.AnswerObjectionRequest(
                name=filed.name, department="departments/sx-amr", target=target, outcome=ob.OUTCOME_UPHELD
            ),
            timeout=20,
        )
        objections.AttachStatement(
            ob.AttachStatementRequest(name=filed.name, enterprise=e.uscc, target=target, statement=personal_text),
            timeout=20,
        )
        calls: list[tuple[str, Callable[[], object]]] = [
            (
                "AttachStatement, a statement too long",
                lambda: objections.AttachStatement(
                    ob.AttachStatementRequest(
                        name=filed.name, enterprise=e.uscc, target=target, statement=personal_text * 60
                    )
                ),
            ),
            (
                "AttachStatement, an ID number as enterprise",
                lambda: objections.AttachStatement(
                    ob.AttachStatementRequest(name=filed.name, enterprise=s["id-1"], target=target, statement="x")
                ),
            ),
            (
                "AnswerObjection, a name as department",
                lambda: objections.AnswerObjection(
                    ob.AnswerObjectionRequest(
                        name=filed.name, department=f"departments/{s['name-1']}", target=target, outcome=1
                    )
                ),
            ),
            (
                "ListObjections, an ID number as enterprise",
                lambda: objections.ListObjections(ob.ListObjectionsRequest(enterprise=s["id-2"])),
            ),
            (
                "ListObjections, a mobile as page token",
                lambda: objections.ListObjections(ob.ListObjectionsRequest(page_token=s["phone-1"])),
            ),
            (
                "GetObjection, a name as requester",
                lambda: objections.GetObjection(
                    ob.GetObjectionRequest(name=filed.name, requester=f"enterprises/{s['name-2']}")
                ),
            ),
            (
                "ListCorrectionNotices, an ID number as recipient",
                lambda: objections.ListCorrectionNotices(
                    ob.ListCorrectionNoticesRequest(recipient=f"platforms/{s['id-3']}")
                ),
            ),
        ]
        for label, call in calls:
            errors.call(label, call)

        def shown() -> bool:
            got = rec_grpc.RecordServiceStub(node.registry.channel).GetRecord(rec.GetRecordRequest(name=record))
            return personal_text in got.record.statements

        deadline = time.monotonic() + 60  # the statement travels through the objection service's outbox
        while not shown():
            assert time.monotonic() < deadline, "the statement never reached the registry"
            time.sleep(0.2)


def _scoring(node: Node, s: Seeds, errors: ClientErrors) -> None:
    stub = node.callers["xian"].stub
    e = node.enterprise
    scenario = {
        "version": f"v-{s['phone-1']}",
        "base": "basic-v1",
        "indicators": [{"code": s["id-1"], "weight": 0.5}, {"code": s["name-1"], "weight": 0.5}],
    }
    loan = sc.ReportLoanRequest(
        loan_id=s["phone-2"],
        institution="institutions/boc-xian",
        enterprise=f"enterprises/{s['id-2']}",
        amount_yuan=s["card-1"],
        term_months=12,
        security=sc.LOAN_SECURITY_CREDIT,
        granted_on=sc.CalendarDay(year=2026, month=11, day=1),
        request_id=s["id-3"],
    )
    calls: list[tuple[str, Callable[[], object]]] = [
        (
            "CreateScenarioModel, personal values as indicators",
            lambda: stub.CreateScenarioModel(
                gw.CreateScenarioModelRequest(
                    model=sc.CreateScenarioModelRequest(
                        institution="institutions/boc-xian",
                        scenario_id="personal",
                        document=yaml.safe_dump(scenario, allow_unicode=True),
                        request_id=secrets.token_hex(4),
                    )
                ),
                timeout=10,
            ),
        ),
        (
            "CreateScenarioModel, a name as base",
            lambda: stub.CreateScenarioModel(
                gw.CreateScenarioModelRequest(
                    model=sc.CreateScenarioModelRequest(
                        institution="institutions/boc-xian",
                        scenario_id="named-base",
                        document=yaml.safe_dump({**scenario, "base": s["name-2"]}, allow_unicode=True),
                    )
                ),
                timeout=10,
            ),
        ),
        *(
            (
                f"CreateScenarioModel, a personal value as YAML {label}",
                lambda d=document: stub.CreateScenarioModel(
                    gw.CreateScenarioModelRequest(
                        model=sc.CreateScenarioModelRequest(
                            institution="institutions/boc-xian", scenario_id="bad-yaml", document=d
                        )
                    ),
                    timeout=10,
                ),
            )
            for label, document in (
                ("tag", f"version: !{s['id-1']} v1\nbase: basic-v1\n"),
                ("alias", f"version: *{s['card-1']}\nbase: basic-v1\n"),
                ("anchor", f"version: &{s['phone-1']} v1\nbase: &{s['phone-1']} basic-v1\n"),
            )
        ),
        (
            "CreateScenarioModel, a name as scenario id",
            lambda: stub.CreateScenarioModel(
                gw.CreateScenarioModelRequest(
                    model=sc.CreateScenarioModelRequest(
                        institution="institutions/boc-xian", scenario_id=s["name-2"], document="version: x"
                    )
                ),
                timeout=10,
            ),
        ),
        (
            "FitScenarioModel, an ID number named twice",
            lambda: stub.FitScenarioModel(
                gw.FitScenarioModelRequest(
                    fit=sc.FitScenarioModelRequest(
                        institution="institutions/boc-xian",
                        scenario_id="fit",
                        outcomes=[sc.Outcome(enterprise=f"enterprises/{s['id-1']}", bad=True)] * 2
                        + [sc.Outcome(enterprise=f"enterprises/{s['name-3']}")],
                    )
                ),
                timeout=10,
            ),
        ),
        (
            "ReportLoan, personal values as loan fields",
            lambda: stub.ReportLoan(gw.ReportLoanRequest(loan=loan), timeout=10),
        ),
    ]
    for label, call in calls:
        errors.call(label, call)
    scoring_process = next(p for p in node.procs if p.name == "scoring")
    with grpc.insecure_channel(scoring_process.address) as channel:
        scoring = sc_grpc.ScoringServiceStub(grpc.intercept_channel(channel, TraceEveryCall(errors)))
        direct: list[tuple[str, Callable[[], object]]] = [
            (
                "GetEvaluation, an ID number as enterprise",
                lambda: scoring.GetEvaluation(sc.GetEvaluationRequest(enterprise=f"enterprises/{s['id-1']}")),
            ),
            (
                "ListEvaluationHistory, a mobile as page token",
                lambda: scoring.ListEvaluationHistory(
                    sc.ListEvaluationHistoryRequest(enterprise=e.name, page_token=s["phone-1"])
                ),
            ),
            (
                "GetLoan, a mobile as loan id",
                lambda: scoring.GetLoan(sc.GetLoanRequest(name=f"loans/{s['phone-2']}")),
            ),
            (
                "GetEvaluationByName, an ID number as evaluation id",
                lambda: scoring.GetEvaluationByName(
                    sc.GetEvaluationByNameRequest(name=f"enterprises/{e.uscc}/evaluations/{s['id-2']}")
                ),
            ),
            (
                "ReEvaluate, a name as enterprise",
                lambda: scoring.ReEvaluate(sc.ReEvaluateRequest(enterprise=f"enterprises/{s['name-1']}")),
            ),
            (
                "AttachEvaluationStatement, a statement naming a person",
                lambda: scoring.AttachEvaluationStatement(
                    sc.AttachEvaluationStatementRequest(
                        name=f"enterprises/{e.uscc}/evaluations/{s['card-1']}",
                        objection="objections/x",
                        statement=f"{s['name-2']} {s['id-3']}",
                    )
                ),
            ),
        ]
        for label, call in direct:
            errors.call(label, call)
