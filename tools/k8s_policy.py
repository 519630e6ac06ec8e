"""Policy check over rendered Kubernetes YAML: the rules every creditnode pod must follow, beyond schema validity.

Usage: ``python tools/k8s_policy.py FILE... | -`` (``-`` reads standard input, e.g. ``kubectl kustomize`` output).
Exits 1 and prints one line per violation when any rule fails, 0 when all pass, 2 when the input cannot be read.

Rules (the ``rule`` names in the output):
  missing-liveness-probe, missing-readiness-probe   a long-running container (not a Job, not an init container)
  runs-as-root                runAsNonRoot is not true, or the effective runAsUser is missing or 0
  writable-root-filesystem    readOnlyRootFilesystem is not true
  privilege-escalation        allowPrivilegeEscalation is not false
  capabilities-not-dropped    capabilities.drop lacks ALL, or capabilities are added
  seccomp-not-runtime-default the effective seccompProfile is not RuntimeDefault (or Localhost)
  missing-resource-limits, missing-resource-requests   cpu and memory, for every container
  no-network-policy           no NetworkPolicy in the namespace selects the workload's pods
  short-termination-grace     a creditnode server pod's terminationGracePeriodSeconds is not above
                              SHUTDOWN_DRAIN_SECONDS + SHUTDOWN_GRACE_SECONDS (as its environment resolves them)
                              + the 5 s a stop then waits for handlers still running
"""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Doc = Mapping[str, Any]

# Where each workload kind keeps its pod template.
POD_TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "ReplicaSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
    "Pod": (),
}
# Workloads whose pods serve until stopped: they need probes, and creditnode servers need a long enough grace.
LONG_RUNNING = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod"})

# The services' own defaults (services/kit/config.py, ServiceSettings), used when a pod does not set them.
DEFAULT_SHUTDOWN_GRACE_SECONDS = 5.0
DEFAULT_SHUTDOWN_DRAIN_SECONDS = 0.0
# After the grace a stop waits this long more for handlers to return before its hooks (kit.server.STOP_MARGIN_SECONDS).
STOP_MARGIN_SECONDS = 5.0
# Kubernetes' default when a pod does not set terminationGracePeriodSeconds.
DEFAULT_TERMINATION_GRACE_SECONDS = 30
SHUTDOWN_KEYS = ("SHUTDOWN_GRACE_SECONDS", "SHUTDOWN_DRAIN_SECONDS")

_SERVICE_MODULE = re.compile(r"^services\.[a-z_]+$")
_ACCEPTED_SECCOMP = frozenset({"RuntimeDefault", "Localhost"})


@dataclass(frozen=True)
class Violation:
    """One broken rule, located by object and (when it is about one) container."""

    rule: str
    kind: str
    name: str
    namespace: str
    container: str
    message: str

    def __str__(self) -> str:
        where = f"{self.kind}/{self.name}"
        if self.namespace:
            where = f"{self.namespace}/{where}"
        if self.container:
            where += f" container {self.container}"
        return f"{where}: {self.rule}: {self.message}"


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(obj, Mapping):
            return None
        obj = obj.get(key)
    return obj


def _ident(doc: Doc) -> tuple[str, str, str]:
    return (
        str(doc.get("kind", "")),
        str(_get(doc, "metadata", "name") or ""),
        str(_get(doc, "metadata", "namespace") or ""),
    )


def iter_objects(docs: Iterable[Any]) -> Iterator[Doc]:
    """Every Kubernetes object in ``docs``, unpacking ``kind: List``."""
    for doc in docs:
        if not isinstance(doc, Mapping):
            continue
        if doc.get("kind") == "List":
            yield from iter_objects(doc.get("items") or [])
        else:
            yield doc


def pod_template(doc: Doc) -> Mapping[str, Any] | None:
    """The pod template (metadata + spec) of a workload, or None for any other object."""
    path = POD_TEMPLATE_PATHS.get(str(doc.get("kind", "")))
    if path is None:
        return None
    template = _get(doc, *path) if path else doc
    return template if isinstance(template, Mapping) else None


def _expression_matches(expr: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key, op = str(expr.get("key")), expr.get("operator")
    values = [str(v) for v in expr.get("values") or []]
    tests = {
        "In": lambda: labels.get(key) in values,
        "NotIn": lambda: labels.get(key) not in values,
        "Exists": lambda: key in labels,
        "DoesNotExist": lambda: key not in labels,
    }
    test = tests.get(str(op))
    return test is not None and test()


def selector_matches(selector: Any, labels: Mapping[str, str]) -> bool:
    """Whether a Kubernetes label selector selects ``labels`` (an empty selector selects everything)."""
    if not isinstance(selector, Mapping):
        return False
    match_labels = selector.get("matchLabels") or {}
    if any(labels.get(str(key)) != str(value) for key, value in match_labels.items()):
        return False
    return all(_expression_matches(expr, labels) for expr in selector.get("matchExpressions") or [])


def _is_service_container(container: Mapping[str, Any]) -> bool:
    """A creditnode server: ``python -m services.<name>`` somewhere in its command line."""
    argv = [str(a) for a in [*(container.get("command") or []), *(container.get("args") or [])]]
    return any(a == "-m" and _SERVICE_MODULE.match(b) for a, b in itertools.pairwise(argv))


class _Env:
    """A container's environment as far as the rendered objects tell it."""

    def __init__(self, container: Mapping[str, Any], config_maps: Mapping[tuple[str, str], Mapping[str, Any]], ns: str):
        self.values: dict[str, str] = {}
        self.opaque: list[str] = []  # sources whose keys cannot be known (Secrets, ConfigMaps not rendered)
        for source in container.get("envFrom") or []:
            prefix = str(source.get("prefix") or "")
            ref = source.get("configMapRef")
            if isinstance(ref, Mapping):
                data = config_maps.get((ns, str(ref.get("name"))))
                if data is not None:
                    self.values.update({prefix + str(k): str(v) for k, v in data.items()})
                elif not ref.get("optional"):
                    self.opaque.append(f"ConfigMap {ref.get('name')}")
            elif isinstance(source.get("secretRef"), Mapping):
                self.opaque.append(f"Secret {source['secretRef'].get('name')}")
        for var in container.get("env") or []:
            name = str(var.get("name"))
            if "value" in var:
                self.values[name] = str(var["value"])
                continue
            key_ref = _get(var, "valueFrom", "configMapKeyRef")
            data = config_maps.get((ns, str(_get(key_ref, "name")))) if key_ref else None
            if data is not None and str(key_ref.get("key")) in data:
                self.values[name] = str(data[str(key_ref.get("key"))])
            else:
                self.values.pop(name, None)
                self.opaque.append(f"env {name}")

    def seconds(self, key: str, default: float) -> float | str:
        """The value in seconds, the default when unset, or a message when it cannot be known."""
        if key in self.values:
            try:
                return float(self.values[key])
            except ValueError:
                return f"{key}={self.values[key]!r} is not a number"
        hidden = [s for s in self.opaque if s == f"env {key}" or not s.startswith("env ")]
        if hidden:
            return f"{key} cannot be resolved (from {', '.join(hidden)})"
        return default


class _Checker:
    def __init__(self, objects: Sequence[Doc]) -> None:
        self.objects = objects
        self.violations: list[Violation] = []
        self.workloads = 0
        self.config_maps = {
            (str(_get(o, "metadata", "namespace") or ""), str(_get(o, "metadata", "name"))): o.get("data") or {}
            for o in objects
            if o.get("kind") == "ConfigMap"
        }
        self.network_policies = [o for o in objects if o.get("kind") == "NetworkPolicy"]

    def add(self, doc: Doc, container: str, rule: str, message: str) -> None:
        kind, name, ns = _ident(doc)
        self.violations.append(Violation(rule, kind, name, ns, container, message))

    def run(self) -> list[Violation]:
        for doc in self.objects:
            template = pod_template(doc)
            if template is not None:
                self.workloads += 1
                self.check_workload(doc, template)
        return self.violations

    def check_workload(self, doc: Doc, template: Mapping[str, Any]) -> None:
        spec = template.get("spec") or {}
        pod_sc = spec.get("securityContext") or {}
        long_running = doc.get("kind") in LONG_RUNNING
        containers = list(spec.get("containers") or [])
        for container in [*(spec.get("initContainers") or []), *containers]:
            name = str(container.get("name", ""))
            self.check_security(doc, name, pod_sc, container.get("securityContext") or {})
            self.check_resources(doc, name, container.get("resources") or {})
        if long_running:
            for container in containers:
                name = str(container.get("name", ""))
                for probe in ("liveness", "readiness"):
                    if not isinstance(container.get(f"{probe}Probe"), Mapping):
                        self.add(doc, name, f"missing-{probe}-probe", f"no {probe}Probe")
            self.check_termination_grace(doc, spec, containers)
        self.check_network_policy(doc, template)

    def check_security(self, doc: Doc, name: str, pod_sc: Mapping[str, Any], sc: Mapping[str, Any]) -> None:
        def effective(key: str) -> Any:
            return sc[key] if key in sc else pod_sc.get(key)

        user = effective("runAsUser")
        if effective("runAsNonRoot") is not True:
            self.add(doc, name, "runs-as-root", "runAsNonRoot is not true")
        if not isinstance(user, int) or isinstance(user, bool) or user == 0:
            self.add(doc, name, "runs-as-root", f"runAsUser must be a numeric non-zero UID, got {user!r}")
        if sc.get("readOnlyRootFilesystem") is not True:
            self.add(doc, name, "writable-root-filesystem", "readOnlyRootFilesystem is not true")
        if sc.get("allowPrivilegeEscalation") is not False:
            self.add(doc, name, "privilege-escalation", "allowPrivilegeEscalation is not false")
        caps = sc.get("capabilities") or {}
        if "ALL" not in (caps.get("drop") or []) or caps.get("add"):
            self.add(doc, name, "capabilities-not-dropped", "capabilities must drop ALL and add none")
        seccomp = _get(effective("seccompProfile"), "type")
        if seccomp not in _ACCEPTED_SECCOMP:
            self.add(doc, name, "seccomp-not-runtime-default", f"seccompProfile type is {seccomp!r}")

    def check_resources(self, doc: Doc, name: str, resources: Mapping[str, Any]) -> None:
        for section in ("limits", "requests"):
            missing = [r for r in ("cpu", "memory") if not (resources.get(section) or {}).get(r)]
            if missing:
                self.add(doc, name, f"missing-resource-{section}", f"no {section} for {', '.join(missing)}")

    def check_termination_grace(self, doc: Doc, spec: Mapping[str, Any], containers: list[Any]) -> None:
        period = spec.get("terminationGracePeriodSeconds", DEFAULT_TERMINATION_GRACE_SECONDS)
        _, _, ns = _ident(doc)
        for container in containers:
            if not _is_service_container(container):
                continue
            env = _Env(container, self.config_maps, ns)
            grace = env.seconds("SHUTDOWN_GRACE_SECONDS", DEFAULT_SHUTDOWN_GRACE_SECONDS)
            drain = env.seconds("SHUTDOWN_DRAIN_SECONDS", DEFAULT_SHUTDOWN_DRAIN_SECONDS)
            name = str(container.get("name", ""))
            problems = [v for v in (grace, drain) if isinstance(v, str)]
            if problems:
                self.add(doc, name, "short-termination-grace", "; ".join(problems))
            elif not isinstance(period, int) or period <= float(grace) + float(drain) + STOP_MARGIN_SECONDS:
                self.add(
                    doc,
                    name,
                    "short-termination-grace",
                    f"terminationGracePeriodSeconds {period!r} is not above drain {drain:g}s + grace {grace:g}s"
                    f" + {STOP_MARGIN_SECONDS:g}s for handlers still running",
                )

    def check_network_policy(self, doc: Doc, template: Mapping[str, Any]) -> None:
        labels = {str(k): str(v) for k, v in (_get(template, "metadata", "labels") or {}).items()}
        _, _, ns = _ident(doc)
        for policy in self.network_policies:
            if str(_get(policy, "metadata", "namespace") or "") == ns and selector_matches(
                _get(policy, "spec", "podSelector"), labels
            ):
                return
        self.add(doc, "", "no-network-policy", "no NetworkPolicy selects its pods")


def check(docs: Iterable[Any]) -> tuple[list[Violation], int]:
    """All violations in ``docs`` (parsed YAML documents) and the number of workloads checked."""
    checker = _Checker(list(iter_objects(docs)))
    return checker.run(), checker.workloads


def load(paths: Sequence[str]) -> list[Any]:
    """Every YAML document in the files (``-`` is standard input)."""
    docs: list[Any] = []
    for path in paths:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        docs.extend(yaml.safe_load_all(text))
    return docs


def main(argv: Sequence[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(__doc__, file=sys.stderr)
        return 2
    try:
        docs = load(argv)
    except (OSError, yaml.YAMLError) as exc:
        print(f"k8s_policy: cannot read input: {exc}", file=sys.stderr)
        return 2
    violations, workloads = check(docs)
    if workloads == 0:
        print("k8s_policy: no workloads found (an empty render passes nothing)", file=sys.stderr)
        return 1
    for violation in violations:
        print(f"POLICY {violation}")
    if violations:
        print(f"k8s_policy: {len(violations)} violation(s) in {workloads} workload(s)", file=sys.stderr)
        return 1
    print(f"k8s_policy: OK, {workloads} workload(s) pass")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
