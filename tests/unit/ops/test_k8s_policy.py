"""tools/k8s_policy.py catches each kind of unsafe pod on small manifests, and passes a compliant one."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.kit.config import ServiceSettings
from services.kit.server import STOP_MARGIN_SECONDS
from tools import k8s_policy
from tools.k8s_policy import Violation, check, selector_matches

SECURE_CONTAINER: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "capabilities": {"drop": ["ALL"]},
}
RESOURCES: dict[str, Any] = {
    "requests": {"cpu": "100m", "memory": "128Mi"},
    "limits": {"cpu": "1", "memory": "256Mi"},
}


def _container(name: str = "server", *command: str) -> dict[str, Any]:
    return {
        "name": name,
        "image": "creditnode:0.1.0",
        "command": list(command or ("python", "-m", "services.registry")),
        "envFrom": [{"configMapRef": {"name": "creditnode-config"}}],
        "livenessProbe": {"grpc": {"port": 50052}},
        "readinessProbe": {"grpc": {"port": 50052}},
        "resources": copy.deepcopy(RESOURCES),
        "securityContext": copy.deepcopy(SECURE_CONTAINER),
    }


def _deployment() -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "registry", "namespace": "cn"},
        "spec": {
            "selector": {"matchLabels": {"app": "registry"}},
            "template": {
                "metadata": {"labels": {"app": "registry", "app.kubernetes.io/part-of": "creditnode"}},
                "spec": {
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                    "initContainers": [_container("wait", "python", "-m", "services.registry", "--wait-migrated")],
                    "containers": [_container()],
                },
            },
        },
    }


def _config_map(**data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "creditnode-config", "namespace": "cn"},
        "data": {"SHUTDOWN_GRACE_SECONDS": "10", "SHUTDOWN_DRAIN_SECONDS": "5", **data},
    }


def _deny_all(namespace: str = "cn") -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "default-deny-all", "namespace": namespace},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }


def _docs(deployment: dict[str, Any] | None = None, *extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [deployment or _deployment(), _config_map(), _deny_all(), *extra]


def _pod(deployment: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = deployment["spec"]["template"]["spec"]
    return spec


def _server(deployment: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = _pod(deployment)["containers"][0]
    return container


def _rules(docs: list[dict[str, Any]]) -> set[tuple[str, str]]:
    violations, _ = check(docs)
    return {(v.rule, v.container) for v in violations}


def test_compliant_deployment_passes() -> None:
    violations, workloads = check(_docs())
    assert violations == []
    assert workloads == 1


@pytest.mark.parametrize("probe", ["liveness", "readiness"])
def test_container_without_probe_fails(probe: str) -> None:
    deployment = _deployment()
    del _server(deployment)[f"{probe}Probe"]
    assert _rules(_docs(deployment)) == {(f"missing-{probe}-probe", "server")}


def test_job_and_init_containers_need_no_probes() -> None:
    deployment = _deployment()
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "registry-migrate", "namespace": "cn"},
        "spec": {"template": copy.deepcopy(deployment["spec"]["template"])},
    }
    for container in _pod(job)["containers"]:
        del container["livenessProbe"], container["readinessProbe"]
    violations, workloads = check([*_docs(deployment), job])
    assert violations == []
    assert workloads == 2


def test_statefulset_container_without_probes_fails() -> None:
    deployment = _deployment()
    deployment["kind"] = "StatefulSet"
    del _server(deployment)["livenessProbe"]
    assert ("missing-liveness-probe", "server") in _rules(_docs(deployment))


def test_container_without_run_as_non_root_fails() -> None:
    deployment = _deployment()
    del _pod(deployment)["securityContext"]["runAsNonRoot"]
    del _server(deployment)["securityContext"]["runAsNonRoot"]
    assert _rules(_docs(deployment)) == {("runs-as-root", "server")}


def test_container_may_not_undo_the_pods_non_root() -> None:
    deployment = _deployment()
    _server(deployment)["securityContext"]["runAsNonRoot"] = False
    assert _rules(_docs(deployment)) == {("runs-as-root", "server")}


@pytest.mark.parametrize("user", [0, None, "10001"])
def test_uid_zero_missing_or_not_numeric_fails(user: Any) -> None:
    deployment = _deployment()
    if user is None:
        del _server(deployment)["securityContext"]["runAsUser"]
    else:
        _server(deployment)["securityContext"]["runAsUser"] = user
    assert _rules(_docs(deployment)) == {("runs-as-root", "server")}


def test_pod_level_uid_counts_for_its_containers() -> None:
    deployment = _deployment()
    _pod(deployment)["securityContext"]["runAsUser"] = 10001
    for container in [*_pod(deployment)["initContainers"], _server(deployment)]:
        del container["securityContext"]["runAsUser"]
    assert check(_docs(deployment))[0] == []


def test_root_init_container_fails() -> None:
    deployment = _deployment()
    _pod(deployment)["initContainers"][0]["securityContext"]["runAsUser"] = 0
    assert _rules(_docs(deployment)) == {("runs-as-root", "wait")}


@pytest.mark.parametrize("value", [False, None])
def test_writable_root_filesystem_fails(value: bool | None) -> None:
    deployment = _deployment()
    if value is None:
        del _server(deployment)["securityContext"]["readOnlyRootFilesystem"]
    else:
        _server(deployment)["securityContext"]["readOnlyRootFilesystem"] = value
    assert _rules(_docs(deployment)) == {("writable-root-filesystem", "server")}


@pytest.mark.parametrize(("section", "resource"), [("limits", "cpu"), ("limits", "memory"), ("requests", "memory")])
def test_missing_resource_fails(section: str, resource: str) -> None:
    deployment = _deployment()
    del _server(deployment)["resources"][section][resource]
    assert _rules(_docs(deployment)) == {(f"missing-resource-{section}", "server")}


def test_container_without_any_resources_fails_both_ways() -> None:
    deployment = _deployment()
    del _pod(deployment)["initContainers"][0]["resources"]
    assert _rules(_docs(deployment)) == {("missing-resource-limits", "wait"), ("missing-resource-requests", "wait")}


def test_privilege_escalation_capabilities_and_seccomp_are_checked() -> None:
    deployment = _deployment()
    sc = _server(deployment)["securityContext"]
    del sc["allowPrivilegeEscalation"]
    sc["capabilities"] = {"drop": ["ALL"], "add": ["NET_ADMIN"]}
    sc["seccompProfile"] = {"type": "Unconfined"}
    assert _rules(_docs(deployment)) == {
        ("privilege-escalation", "server"),
        ("capabilities-not-dropped", "server"),
        ("seccomp-not-runtime-default", "server"),
    }


def test_deployment_without_a_network_policy_fails() -> None:
    assert _rules([_deployment(), _config_map()]) == {("no-network-policy", "")}


def test_network_policy_in_another_namespace_does_not_count() -> None:
    assert _rules([_deployment(), _config_map(), _deny_all("elsewhere")]) == {("no-network-policy", "")}


def test_network_policy_selecting_other_pods_does_not_count() -> None:
    policy = _deny_all()
    policy["spec"]["podSelector"] = {"matchLabels": {"app": "gateway"}}
    assert _rules([_deployment(), _config_map(), policy]) == {("no-network-policy", "")}


def test_network_policy_selecting_by_expression_counts() -> None:
    policy = _deny_all()
    policy["spec"]["podSelector"] = {"matchExpressions": [{"key": "app", "operator": "In", "values": ["registry"]}]}
    assert check([_deployment(), _config_map(), policy])[0] == []


@pytest.mark.parametrize(
    ("selector", "selected"),
    [
        ({}, True),
        ({"matchLabels": {"app": "registry"}}, True),
        ({"matchLabels": {"app": "registry", "tier": "x"}}, False),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["registry"]}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
        ({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}, False),
        (None, False),
    ],
)
def test_label_selectors_follow_kubernetes(selector: Any, selected: bool) -> None:
    assert selector_matches(selector, {"app": "registry"}) is selected


def test_grace_period_not_above_drain_plus_grace_fails() -> None:
    deployment = _deployment()
    _pod(deployment)["terminationGracePeriodSeconds"] = 15  # drain 5 + grace 10 from the ConfigMap
    violations, _ = check(_docs(deployment))
    assert [(v.rule, v.container) for v in violations] == [("short-termination-grace", "server")]
    assert "drain 5s + grace 10s" in violations[0].message


def test_grace_period_leaves_room_for_the_handlers_a_stop_waits_for() -> None:
    deployment = _deployment()
    _pod(deployment)["terminationGracePeriodSeconds"] = 20  # drain 5 + grace 10 + 5 s for handlers still running
    violations, _ = check(_docs(deployment))
    assert [(v.rule, v.container) for v in violations] == [("short-termination-grace", "server")]
    assert "+ 5s for handlers still running" in violations[0].message
    _pod(deployment)["terminationGracePeriodSeconds"] = 21
    assert check(_docs(deployment))[0] == []


def test_policy_margin_is_the_servers_stop_margin() -> None:
    assert k8s_policy.STOP_MARGIN_SECONDS == STOP_MARGIN_SECONDS


def test_grace_period_defaults_to_kubernetes_thirty_seconds() -> None:
    deployment = _deployment()
    del _pod(deployment)["terminationGracePeriodSeconds"]
    _server(deployment)["env"] = [{"name": "SHUTDOWN_GRACE_SECONDS", "value": "25"}]  # env overrides envFrom
    assert _rules(_docs(deployment)) == {("short-termination-grace", "server")}


def test_grace_setting_from_a_config_map_key_is_resolved() -> None:
    deployment = _deployment()
    _server(deployment)["envFrom"] = []
    _server(deployment)["env"] = [
        {
            "name": "SHUTDOWN_GRACE_SECONDS",
            "valueFrom": {"configMapKeyRef": {"name": "creditnode-config", "key": "SHUTDOWN_DRAIN_SECONDS"}},
        }
    ]
    _pod(deployment)["terminationGracePeriodSeconds"] = 10  # grace resolves to 5, drain defaults to 0, margin 5
    assert _rules(_docs(deployment)) == {("short-termination-grace", "server")}
    _pod(deployment)["terminationGracePeriodSeconds"] = 11
    assert check(_docs(deployment))[0] == []


def test_service_defaults_apply_when_nothing_is_set() -> None:
    deployment = _deployment()
    _server(deployment)["envFrom"] = []
    _pod(deployment)["terminationGracePeriodSeconds"] = 5  # the service's default grace is 5 s
    assert _rules(_docs(deployment)) == {("short-termination-grace", "server")}


def test_policy_defaults_are_the_services_defaults() -> None:
    fields = ServiceSettings.model_fields
    assert fields["shutdown_grace_seconds"].default == k8s_policy.DEFAULT_SHUTDOWN_GRACE_SECONDS
    assert fields["shutdown_drain_seconds"].default == k8s_policy.DEFAULT_SHUTDOWN_DRAIN_SECONDS


def test_grace_setting_hidden_in_a_secret_cannot_pass() -> None:
    deployment = _deployment()
    _server(deployment)["envFrom"] = [{"secretRef": {"name": "shutdown"}}]
    violations, _ = check(_docs(deployment))
    assert [v.rule for v in violations] == ["short-termination-grace"]
    assert "cannot be resolved" in violations[0].message


def test_grace_rule_ignores_containers_that_are_not_creditnode_services() -> None:
    deployment = _deployment()
    _pod(deployment)["terminationGracePeriodSeconds"] = 1
    _server(deployment)["command"] = ["postgres"]
    assert check(_docs(deployment))[0] == []


def test_violation_names_namespace_object_and_container() -> None:
    violation = Violation("runs-as-root", "Deployment", "registry", "cn", "server", "runAsNonRoot is not true")
    assert str(violation) == "cn/Deployment/registry container server: runs-as-root: runAsNonRoot is not true"


def test_list_objects_are_unpacked() -> None:
    deployment = _deployment()
    del _server(deployment)["readinessProbe"]
    wrapped = {"apiVersion": "v1", "kind": "List", "items": _docs(deployment)}
    assert _rules([wrapped]) == {("missing-readiness-probe", "server")}


def _write(path: Path, docs: list[dict[str, Any]]) -> str:
    path.write_text(yaml.safe_dump_all(docs))
    return str(path)


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = _write(tmp_path / "good.yaml", _docs())
    bad_deployment = _deployment()
    _server(bad_deployment)["securityContext"]["runAsUser"] = 0
    bad = _write(tmp_path / "bad.yaml", _docs(bad_deployment))
    empty = _write(tmp_path / "empty.yaml", [_config_map()])

    assert k8s_policy.main([good]) == 0
    assert k8s_policy.main([bad]) == 1
    assert "POLICY cn/Deployment/registry container server: runs-as-root" in capsys.readouterr().out
    assert k8s_policy.main([empty]) == 1  # nothing to check is a failure, not a pass
    assert k8s_policy.main([str(tmp_path / "missing.yaml")]) == 2
    assert k8s_policy.main([]) == 2
