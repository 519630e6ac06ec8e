"""The real overlays render, pass strict schema validation and the policy check, and say what the node needs.

These tests run kubectl (kustomize) and kubernetes-validate from the virtualenv; a missing tool fails them loudly.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from tests.unit.ops.tooling import K8S_VERSION, OVERLAYS, REPO, render, run, tool
from tools.k8s_policy import check, pod_template, selector_matches

SERVICES = sorted(p.parent.name for p in (REPO / "services").glob("*/main.py"))
PORTS = {"gateway": 50051, "registry": 50052, "consent": 50053, "scoring": 50054, "objection": 50055}
INGEST_PORT = 50062  # the registry's ingestion port, for the data-sharing exchange
# Who calls whom (k8s/README.md, "Network"); everything else between pods is denied.
CALLS = {
    "gateway": {"registry", "consent", "scoring", "objection"},
    "objection": {"registry", "scoring"},
    "scoring": {"registry", "consent"},
    "consent": {"registry"},
    "registry": set(),
}

Docs = list[dict[str, Any]]
_rendered: dict[str, Docs] = {}


def rendered(overlay: str) -> Docs:
    if overlay not in _rendered:
        _rendered[overlay] = render(REPO / "k8s" / "overlays" / overlay)
    return _rendered[overlay]


def objects(docs: Docs, kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def test_overlays_are_dev_and_prod() -> None:
    assert OVERLAYS == ["dev", "prod"]


def test_manifests_cover_every_service_folder() -> None:
    assert sorted(PORTS) == SERVICES


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_passes_strict_schema_validation(overlay: str, tmp_path: Path) -> None:
    out = tmp_path / f"{overlay}.yaml"
    out.write_text(yaml.safe_dump_all(rendered(overlay)))
    result = run([tool("kubernetes-validate"), "--strict", "--quiet", "--kubernetes-version", K8S_VERSION, str(out)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_strict_validation_rejects_an_unknown_field(tmp_path: Path) -> None:
    docs = rendered("dev")
    deployment = next(d for d in docs if d["kind"] == "Deployment")
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {"grpc": {"port": 1}}
    out = tmp_path / "broken.yaml"
    out.write_text(yaml.safe_dump(broken))
    result = run([tool("kubernetes-validate"), "--strict", "--quiet", "--kubernetes-version", K8S_VERSION, str(out)])
    assert result.returncode != 0
    assert "readinessprobe" in result.stdout + result.stderr


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_passes_the_policy_check(overlay: str) -> None:
    violations, workloads = check(rendered(overlay))
    assert [str(v) for v in violations] == []
    assert workloads >= 2 * len(SERVICES)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_each_service_has_deployment_service_account_and_migration_job(overlay: str) -> None:
    docs = rendered(overlay)
    deployments, services, accounts, jobs = (
        objects(docs, k) for k in ("Deployment", "Service", "ServiceAccount", "Job")
    )
    for name in SERVICES:
        deployment = deployments[name]
        pod = deployment["spec"]["template"]
        assert deployment["spec"]["selector"]["matchLabels"] == {"app": name}
        assert pod["metadata"]["labels"]["app"] == name
        assert pod["spec"]["serviceAccountName"] == name
        assert accounts[name]["automountServiceAccountToken"] is False
        assert services[name]["spec"]["selector"] == {"app": name}
        extra = [INGEST_PORT] if name == "registry" else []  # the ingestion port for the data-sharing exchange
        assert [p["port"] for p in services[name]["spec"]["ports"]] == [PORTS[name], *extra]
        server = pod["spec"]["containers"][0]
        assert server["command"] == ["python", "-m", f"services.{name}"]
        assert {"name": "LISTEN_ADDR", "value": f"0.0.0.0:{PORTS[name]}"} in server["env"]

        job = jobs[f"{name}-migrate"]
        job_pod = job["spec"]["template"]
        migrate = job_pod["spec"]["containers"][0]
        assert migrate["command"] == ["python", "-m", f"services.{name}", "--migrate-only"]
        assert migrate["image"] == server["image"]
        # The Job's pods must never join the Service (they have no readiness probe).
        assert not selector_matches({"matchLabels": services[name]["spec"]["selector"]}, job_pod["metadata"]["labels"])
        wait = pod["spec"]["initContainers"][0]
        assert wait["command"] == ["python", "-m", f"services.{name}", "--wait-migrated"]
        assert wait["image"] == server["image"]
        assert _env_names(migrate) >= {"DATABASE_URL"}
        assert _env_names(server) >= {"DATABASE_URL"}
    # The gateway's disclosure log is on a separate, always cluster-internal Service.
    internal = services["gateway-internal"]["spec"]
    assert internal["type"] == "ClusterIP"
    assert [p["port"] for p in internal["ports"]] == [50061]


def _env_names(container: Mapping[str, Any]) -> set[str]:
    return {str(e["name"]) for e in container.get("env") or []}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_has_native_grpc_probes(overlay: str) -> None:
    deployments = objects(rendered(overlay), "Deployment")
    for name in SERVICES:
        server = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        # The gateway's 50051 is mTLS, which kubelet cannot speak: its probes use the plaintext health-only port.
        port = 50060 if name == "gateway" else PORTS[name]
        for probe in ("startupProbe", "readinessProbe"):
            assert server[probe]["grpc"] == {"port": port}, (name, probe)
        # Liveness asks the process-alive health name, so a database outage drains pods instead of restarting them.
        assert server["livenessProbe"]["grpc"] == {"port": port, "service": "creditnode.liveness"}, name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_config_addresses_point_at_the_services(overlay: str) -> None:
    docs = rendered(overlay)
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("creditnode-config"))
    for name in set(SERVICES) - {"gateway"}:
        assert config["data"][f"{name.upper()}_ADDR"] == f"{name}:{PORTS[name]}"
    assert config["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4317"
    assert config["data"]["METRICS_PORT"] == "9464"


# ---- NetworkPolicy: evaluate the rendered policies the way Kubernetes does (same namespace, pod selectors) ----


def _pod_labels(docs: Docs) -> dict[str, dict[str, str]]:
    labels = {}
    for doc in docs:
        template = pod_template(doc)
        if template is not None:
            labels[doc["metadata"]["name"]] = dict(template["metadata"]["labels"])
    return labels


def _policies(docs: Docs, labels: Mapping[str, str], direction: str) -> Iterator[dict[str, Any]]:
    for policy in objects(docs, "NetworkPolicy").values():
        spec = policy["spec"]
        if direction in spec.get("policyTypes", []) and selector_matches(spec["podSelector"], labels):
            yield spec


def _peer_allows(rules: list[dict[str, Any]], peer_key: str, other: Mapping[str, str] | None, port: int) -> bool:
    for rule in rules:
        ports = rule.get("ports")
        if ports and port not in [p["port"] for p in ports]:
            continue
        peers = rule.get(peer_key)
        if not peers:
            return True  # no peer list: every source / destination
        for peer in peers:
            in_namespace = "namespaceSelector" not in peer and "ipBlock" not in peer
            if other is not None and in_namespace and selector_matches(peer.get("podSelector"), other):
                return True
    return False


def allowed(docs: Docs, src: Mapping[str, str] | None, dst: Mapping[str, str], port: int) -> bool:
    """Whether a TCP connection from pod ``src`` (None: outside the cluster) to pod ``dst`` on ``port`` is allowed."""
    ingress = any(_peer_allows(s.get("ingress", []), "from", src, port) for s in _policies(docs, dst, "Ingress"))
    if src is None:
        return ingress
    egress = any(_peer_allows(s.get("egress", []), "to", dst, port) for s in _policies(docs, src, "Egress"))
    return ingress and egress


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_starts_from_deny_all(overlay: str) -> None:
    docs = rendered(overlay)
    deny = objects(docs, "NetworkPolicy")["default-deny-all"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_services_reach_exactly_the_services_they_call(overlay: str) -> None:
    docs = rendered(overlay)
    labels = _pod_labels(docs)
    for src in SERVICES:
        for dst in SERVICES:
            expected = dst in CALLS[src]
            assert allowed(docs, labels[src], labels[dst], PORTS[dst]) is expected, f"{src} -> {dst}"
        assert not allowed(docs, labels[f"{src}-migrate"], labels["registry"], PORTS["registry"])


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_gateway_is_reachable_from_outside(overlay: str) -> None:
    docs = rendered(overlay)
    labels = _pod_labels(docs)
    for name in SERVICES:
        assert allowed(docs, None, labels[name], PORTS[name]) is (name == "gateway"), name
    assert not allowed(docs, None, labels["gateway"], 50060)  # the health port stays internal to the kubelet


def _admits_namespace(docs: Docs, namespace: Mapping[str, str], dst: Mapping[str, str], port: int) -> bool:
    """Whether some ingress rule of ``dst`` admits pods of a namespace labelled ``namespace`` on ``port``."""
    for spec in _policies(docs, dst, "Ingress"):
        for rule in spec.get("ingress", []):
            ports = rule.get("ports")
            if ports and port not in [p["port"] for p in ports]:
                continue
            for peer in rule.get("from") or []:
                if "namespaceSelector" in peer and selector_matches(peer["namespaceSelector"], namespace):
                    return True
    return False


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_registrys_ingestion_port_takes_calls_from_the_data_exchange(overlay: str) -> None:
    # Departments' records come through the government data-sharing exchange, which must reach the registry's
    # ingestion port (RecordIngestionService alone) and nothing else of the node.
    docs = rendered(overlay)
    labels = _pod_labels(docs)
    exchange = {"creditnode.io/role": "data-exchange", "kubernetes.io/metadata.name": "data-exchange"}
    for name in SERVICES:
        assert not _admits_namespace(docs, exchange, labels[name], PORTS[name]), name  # no main port
    assert _admits_namespace(docs, exchange, labels["registry"], INGEST_PORT)
    elsewhere = {"kubernetes.io/metadata.name": "elsewhere"}
    assert not _admits_namespace(docs, elsewhere, labels["registry"], INGEST_PORT)
    registry = objects(docs, "Deployment")["registry"]["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in registry["env"]}
    assert env["INGEST_LISTEN_ADDR"] == f"0.0.0.0:{INGEST_PORT}"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_creditnode_pods_reach_dns_database_and_collector(overlay: str) -> None:
    docs = rendered(overlay)
    labels = _pod_labels(docs)
    collector = labels["otel-collector"]
    for name in [*SERVICES, *(f"{s}-migrate" for s in SERVICES)]:
        assert allowed(docs, labels[name], collector, 4317), name
        dns_ok = any(
            r.get("ports") and 53 in [p["port"] for p in r["ports"]]
            for s in _policies(docs, labels[name], "Egress")
            for r in s.get("egress", [])
        )
        assert dns_ok, name
        postgres_rules = [
            r
            for s in _policies(docs, labels[name], "Egress")
            for r in s.get("egress", [])
            if [p["port"] for p in r.get("ports", [])] == [5432]
        ]
        assert postgres_rules, name
    assert not allowed(docs, collector, labels["registry"], PORTS["registry"])


def test_dev_database_accepts_only_creditnode_pods() -> None:
    docs = rendered("dev")
    labels = _pod_labels(docs)
    postgres = labels["postgres"]
    for name in SERVICES:
        assert allowed(docs, labels[name], postgres, 5432)
        assert allowed(docs, labels[f"{name}-migrate"], postgres, 5432)
    assert not allowed(docs, labels["otel-collector"], postgres, 5432)
    assert not allowed(docs, None, postgres, 5432)


def test_prod_database_egress_is_an_address_range_not_in_cluster_pods() -> None:
    policy = objects(rendered("prod"), "NetworkPolicy")["allow-postgres-egress"]["spec"]
    peers = [peer for rule in policy["egress"] for peer in rule["to"]]
    assert peers
    assert all(set(peer) == {"ipBlock"} for peer in peers)


def _database_clients(docs: Docs) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(workload/container, pod spec, container) for every container given a DATABASE_URL."""
    for kind in ("Deployment", "Job"):
        for name, doc in objects(docs, kind).items():
            spec = doc["spec"]["template"]["spec"]
            for container in spec.get("initContainers", []) + spec["containers"]:
                if "DATABASE_URL" in _env_names(container):
                    yield f"{name}/{container['name']}", spec, container


def test_prod_database_clients_can_verify_the_database_certificate() -> None:
    # The runbook's production DATABASE_URL says sslmode=verify-full, and the image's user has no home directory
    # (/nonexistent): without PGSSLROOTCERT libpq looks for /nonexistent/.postgresql/root.crt and refuses every
    # connection, so the migration Jobs fail and the pods stay in Init.
    clients = list(_database_clients(rendered("prod")))
    assert len(clients) == 3 * len(SERVICES)  # server, wait-migrated, migration Job
    for where, spec, container in clients:
        path = {e["name"]: e.get("value") for e in container["env"]}.get("PGSSLROOTCERT")
        assert path, f"{where}: no PGSSLROOTCERT"
        mount = next((m for m in container.get("volumeMounts", []) if path.startswith(m["mountPath"] + "/")), None)
        assert mount is not None, f"{where}: {path} is on no volume"
        volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
        assert volume.get("secret", {}).get("secretName") == "postgres-ca", where
        assert path == f"{mount['mountPath']}/ca.crt", where


def test_libpq_takes_its_root_certificate_from_pgsslrootcert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the check above relies on: the libpq psycopg ships reads PGSSLROOTCERT, with no sslrootcert in the URL."""
    missing = tmp_path / "postgres-ca" / "ca.crt"
    monkeypatch.setenv("PGSSLROOTCERT", str(missing))
    with socket.create_server(("127.0.0.1", 0)) as server:

        def accept_ssl() -> None:  # answers the SSLRequest with "S"; libpq then looks for its root certificate
            conn, _ = server.accept()
            with conn:
                conn.recv(8)
                conn.sendall(b"S")
                conn.recv(1024)

        thread = threading.Thread(target=accept_ssl, daemon=True)
        thread.start()
        port = server.getsockname()[1]
        with pytest.raises(psycopg.OperationalError) as refused:
            psycopg.connect(
                f"postgresql://x@127.0.0.1:{port}/x?sslmode=verify-full&gssencmode=disable", connect_timeout=5
            )
        thread.join(5)
    assert f'root certificate file "{missing}" does not exist' in str(refused.value)


# ---- dev: in-cluster PostgreSQL, one database per service ----


def test_dev_runs_postgres_with_a_volume_claim_and_one_database_per_service() -> None:
    docs = rendered("dev")
    statefulset = objects(docs, "StatefulSet")["postgres"]
    claims = statefulset["spec"]["volumeClaimTemplates"]
    assert [c["metadata"]["name"] for c in claims] == ["data"]
    init = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("postgres-init"))
    sql = init["data"]["init-databases.sql"]
    secrets = {d["metadata"]["name"].rsplit("-", 1)[0]: d for d in docs if d["kind"] == "Secret"}
    for name in SERVICES:
        assert f"CREATE DATABASE {name} OWNER {name};" in sql
        assert f"{name}-db" in secrets
        ref = objects(docs, "Deployment")[name]["spec"]["template"]["spec"]["containers"][0]["env"]
        secret_name = next(e["valueFrom"]["secretKeyRef"]["name"] for e in ref if e["name"] == "DATABASE_URL")
        assert secret_name == secrets[f"{name}-db"]["metadata"]["name"]


# ---- prod: replicas, autoscaling, disruption budgets, no secrets in the repository ----


def test_prod_runs_at_least_two_pods_of_every_service_but_consent() -> None:
    docs = rendered("prod")
    deployments, hpas = objects(docs, "Deployment"), objects(docs, "HorizontalPodAutoscaler")
    for name in [s for s in SERVICES if s != "consent"]:
        if name in hpas:
            assert hpas[name]["spec"]["minReplicas"] >= 2
            assert "replicas" not in deployments[name]["spec"], f"{name}: the HPA owns replicas"
        else:
            assert deployments[name]["spec"].get("replicas", 1) >= 2, name


@pytest.mark.parametrize("overlay", ["dev", "prod"])
def test_consent_never_runs_two_processes_at_once(overlay: str) -> None:
    """Its revocation barrier covers the gateways watching one process: one pod, and a rollout that never overlaps."""
    docs = rendered(overlay)
    consent = objects(docs, "Deployment")["consent"]["spec"]
    assert consent["replicas"] == 1
    assert consent["strategy"] == {"type": "Recreate"}
    assert "consent" not in objects(docs, "HorizontalPodAutoscaler")


def test_prod_autoscales_gateway_and_scoring() -> None:
    hpas = objects(rendered("prod"), "HorizontalPodAutoscaler")
    assert set(hpas) == {"gateway", "scoring"}
    for name, hpa in hpas.items():
        assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert hpa["spec"]["maxReplicas"] > hpa["spec"]["minReplicas"]


def test_prod_has_a_disruption_budget_for_every_deployment() -> None:
    docs = rendered("prod")
    budgets = objects(docs, "PodDisruptionBudget").values()
    for name, deployment in objects(docs, "Deployment").items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert [b for b in budgets if selector_matches(b["spec"]["selector"], labels)], name


def test_prod_keeps_secrets_out_of_the_repository_and_exposes_only_the_gateway() -> None:
    docs = rendered("prod")
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "Secret"] == []
    exposed = [n for n, s in objects(docs, "Service").items() if s["spec"].get("type") in {"LoadBalancer", "NodePort"}]
    assert exposed == ["gateway"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_namespace_enforces_restricted_pod_security(overlay: str) -> None:
    docs = rendered(overlay)
    (namespace,) = objects(docs, "Namespace").values()
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"} == {namespace["metadata"]["name"]}
