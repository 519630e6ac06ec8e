"""Figures the reliability tests measure, appended as JSON lines to the file the runner reads afterwards."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

from bench.figures import Figure

REPO = Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "var" / "reliability-figures.jsonl"


def out_path() -> Path:
    return Path(os.environ.get("RELIABILITY_FIGURES", str(DEFAULT_OUT)))


def record(*figures: Figure) -> None:
    """Append figures at once, so a later failing test does not lose the earlier ones."""
    path = out_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as out:
        for f in figures:
            out.write(json.dumps(asdict(f), ensure_ascii=False) + "\n")


def read(path: Path) -> list[Figure]:
    if not path.exists():
        return []
    return [Figure(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def zero(name: str, value: float, unit: str = "count") -> Figure:
    """A correctness count whose target is zero."""
    return Figure.at_most(f"reliability.{name}", value, unit, 0)


def reported(name: str, value: float, unit: str) -> Figure:
    return Figure.reported(f"reliability.{name}", value, unit)
