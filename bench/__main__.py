"""`make bench [ONLY=group]`: run benchmark groups, print a table, write var/bench.json."""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path

from bench.figures import Figure, table, write

# group name (the figures' prefix) -> module that measures it
GROUPS = {
    "grpc": "bench.echo",
    "evidence": "bench.evidence",
    "scoring": "bench.scoring",
    "registry": "bench.registry",
    "consent": "bench.consent",
    "gateway": "bench.gateway",
    "scoring_service": "bench.scoring_service",
    "reliability": "bench.reliability",
}
OUT = Path(__file__).resolve().parents[1] / "var" / "bench.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", choices=sorted(GROUPS), help="run one group")
    args = parser.parse_args()
    groups = [args.only] if args.only else GROUPS
    figures: list[Figure] = []
    for group in groups:
        print(f"== {group}", flush=True)
        got = importlib.import_module(GROUPS[group]).run()
        print(table(got), flush=True)
        figures += got
    write(OUT, figures, set(groups))
    print(f"\n{table(figures)}\nwritten to {OUT}")


if __name__ == "__main__":
    main()
