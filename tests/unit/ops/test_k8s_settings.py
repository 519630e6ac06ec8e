"""Every container that runs a service (server, migration Job, wait-migrated init container) can load that service's
settings from what its rendered manifest gives it: the ConfigMap, its env and the files its volumes mount.

Settings are validated before ``--migrate-only`` and ``--wait-migrated`` do anything, so a container missing a setting
the service requires exits with status 2: a failed migration Job and pods stuck in Init. A server container must also
pass the checks only serving makes (``check_serving``: the gateway's certificates).
"""

from __future__ import annotations

import importlib
import inspect
import os
from pathlib import Path
from typing import Any

import pytest

from services.kit.config import ServiceSettings, SettingsError, load_settings
from tests.unit.ops.test_k8s_overlays import objects, rendered
from tests.unit.ops.tooling import OVERLAYS

# What the Secrets hold (k8s/README.md, "Settings"); Secrets are never in the repository, so the test makes them up.
SECRET_KEYS = {
    "gateway-tls": ["tls.crt", "tls.key", "ca.crt"],
    "registry-ca": ["ca.crt", "ca.key"],
    "postgres-ca": ["ca.crt"],  # prod: the external database's CA certificate
    **{f"{s}-evidence-key": ["evidence.key"] for s in ("registry", "consent", "objection", "gateway")},
    **{f"{s}-db": ["DATABASE_URL"] for s in ("registry", "consent", "scoring", "objection", "gateway")},
}
PLACEHOLDER_URL = "postgresql+psycopg://creditnode@postgres:5432/creditnode"


def _settings_class(service: str) -> type[ServiceSettings]:
    main = importlib.import_module(f"services.{service}.main")
    found = [
        cls
        for cls in vars(main).values()
        if inspect.isclass(cls) and issubclass(cls, ServiceSettings) and cls is not ServiceSettings
    ]
    assert len(found) == 1, f"services.{service}.main: {found}"
    return found[0]


def _service_containers(overlay: str) -> list[tuple[str, dict[str, Any], dict[str, Any], str]]:
    """(workload name, pod spec, container, service) for every container running ``python -m services.<name>``."""
    out = []
    for kind in ("Deployment", "Job"):
        for name, doc in objects(rendered(overlay), kind).items():
            spec = doc["spec"]["template"]["spec"]
            for container in spec.get("initContainers", []) + spec["containers"]:
                command = container.get("command", []) + container.get("args", [])
                if command[1:2] == ["-m"] and command[2].startswith("services."):
                    out.append((name, spec, container, command[2].split(".")[1]))
    return out


def _environment(overlay: str, spec: dict[str, Any], container: dict[str, Any], root: Path) -> dict[str, str]:
    """The container's environment, with each mounted volume materialized under ``root`` (secrets as files)."""
    config_maps = {d["metadata"]["name"]: d.get("data", {}) for d in objects(rendered(overlay), "ConfigMap").values()}
    # Secrets an overlay generates (dev: the databases') under hashed names; the rest are made up from SECRET_KEYS.
    secret_keys = {
        **SECRET_KEYS,
        **{n: list(d.get("data", {})) for n, d in objects(rendered(overlay), "Secret").items()},
    }
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    mounts: dict[str, Path] = {}
    for mount in container.get("volumeMounts", []):
        local = root / mount["name"]
        local.mkdir(parents=True, exist_ok=True)
        secret = volumes[mount["name"]].get("secret")
        if secret is not None:
            items = [i["path"] for i in secret.get("items", [])] or secret_keys[secret["secretName"]]
            for item in items:
                (local / item).write_text("placeholder\n")
        mounts[mount["mountPath"]] = local
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(config_maps[source["configMapRef"]["name"]])
    for var in container.get("env", []):
        if "value" in var:
            value = var["value"]
            for mount_path, local in mounts.items():
                if value == mount_path or value.startswith(mount_path + "/"):
                    value = str(local) + value[len(mount_path) :]
            env[var["name"]] = value
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            assert ref["key"] in secret_keys[ref["name"]], var
            env[var["name"]] = PLACEHOLDER_URL if ref["key"] == "DATABASE_URL" else "placeholder"
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_service_container_loads_its_settings(
    overlay: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    containers = _service_containers(overlay)
    # a server, a migration Job and a wait-migrated init container per service
    assert len(containers) == 3 * len({service for *_, service in containers}) == 15
    failures = []
    for index, (workload, spec, container, service) in enumerate(containers):
        env = _environment(overlay, spec, container, tmp_path / str(index))
        for name in list(os.environ):
            monkeypatch.delenv(name)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        args = container.get("command", []) + container.get("args", [])
        try:
            settings = load_settings(_settings_class(service))
            if not {"--migrate-only", "--wait-migrated"} & set(args):
                settings.check_serving()  # what only serving needs (the gateway's certificates)
        except SettingsError as exc:
            failures.append(f"{workload}/{container['name']}: {exc}")
    assert failures == []
