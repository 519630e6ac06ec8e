"""Group ``reliability`` (issue #11): run the suite in tests/reliability at a scale, collect its figures and rewrite
docs/reliability.md. `make reliability` runs the bounded (ci) scale; `make bench ONLY=reliability` the full one."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from bench.figures import Figure, table, write
from tests.reliability.figures import read
from tests.reliability.report import render

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "reliability.md"
BENCH_JSON = REPO / "var" / "bench.json"


def run_suite(scale: str) -> tuple[int, list[Figure]]:
    """Run pytest on tests/reliability in a child process; its tests append figures to a fresh file."""
    out = REPO / "var" / f"reliability-{scale}.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    env = {**os.environ, "RELIABILITY_SCALE": scale, "RELIABILITY_FIGURES": str(out)}
    cmd = [sys.executable, "-m", "pytest", "tests/reliability", "-p", "no:cacheprovider", "-q"]
    rc = subprocess.run(cmd, cwd=REPO, env=env, check=False).returncode
    figures = read(out)
    figures.append(Figure.at_most("reliability.suite_failed", 0 if rc == 0 else 1, "bool", 0))
    DOC.write_text(render(figures, scale, rc == 0), encoding="utf-8")
    return rc, figures


def run() -> list[Figure]:
    """The bench group: the full scale (a failing test shows in the figures, the group still reports)."""
    return run_suite("full")[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", choices=["ci", "full"], default="ci")
    args = parser.parse_args()
    rc, figures = run_suite(args.scale)
    write(BENCH_JSON, figures, {"reliability"})
    print(f"\n{table(figures)}\nwritten to {BENCH_JSON} and {DOC}", flush=True)
    sys.exit(rc)


if __name__ == "__main__":
    main()
