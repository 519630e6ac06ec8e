"""A mixed workload (ingestion, queries, grants, revocations, objections, evaluations) whose clients retry the same
request until it is answered, keeping a ledger of what was acknowledged for the checks after the faults."""

from __future__ import annotations

import itertools
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import grpc

from creditnode.gateway.v1 import gateway_service_pb2 as gw
from creditnode.gateway.v1 import gateway_service_pb2_grpc as gw_grpc
from creditnode.objection.v1 import objection_service_pb2 as ob
from creditnode.registry.v1 import records_pb2 as rec
from creditnode.registry.v1 import records_pb2_grpc as rec_grpc
from services.kit.status import error_info
from tests.consent_support.signing import Enterprise
from tests.gateway_support import _value, signed_objection
from tests.registry_helpers import ts
from tests.reliability.cluster import Cluster

RETRY = {
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.ABORTED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
    grpc.StatusCode.CANCELLED,
}
FAST_RECONNECT = [
    ("grpc.ssl_target_name_override", "localhost"),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
]
KINDS = ("ingest", "report", "grant", "revoke", "objection", "evaluation")
PAUSE = {"ingest": 0.05, "report": 0.02, "grant": 0.1, "revoke": 0.0, "objection": 0.3, "evaluation": 0.1}


@dataclass
class Receipt:
    sent: float  # when the answered attempt started
    received: float
    leaf_index: int
    payload_sha256: str
    request_id: str
    non_public: bool


@dataclass
class Ledger:
    """What every client sent and what was acknowledged."""

    ingested: dict[str, bool] = field(default_factory=dict)  # source_record_id -> acknowledged
    grants: dict[str, str] = field(default_factory=dict)  # valid_from key -> authorization id (acknowledged)
    grant_keys: set[str] = field(default_factory=set)  # every grant sent
    revoked: set[str] = field(default_factory=set)  # authorization ids whose Revoke was acknowledged
    objections: dict[str, bool] = field(default_factory=dict)  # reasons token -> acknowledged
    receipts: list[Receipt] = field(default_factory=list)
    report_attempts: list[tuple[float, float, str]] = field(default_factory=list)  # (started, answered, code)
    # (attempt started, answered) of every answered attempt, per kind
    successes: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: {k: [] for k in KINDS})
    retries: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    # What a service itself answered INTERNAL or UNKNOWN (it carries an ErrorInfo; a connection reset by a killed
    # process can show as INTERNAL too, but without one): a fault must be answered as one, UNAVAILABLE.
    server_errors: list[str] = field(default_factory=list)
    refused: dict[str, list[str]] = field(default_factory=lambda: {k: [] for k in KINDS})


class Workload:
    """One thread per kind; each operation is retried with the same request (same ids, same signature)."""

    def __init__(self, c: Cluster, ent: Enterprise, targets: list[tuple[str, int]]) -> None:
        assert c.pki is not None
        creds = grpc.ssl_channel_credentials(c.pki.ca_pem, c.certs["xian"][1], c.certs["xian"][0])
        bcreds = grpc.ssl_channel_credentials(c.pki.ca_pem, c.certs["baoji"][1], c.certs["baoji"][0])
        self.channels = [
            grpc.secure_channel(c.gateway.address, creds, options=FAST_RECONNECT),
            grpc.secure_channel(c.gateway.address, bcreds, options=FAST_RECONNECT),
            grpc.insecure_channel(c.services["registry"].address, options=FAST_RECONNECT[1:]),
        ]
        self.xian, self.baoji = (gw_grpc.GatewayServiceStub(ch) for ch in self.channels[:2])
        self.ingestion = rec_grpc.RecordIngestionServiceStub(self.channels[2])
        self.ent, self.targets = ent, list(targets)
        self.ledger = Ledger()
        self.stop = threading.Event()
        self.to_revoke: queue.Queue[str] = queue.Queue()
        self.report_rid = secrets.token_hex(8)
        self.eval_rid = secrets.token_hex(8)
        self.seq = itertools.count(1)
        self.base = (datetime.now(UTC) - timedelta(minutes=2)).replace(microsecond=0)
        self.threads = [threading.Thread(target=self._loop, args=(k,), daemon=True) for k in KINDS]

    def start(self) -> Workload:
        for t in self.threads:
            t.start()
        return self

    def finish(self) -> Ledger:
        self.stop.set()
        for t in self.threads:
            t.join(120)
        for ch in self.channels:
            ch.close()
        return self.ledger

    def _loop(self, kind: str) -> None:
        op: Callable[[], None] = getattr(self, f"_{kind}")
        while not self.stop.is_set():
            op()
            self.stop.wait(PAUSE[kind])

    def _retry(self, kind: str, call: Callable[[], Any], limit: float = 120.0) -> Any | None:
        """The call's answer, retried while the failure is transient; None when refused for good."""
        deadline = time.monotonic() + limit
        while True:
            attempt = time.monotonic()
            try:
                out = call()
                self.ledger.successes[kind].append((attempt, time.monotonic()))
                return out
            except grpc.RpcError as exc:
                if exc.code() not in RETRY:
                    self.ledger.refused[kind].append(f"{exc.code().name}: {exc.details()}")
                    self.ledger.successes[kind].append((attempt, time.monotonic()))  # answered: the path is up
                    return None
                if time.monotonic() > deadline:
                    self.ledger.refused[kind].append(f"gave up: {exc.code().name}")
                    return None
                self.ledger.retries[kind] += 1
                info = error_info(exc)
                if exc.code() in (grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN) and info is not None:
                    self.ledger.server_errors.append(f"{kind}: {exc.code().name} {info.reason}")
                time.sleep(0.1)

    def _ingest(self) -> None:
        n = next(self.seq)
        sid = f"rel-{secrets.token_hex(6)}"
        month = (datetime.now(UTC).replace(day=1) - timedelta(days=40 + n % 300)).replace(day=15, hour=4)
        fields = {"period": month.strftime("%Y-%m"), "tax_paid_yuan": Decimal(f"{n}.00")}
        req = rec.IngestBatchRequest(
            request_id=secrets.token_hex(8),
            records=[
                rec.IngestRecord(
                    sequence=1,
                    item_code="TAX_PAYMENT",
                    source_record_id=sid,
                    source_version=1,
                    uscc=self.ent.uscc,
                    event_time=ts(month),
                    fields={k: _value(v) for k, v in fields.items()},
                )
            ],
        )
        self.ledger.ingested[sid] = False
        resp = self._retry(
            "ingest",
            lambda: self.ingestion.IngestBatch(req, metadata=(("x-creditnode-department", "sx-tax"),), timeout=10),
        )
        ok = {rec.RECORD_OUTCOME_ACCEPTED, rec.RECORD_OUTCOME_DUPLICATE}
        if resp is not None and resp.results[0].outcome in ok:
            self.ledger.ingested[sid] = True

    def _report(self) -> None:
        req = gw.GetCreditReportRequest(
            enterprise=self.ent.name,
            purpose="PRE_LOAN",
            item_codes=["REG_BASIC", "TAX_PAYMENT"],
            request_id=self.report_rid,
        )
        sent = [0.0]

        def call() -> gw.GetCreditReportResponse:
            sent[0] = time.monotonic()
            code = "OK"
            try:
                resp: gw.GetCreditReportResponse = self.xian.GetCreditReport(req, timeout=10)
                return resp
            except grpc.RpcError as exc:
                code = exc.code().name
                raise
            finally:
                self.ledger.report_attempts.append((sent[0], time.monotonic(), code))

        resp = self._retry("report", call, limit=5)
        if resp is not None:
            non_public = any(r.record.item_code == "TAX_PAYMENT" for r in resp.records)
            receipt = resp.receipt
            self.ledger.receipts.append(
                Receipt(
                    sent[0], time.monotonic(), receipt.leaf_index, receipt.payload_sha256, self.report_rid, non_public
                )
            )

    def _grant(self) -> None:
        n = next(self.seq)
        start = self.base - timedelta(seconds=n)  # unique per grant: the key the duplicate check groups by
        key = start.isoformat()
        req = self.ent.grant("platforms/baoji", purpose="IN_LOAN", items=("TAX_PAYMENT",), max_uses=1, valid_from=start)
        self.ledger.grant_keys.add(key)
        resp = self._retry(
            "grant", lambda: self.baoji.GrantAuthorization(gw.GrantAuthorizationRequest(grant=req), timeout=10)
        )
        if resp is not None:
            auth = resp.result.authorization.name
            self.ledger.grants[key] = auth.rsplit("/", 1)[-1]
            self.to_revoke.put(auth)

    def _revoke(self) -> None:
        try:
            auth = self.to_revoke.get(timeout=0.5)
        except queue.Empty:
            return
        req = gw.RevokeAuthorizationRequest(revoke=self.ent.revoke(auth))
        if self._retry("revoke", lambda: self.baoji.RevokeAuthorization(req, timeout=30)) is not None:
            self.ledger.revoked.add(auth.rsplit("/", 1)[-1])

    def _objection(self) -> None:
        if not self.targets:
            self.stop.wait(0.5)
            return
        record, version = self.targets.pop()
        token = f"reliability objection {secrets.token_hex(8)}"
        body = ob.FileObjectionRequest(
            filer_kind=ob.FILER_KIND_ENTERPRISE,
            filer=self.ent.name,
            enterprise=self.ent.uscc,
            records=[ob.RecordTarget(record=record, version=version)],
            reasons=token,
            request_id=secrets.token_hex(8),
        )
        body.receive_time.CopyFrom(ts(datetime.now(UTC) - timedelta(hours=1)))
        self.ledger.objections[token] = False
        # Signed afresh on every try: a retry of the same signed request would be a replayed nonce.
        resp = self._retry("objection", lambda: self.xian.FileObjection(signed_objection(self.ent, body), timeout=10))
        if resp is not None:
            self.ledger.objections[token] = True

    def _evaluation(self) -> None:
        req = gw.GetEvaluationRequest(
            enterprise=self.ent.name, purpose="PRE_LOAN", institution="institutions/boc-xian", request_id=self.eval_rid
        )
        self._retry("evaluation", lambda: self.xian.GetEvaluation(req, timeout=10), limit=5)
