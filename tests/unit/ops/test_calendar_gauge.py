"""Only the objection service says whether the holiday calendar is loaded: the alert rules take the minimum of every
series of creditnode_calendar_next_year_loaded, so a 0 from any other service would page all year."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_services_other_than_objection_export_no_calendar_series() -> None:
    # A fresh process, as a pod: every service imports the kit's metrics, whatever earlier tests set in this one.
    script = (
        "import services.registry.main, services.consent.main, services.scoring.main, services.gateway.main\n"
        "import services.objection.main\n"  # imported, but no sweep has run: nothing known of the calendar yet
        "from prometheus_client import generate_latest\n"
        "print(generate_latest().decode())\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")])}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert "# TYPE creditnode_calendar_next_year_loaded gauge" in out  # registered, so the name is right
    samples = [line for line in out.splitlines() if line.startswith("creditnode_calendar_next_year_loaded")]
    assert samples == []
