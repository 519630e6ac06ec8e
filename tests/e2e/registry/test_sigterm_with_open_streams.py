"""SIGTERM while clients hold the registry's watch streams open and a department is mid-stream: it stops in time."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import grpc

from creditnode.registry.v1 import records_pb2 as rec_pb
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from creditnode.registry.v1 import registry_service_pb2_grpc as rs_grpc
from tests.integration.registry.records_support import (
    as_department,
    create_departments,
    ingestion,
    records,
    tax_stream,
)
from tests.processes import start_service
from tests.registry_helpers import RegistryClient

TAX = as_department("sx-tax")


def test_sigterm_with_watches_held_open_and_an_ingest_mid_stream_stops_cleanly(
    port: int, tmp_path: Path, database_url: str
) -> None:
    # Candidates for the registry once not stopping within 15 s of SIGTERM in CI: streams that outlive the server's
    # stop. The client keeps every stream open (and the department's stream unfinished) through the stop.
    env = {"DATABASE_URL": database_url, "VAR_DIR": str(tmp_path), "CA_AUTOCREATE": "true"}
    registry = start_service("registry", port, tmp_path, env)
    held = threading.Event()
    try:
        registry.wait_serving()
        with grpc.insecure_channel(registry.address) as ch:
            client = RegistryClient(ch)
            create_departments(client)
            platform, _ = client.admitted_platform()
            usccs = [client.enterprise(platform.name)[0].uscc]
            participants = rs_grpc.RegistryServiceStub(ch).WatchParticipants(
                rs_pb.WatchParticipantsRequest(), timeout=120
            )
            changes = records(ch).WatchRecordChanges(rec_pb.WatchRecordChangesRequest(), timeout=120)
            assert next(participants).revision > 0
            assert next(changes).revision >= 0

            def department_stream() -> Iterator[rec_pb.StreamRecordsRequest]:
                yield rec_pb.StreamRecordsRequest(stream_id="tax-nightly", records=list(tax_stream(usccs, 1, 11)))
                held.wait(120)  # never finished by the client: the server's stop ends it

            upload = ingestion(ch).StreamRecords.future(department_stream(), metadata=TAX, timeout=120)
            assert registry.terminate() == 0
            assert upload.done()
    finally:
        held.set()
        registry.kill()
    events = [json.loads(line)["event"] for line in registry.log().splitlines() if line.startswith("{")]
    assert "stopping" in events
    assert events[-1] == "stopped"
    assert "handlers_still_running" not in events
