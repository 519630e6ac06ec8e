"""The Dockerfile builds in two stages and runs as a numeric non-root user with no build tools; hadolint passes.

No container engine is available here, so these read the Dockerfile instead of building it.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from tests.unit.ops.test_k8s_overlays import rendered
from tests.unit.ops.tooling import REPO, run, tool
from tools.k8s_policy import pod_template

DOCKERFILE = REPO / "Dockerfile"
BUILD_TOOLS = re.compile(r"\b(apt-get|apt|apk|gcc|g\+\+|make|build-essential|pip3? install|python -m pip)\b")


@dataclass
class Stage:
    base: str
    name: str
    instructions: list[tuple[str, str]] = field(default_factory=list)


def parse(text: str) -> list[Stage]:
    """Instructions per stage, with continuation lines joined and comments dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1].rstrip() + " "
            continue
        logical.append(pending + line)
        pending = ""
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = rest.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else ""
            stages.append(Stage(base=words[0], name=name))
        else:
            assert stages, f"{keyword} before FROM"
            stages[-1].instructions.append((keyword, rest.strip()))
    return stages


def _of(stage: Stage, keyword: str) -> list[str]:
    return [rest for k, rest in stage.instructions if k == keyword]


def test_parser_joins_continuations_and_finds_stages() -> None:
    stages = parse("FROM a AS one\n# c\nRUN x \\\n    && y\nFROM b\nUSER 1\n")
    assert [(s.base, s.name) for s in stages] == [("a", "one"), ("b", "")]
    assert stages[0].instructions == [("RUN", "x && y")]


def test_build_is_multi_stage_on_python_311_slim() -> None:
    stages = parse(DOCKERFILE.read_text())
    assert len(stages) >= 2
    assert all(s.base.startswith("python:3.11-slim") for s in stages)
    builder, final = stages[0], stages[-1]
    assert builder.name == "builder"
    installs = " ".join(_of(builder, "RUN"))
    assert "-c requirements.lock" in installs
    assert "pyproject.toml" in installs
    assert "--only-binary=:all:" in installs
    copies = _of(final, "COPY")
    assert "--from=builder /opt/venv /opt/venv" in copies
    assert "--from=builder /app /app" in copies


def test_code_is_compiled_and_readable_by_the_runtime_user() -> None:
    builder = parse(DOCKERFILE.read_text())[0]
    commands = " && ".join(_of(builder, "RUN"))
    assert "compileall" in commands  # the root filesystem is read-only: no __pycache__ at run time
    assert "chmod -R a+rX,go-w /app /opt/venv" in commands  # gen/ may be 0700 in a working tree


def test_final_stage_runs_as_a_numeric_non_root_user() -> None:
    final = parse(DOCKERFILE.read_text())[-1]
    users = _of(final, "USER")
    assert users, "the final stage sets no USER"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit()
    assert int(uid) != 0
    assert not gid or (gid.isdigit() and int(gid) != 0)


def test_final_stage_installs_no_build_tools() -> None:
    final = parse(DOCKERFILE.read_text())[-1]
    for command in _of(final, "RUN"):
        assert not BUILD_TOOLS.search(command), command
    for copy in _of(final, "COPY"):
        assert copy.startswith("--from="), f"the runtime stage copies only from the builder: {copy}"


def test_image_starts_a_service_in_exec_form() -> None:
    final = parse(DOCKERFILE.read_text())[-1]
    (cmd,) = _of(final, "CMD")
    assert shlex.split(cmd.strip("[]").replace(",", " ")) == ["python", "-m", "services.gateway"]


def test_dockerignore_sends_only_what_the_image_needs() -> None:
    lines = [ln for ln in (REPO / ".dockerignore").read_text().splitlines() if ln and not ln.startswith("#")]
    assert lines[0] == "*"
    assert {ln for ln in lines if ln.startswith("!")} == {
        "!pyproject.toml",
        "!requirements.lock",
        "!services/",
        "!gen/",
    }


def test_hadolint_passes() -> None:
    result = run([tool("hadolint"), str(DOCKERFILE)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_exposes_every_port_the_manifests_serve_on() -> None:
    # EXPOSE is the image's own record of what it listens on; the gateway's internal listener (50061) and the
    # registry's ingestion port (50062) were served in the cluster but missing from it.
    (expose,) = _of(parse(DOCKERFILE.read_text())[-1], "EXPOSE")
    exposed = {int(port.split("/")[0]) for port in expose.split()}
    served = set()
    for doc in rendered("prod"):
        template = pod_template(doc)
        for container in (template or {}).get("spec", {}).get("containers", []):
            if str(container["image"]).rsplit(":", 1)[0].endswith("/creditnode"):
                served |= {p["containerPort"] for p in container.get("ports", [])}
    assert served
    assert served - exposed == set()
