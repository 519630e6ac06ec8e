"""The Prometheus alert rules: promtool validates and unit-tests them, and they speak only the agreed metrics.

promtool comes from Debian's `prometheus` package (`apt-get install -y --no-install-recommends prometheus`);
a missing promtool fails these tests loudly, never skips them.
"""

from __future__ import annotations

import os
import re
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.unit.ops.tooling import REPO, render, run

MONITORING = REPO / "k8s" / "components" / "monitoring"
RULES = MONITORING / "creditnode-alerts.rules.yaml"
RULE_TESTS = sorted(MONITORING.glob("*.test.yaml"))
RUNBOOK = REPO / "docs" / "runbook.md"
PROMTOOL_INSTALL = (
    "apt-get update && apt-get install -y --no-install-recommends prometheus  (Debian: provides promtool)"
)

# The metrics the services export (services/kit/metrics.py and the lead's additions); rules may use no others.
METRICS = {
    "creditnode_rpc_requests_total",
    "creditnode_rpc_duration_seconds_bucket",
    "creditnode_watch_connected",
    "creditnode_watch_lag_seconds",
    "creditnode_ingest_late_records_total",
    "creditnode_objections_overdue",
    "creditnode_evidence_unsigned_leaves",
    "creditnode_evidence_signed_tree_head_age_seconds",
    "creditnode_calendar_next_year_loaded",
    "creditnode_objection_events_refused",
}
# What the operators asked to be alerted about, by alert name.
REQUIRED_ALERTS = {
    "CreditnodeObjectionsOverdue",
    "CreditnodeDepartmentLate",
    "CreditnodeWatchStreamDown",
    "CreditnodeEvidenceLogNotSigning",
    "CreditnodeHolidayCalendarMissing",
    "CreditnodeRpcErrorRateHigh",
}


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail(f"promtool is not installed; install it with: {PROMTOOL_INSTALL}", pytrace=False)
    return path


def alerts() -> list[dict[str, Any]]:
    doc = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    return [rule for group in doc["groups"] for rule in group["rules"] if "alert" in rule]


def anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, spaces to dashes."""
    text = heading.strip().lower()
    kept = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return kept.replace(" ", "-")


def test_promtool_accepts_the_rules_file() -> None:
    result = run([promtool(), "check", "rules", str(RULES)])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("test_file", RULE_TESTS, ids=lambda p: p.name)
def test_promtool_rule_unit_tests_pass(test_file: Path) -> None:
    result = run([promtool(), "test", "rules", test_file.name], cwd=MONITORING)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_exercised_firing_by_a_promtool_test() -> None:
    fired: set[str] = set()
    for test_file in RULE_TESTS:
        for case in yaml.safe_load(test_file.read_text(encoding="utf-8"))["tests"]:
            for check in case.get("alert_rule_test", []):
                if check.get("exp_alerts"):
                    fired.add(check["alertname"])
    assert {rule["alert"] for rule in alerts()} <= fired


def test_the_requested_alerts_exist() -> None:
    assert {rule["alert"] for rule in alerts()} >= REQUIRED_ALERTS


def test_rules_use_only_the_agreed_metrics_and_every_agreed_metric_is_watched() -> None:
    used: set[str] = set()
    for rule in alerts():
        names = set(re.findall(r"\bcreditnode_[a-z_]+", rule["expr"]))
        assert names, f"{rule['alert']} reads no creditnode metric"
        assert names <= METRICS, f"{rule['alert']} reads unknown metrics {sorted(names - METRICS)}"
        used |= names
    assert used == METRICS


def test_every_alert_has_severity_summary_description_and_a_runbook_section() -> None:
    headings = {
        anchor(line.lstrip("#")) for line in RUNBOOK.read_text(encoding="utf-8").splitlines() if line.startswith("#")
    }
    for rule in alerts():
        assert rule["labels"]["severity"] in {"critical", "warning"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        assert rule["annotations"]["description"], rule["alert"]
        runbook = rule["annotations"]["runbook"]
        assert runbook.startswith("docs/runbook.md#"), rule["alert"]
        assert runbook.split("#", 1)[1] in headings, f"{rule['alert']}: no runbook heading for {runbook}"


def test_the_latency_alert_leaves_out_every_streaming_rpc() -> None:
    # A stream is timed until it ends (services/kit/server.py), and a subscription or a department's record stream
    # stays open as long as its caller wants: counted, it would keep the p99 above a second and the alert firing.
    (rule,) = [r for r in alerts() if r["alert"] == "CreditnodeRpcLatencyHigh"]
    excluded = re.compile(re.search(r'method!~"([^"]+)"', rule["expr"]).group(1))  # type: ignore[union-attr]
    streams = set()
    for proto in (REPO / "protos").rglob("*.proto"):
        text = proto.read_text(encoding="utf-8")
        package = re.search(r"^package ([\w.]+);", text, re.M).group(1)  # type: ignore[union-attr]
        for service, body in re.findall(r"^service (\w+) \{(.*?)^\}", text, re.M | re.S):
            for method in re.findall(r"rpc (\w+)\((?:stream [^)]*\)|[^)]*\) returns \(stream )", body):
                streams.add(f"/{package}.{service}/{method}")
    assert streams, "no streaming RPC found in protos/"
    assert sorted(m for m in streams if not excluded.fullmatch(m)) == []
    assert not excluded.fullmatch("/creditnode.scoring.v1.ScoringService/GetEvaluation")


def test_the_monitoring_component_ships_the_rules_file_as_a_configmap(tmp_path: Path) -> None:
    overlay = tmp_path / "overlay"
    overlay.mkdir()
    (overlay / "kustomization.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "kustomize.config.k8s.io/v1beta1",
                "kind": "Kustomization",
                "resources": [os.path.relpath(REPO / "k8s" / "overlays" / "dev", overlay)],
                "components": [os.path.relpath(MONITORING, overlay)],
            }
        )
    )
    docs = render(overlay)
    maps = [d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("creditnode-alert-rules")]
    assert len(maps) == 1
    assert maps[0]["data"]["creditnode-alerts.rules.yaml"] == RULES.read_text(encoding="utf-8")


def test_every_metric_the_rules_read_is_exported_by_the_services() -> None:
    from prometheus_client import REGISTRY

    import services.kit.metrics  # noqa: F401  (registers the metrics)

    exported = {sample_name for collector in REGISTRY.collect() for sample_name in _sample_names(collector)}
    missing = {m for m in METRICS if m not in exported}
    assert not missing, f"rules read metrics no service exports: {sorted(missing)}"


def _sample_names(family: object) -> set[str]:
    name = str(family.name)  # type: ignore[attr-defined]
    kind = str(family.type)  # type: ignore[attr-defined]
    if kind == "counter":
        return {f"{name}_total"}
    if kind == "histogram":
        return {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return {name}


def test_the_runbook_names_the_watch_streams_the_services_report() -> None:
    # The watch alerts' summaries name the `stream` label: the runbook must speak of the same streams.
    import grpc
    from prometheus_client import REGISTRY

    from services.consent.clients.registry import RequesterRemovalWatcher
    from services.gateway.clients.consent import ConsentCache
    from services.gateway.clients.participants import ParticipantCache
    from services.gateway.clients.record_cache import RecordCache
    from services.scoring.clients.registry import Cursor, ParticipantWatcher, RecordChangeWatcher

    channel = grpc.insecure_channel("127.0.0.1:1")  # never called: nothing is started
    cursor = Cursor(lambda: 0, lambda revision: None)
    try:
        # Built as the composition roots build them (services/*/main.py), each registers its stream's gauges.
        ParticipantCache(channel)
        ConsentCache(channel, "gateway-0")
        RecordCache(channel, lambda uscc, items: [])
        ParticipantWatcher(channel, cursor, lambda *a: None, lambda *a: None)
        RecordChangeWatcher(channel, cursor, lambda *a: None)
        RequesterRemovalWatcher(channel, cursor, lambda name: 0)
    finally:
        channel.close()
    reported = {
        sample.labels["stream"]
        for family in REGISTRY.collect()
        if family.name in {"creditnode_watch_connected", "creditnode_watch_lag_seconds"}
        for sample in family.samples
    }
    text = RUNBOOK.read_text(encoding="utf-8")
    section = text.split("### Watch stream down", 1)[1].split("\n#", 1)[0]
    named = set(re.findall(r"`([a-z]+)`", section))
    assert named == reported, f"runbook names {sorted(named)}, the services report {sorted(reported)}"
