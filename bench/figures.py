"""A benchmark figure and the var/bench.json file the figures are written to."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path


@dataclass
class Figure:
    """One measured number, its baseline (when it is a ratio), its target and whether the target is met."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    target: str | None = None
    ok: bool | None = None

    @classmethod
    def at_least(cls, name: str, value: float, unit: str, floor: float, baseline: float | None = None) -> Figure:
        return cls(name, round(value, 4), unit, baseline, f">= {floor}", value >= floor)

    @classmethod
    def at_most(cls, name: str, value: float, unit: str, ceiling: float, baseline: float | None = None) -> Figure:
        return cls(name, round(value, 4), unit, baseline, f"<= {ceiling}", value <= ceiling)

    @classmethod
    def reported(cls, name: str, value: float, unit: str, baseline: float | None = None) -> Figure:
        return cls(name, round(value, 4), unit, baseline)


def write(path: Path, figures: list[Figure], groups: set[str]) -> list[dict[str, object]]:
    """Replace the figures of the groups just run (and any figure measured again), keep the others in the file."""
    old: list[dict[str, object]] = []
    fresh = {f.name for f in figures}
    if path.exists():
        old = [
            f
            for f in json.loads(path.read_text())
            if str(f["name"]).split(".")[0] not in groups and f["name"] not in fresh
        ]
    rows = old + [asdict(f) for f in figures]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
    return rows


def table(figures: list[Figure]) -> str:
    lines = [f"{'figure':<40} {'value':>14} {'unit':<12} {'baseline':>12} {'target':<10} ok"]
    for f in figures:
        base = "" if f.baseline is None else f"{f.baseline:.1f}"
        ok = "" if f.ok is None else ("yes" if f.ok else "NO")
        lines.append(f"{f.name:<40} {f.value:>14.4f} {f.unit:<12} {base:>12} {f.target or '':<10} {ok}")
    return "\n".join(lines)
