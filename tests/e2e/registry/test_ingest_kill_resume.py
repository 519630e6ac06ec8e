"""SIGKILL in the middle of a streamed ingest, restart, resend from the acknowledged position: no loss, no duplicate."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from creditnode.registry.v1 import records_pb2 as rec_pb
from tests.integration.registry.records_support import (
    as_department,
    create_departments,
    ingestion,
    records,
    tax_stream,
)
from tests.processes import ServiceProcess, start_service
from tests.registry_helpers import RegistryClient

TAX = as_department("sx-tax")
TOTAL = 6000
KILL_AFTER_SENT = 4250  # not a chunk boundary: the last records sent are never committed
MESSAGE = 250


def _position(address: str) -> int:
    with grpc.insecure_channel(address) as ch:
        req = rec_pb.GetStreamPositionRequest(stream_id="tax-nightly")
        return ingestion(ch).GetStreamPosition(req, metadata=TAX, timeout=10).last_acknowledged_sequence


def _stored(channel: grpc.Channel, usccs: list[str]) -> Counter[str]:
    """How many records (and at which version) are stored per source id, over every enterprise."""
    seen: Counter[str] = Counter()
    for uscc in usccs:
        token = ""
        while True:
            page = records(channel).ListEnterpriseRecords(
                rec_pb.ListEnterpriseRecordsRequest(parent=f"enterprises/{uscc}", page_size=1000, page_token=token)
            )
            for r in page.records:
                assert r.version == 1
                seen[r.provenance.source_record_id] += 1
            token = page.next_page_token
            if not token:
                break
    return seen


def test_killed_mid_stream_then_resent_from_the_acknowledged_position(
    port: int, tmp_path: Path, database_url: str
) -> None:
    env = {"DATABASE_URL": database_url, "VAR_DIR": str(tmp_path), "CA_AUTOCREATE": "true"}
    registry: ServiceProcess = start_service("registry", port, tmp_path, env)
    try:
        registry.wait_serving()
        with grpc.insecure_channel(registry.address) as ch:
            client = RegistryClient(ch)
            create_departments(client)
            platform, _ = client.admitted_platform()
            usccs = [client.enterprise(platform.name)[0].uscc for _ in range(5)]
        victim = registry

        def first_attempt() -> Iterator[rec_pb.StreamRecordsRequest]:
            batch: list[rec_pb.IngestRecord] = []
            for record in tax_stream(usccs, 1, TOTAL + 1):
                batch.append(record)
                if len(batch) == MESSAGE:
                    yield rec_pb.StreamRecordsRequest(stream_id="tax-nightly", records=batch)
                    batch = []
                if record.sequence == KILL_AFTER_SENT:
                    # Wait (bounded) until at least one chunk is committed, then kill without warning.
                    deadline = time.monotonic() + 60
                    while _position(victim.address) == 0 and time.monotonic() < deadline:
                        time.sleep(0.05)
                    victim.kill()
                    return

        with grpc.insecure_channel(registry.address) as ch, pytest.raises(grpc.RpcError):
            ingestion(ch).StreamRecords(first_attempt(), metadata=TAX, timeout=120)

        registry = start_service("registry", port, tmp_path, env)
        registry.wait_serving()
        acknowledged = _position(registry.address)
        assert 0 < acknowledged < KILL_AFTER_SENT  # in the middle, with sent records never acknowledged

        def resend() -> Iterator[rec_pb.StreamRecordsRequest]:
            batch = list(tax_stream(usccs, acknowledged + 1, TOTAL + 1))
            for i in range(0, len(batch), MESSAGE):
                yield rec_pb.StreamRecordsRequest(stream_id="tax-nightly", records=batch[i : i + MESSAGE])

        with grpc.insecure_channel(registry.address) as ch:
            done = ingestion(ch).StreamRecords(resend(), metadata=TAX, timeout=120)
            assert done.last_acknowledged_sequence == TOTAL
            assert done.counts.accepted == TOTAL - acknowledged
            assert done.counts.duplicate == 0
            assert done.counts.rejected == 0
            stored = _stored(ch, usccs)
        assert set(stored) == {f"tax-{n}" for n in range(1, TOTAL + 1)}  # nothing lost
        assert set(stored.values()) == {1}  # nothing duplicated
        assert registry.terminate() == 0
    finally:
        registry.kill()
