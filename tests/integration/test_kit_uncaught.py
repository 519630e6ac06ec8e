"""An exception nothing caught, in a service's main thread or any other, is logged redacted, not printed as it is."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ID_NUMBER = "61010319900307123X"
PHONE = "13912345678"

# A composition root whose build fails: a worker thread first, then the main thread, each with a number in its text.
SERVICE = textwrap.dedent(
    f"""
    import threading
    from pathlib import Path

    from services.kit.config import ServiceSettings
    from services.kit.logging import configure_logging
    from services.kit.runtime import run_main


    def work() -> None:
        raise ValueError("no enterprise for {ID_NUMBER}")


    def build(settings: ServiceSettings) -> None:
        configure_logging("probe", background=True)  # what start_runtime does
        worker = threading.Thread(target=work, name="worker")
        worker.start()
        worker.join()
        raise RuntimeError("call {PHONE} back")


    run_main("probe", ServiceSettings, Path("."), build)
    """
)


def test_a_services_uncaught_exceptions_are_logged_without_the_numbers_in_them() -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "gen")])}
    result = subprocess.run(
        [sys.executable, "-c", SERVICE], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    told = result.stdout + result.stderr
    assert ID_NUMBER not in told
    assert PHONE not in told
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    uncaught = [line for line in lines if line["event"] == "uncaught_exception"]
    # Still says what failed, where: the type and the traceback, in each thread.
    assert [(line["thread"], line["exception"].splitlines()[-1].split(":")[0]) for line in uncaught] == [
        ("worker", "ValueError"),
        ("MainThread", "RuntimeError"),
    ], result
    assert all("Traceback" in line["exception"] and line["level"] == "critical" for line in uncaught)
    assert all(line["service"] == "probe" for line in uncaught)
