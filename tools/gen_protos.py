"""Generate Python code and .pyi stubs for every proto under protos/ into one place (gen/ by default)."""

from __future__ import annotations

import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[1]


def generate(target: Path) -> None:
    """Generate into a fresh sibling directory, then swap it in, so readers never see a half-written tree."""
    protos = sorted(str(p.relative_to(ROOT / "protos")) for p in (ROOT / "protos").rglob("*.proto"))
    target.parent.mkdir(parents=True, exist_ok=True)
    out = Path(tempfile.mkdtemp(prefix=".gen-", dir=target.parent))
    out.chmod(0o755)  # mkdtemp makes it private; generated code must be readable by any user (e.g. in images)
    include = str(resources.files("grpc_tools") / "_proto")
    args = [
        "protoc",
        f"-I{ROOT / 'protos'}",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *protos,
    ]
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    # Packages need __init__.py so setuptools and mypy see them; py.typed marks the stubs as usable.
    for directory in [p for p in out.rglob("*") if p.is_dir()]:
        (directory / "__init__.py").touch()
    (out / "creditnode" / "py.typed").touch()
    old = target.with_name(f".old-{out.name}")
    if target.exists():
        target.rename(old)
    out.rename(target)
    shutil.rmtree(old, ignore_errors=True)


if __name__ == "__main__":
    generate(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "gen")
