"""Group ``gateway``: an authorized credit report through the whole path (gateway -> consent cache -> consent use
record -> registry records -> disclosure log) against the bare echo server, and the disclosure log's cost.

Real registry, consent and gateway processes on SQLite. The gateway runs in its insecure development mode (plaintext,
identity from metadata) so the comparison with the plaintext echo server measures the gateway's work, not TLS.
Every request carries the same request_id, so consent records one use and answers the rest as idempotent retries:
the consent hop is still made on every request.

Where the work goes: each service process's CPU time (user + system) over the runs at concurrency 16, per report
answered, with the disclosure log on (the gateway, its writer process, consent, the registry) and off (the gateway).
On a machine whose cores are all busy, a process's CPU per report bounds the throughput as much as its own speed.
"""

from __future__ import annotations

import secrets
import tempfile
import time
from pathlib import Path

import grpc
import psutil

from bench.figures import Figure
from bench.load import LoadResult, drive, echo_baseline, median_of
from creditnode.consent.v1 import consent_service_pb2_grpc as consent_grpc
from creditnode.gateway.v1 import gateway_service_pb2 as gw
from creditnode.gateway.v1 import gateway_service_pb2_grpc as gw_grpc
from tests.gateway_support import running_node

REPORT = "/creditnode.gateway.v1.GatewayService/GetCreditReport"
META = (("x-creditnode-platform", "platforms/xian"),)
ROUNDS = 3
SECONDS = 3.0


class _CpuMeter:
    """CPU seconds of named processes accumulated over measured runs, and the reports those runs answered."""

    def __init__(self, processes: dict[str, list[psutil.Process]]) -> None:
        self.processes = processes
        self.seconds = dict.fromkeys(processes, 0.0)
        self.reports = 0.0

    def _now(self) -> dict[str, float]:
        return {name: sum(sum(p.cpu_times()[:2]) for p in procs) for name, procs in self.processes.items()}

    def drive(self, target: str, payload: bytes) -> LoadResult:
        before = self._now()
        result = drive(target, REPORT, payload, metadata=META, seconds=SECONDS)
        after = self._now()
        for name in self.seconds:
            self.seconds[name] += after[name] - before[name]
        self.reports += result.qps * SECONDS
        return result

    def figures(self, prefix: str) -> list[Figure]:
        return [
            Figure.reported(f"{prefix}.{name}", seconds / self.reports * 1e6, "us")
            for name, seconds in self.seconds.items()
        ]


def _wait_authorized(address: str, request: gw.GetCreditReportRequest, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(address) as ch:
        stub = gw_grpc.GatewayServiceStub(ch)
        while time.monotonic() < deadline:
            try:
                resp = stub.GetCreditReport(request, metadata=META, timeout=5)
                if any(r.record.item_code == "TAX_PAYMENT" for r in resp.records):
                    return
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise RuntimeError("the gateway never released the authorized item")


def run() -> list[Figure]:
    env = {"GATEWAY_INSECURE_DEV": "true", "QUOTA_REQUESTS_PER_MINUTE": "0", "QUOTA_ENTERPRISES_PER_DAY": "0"}
    with (
        tempfile.TemporaryDirectory() as tmp,
        running_node(Path(tmp), f"sqlite:///{tmp}/gw.db", full=False, **env) as node,
    ):
        with grpc.insecure_channel(node.consent_address) as ch:
            consent_grpc.ConsentServiceStub(ch).GrantAuthorization(
                node.enterprise.grant("platforms/xian", items=("TAX_PAYMENT",), max_uses=10), timeout=10
            )
        request = gw.GetCreditReportRequest(
            enterprise=node.enterprise.name,
            purpose="PRE_LOAN",
            item_codes=["REG_BASIC", "TAX_PAYMENT"],
            request_id=secrets.token_hex(8),
        )
        payload = request.SerializeToString()
        on = node.gateway.address
        _wait_authorized(on, request)
        off_process = node.start_gateway("gw-audit-off", f"sqlite:///{tmp}/gw-off.db", GATEWAY_AUDIT="false")
        off = off_process.address
        _wait_authorized(off, request)
        services = {p.name: psutil.Process(p.proc.pid) for p in node.procs if p.name != "gateway"}
        gateway = psutil.Process(node.gateway.proc.pid)
        cpu_on = _CpuMeter(
            {
                "gateway": [gateway],
                "writer": gateway.children(recursive=True),  # the disclosure log's writer (and its resource tracker)
                "consent": [services["consent"]],
                "registry": [services["registry"]],
            }
        )
        cpu_off = _CpuMeter({"gateway": [psutil.Process(off_process.proc.pid)]})
        echoes, echoes1, reports, reports1, audit_off = [], [], [], [], []
        for _ in range(ROUNDS):  # interleaved, so drift on a shared machine hits all alike
            echoes.append(echo_baseline("sync"))
            reports.append(cpu_on.drive(on, payload))
            audit_off.append(cpu_off.drive(off, payload))
            echoes1.append(echo_baseline("sync", concurrency=1))
            reports1.append(drive(on, REPORT, payload, concurrency=1, metadata=META))
        echo, report, report_off = median_of(echoes), median_of(reports), median_of(audit_off)
        echo1, report1 = median_of(echoes1), median_of(reports1)
    _check(report, report_off, report1)
    return [
        Figure.at_least("gateway.report_qps_ratio", report.qps / echo.qps, "ratio", 0.30, baseline=echo.qps),
        Figure.at_most(
            "gateway.report_p50_over_echo_p50", report1.p50_ms / echo1.p50_ms, "ratio", 3, baseline=echo1.p50_ms
        ),
        Figure.at_least(
            "gateway.audit_on_off_ratio", report.qps / report_off.qps, "ratio", 0.9, baseline=report_off.qps
        ),
        Figure.reported("gateway.report_qps", report.qps, "req/s"),
        Figure.reported("gateway.report_p50_ms_c1", report1.p50_ms, "ms"),
        Figure.reported("gateway.report_p99_ms", report.p99_ms, "ms"),
        *cpu_on.figures("gateway.cpu_us_per_report"),
        *cpu_off.figures("gateway.cpu_us_per_report_audit_off"),
    ]


def _check(*results: LoadResult) -> None:
    errors = sum(r.errors for r in results)
    if errors:
        raise RuntimeError(f"{errors} gateway calls failed during the benchmark")
