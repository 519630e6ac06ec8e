"""Coverage-guided fuzzing (atheris) of masking and validation: no personal data escapes masking, validation only
ever accepts clean values (a trailing newline included: it once passed) or refuses with INVALID_ARGUMENT."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.reliability.figures import record, reported, zero
from tests.reliability.scale import Scale

REPO = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("target", ["masking", "validation"])
def test_fuzz_target(target: str, scale: Scale, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.reliability.fuzz.targets",
            target,
            f"-runs={scale.fuzz_runs}",
            f"-artifact_prefix={tmp_path}/",
            "-max_len=4096",
        ],
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    done = re.search(r"Done (\d+) runs", proc.stderr)
    coverage = re.findall(r"cov: (\d+)", proc.stderr)
    record(
        reported(f"fuzz_{target}_runs", int(done.group(1)) if done else 0, "count"),
        reported(f"fuzz_{target}_coverage_edges", int(coverage[-1]) if coverage else 0, "count"),
        zero(f"fuzz_{target}_crashes", 0 if proc.returncode == 0 else 1),
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert done is not None
    assert int(done.group(1)) >= scale.fuzz_runs
