"""A department's stream turning malformed mid-way: INVALID_ARGUMENT with its reason, and a position to resume from."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from creditnode.registry.v1 import records_pb2 as rec_pb
from services.kit.status import error_info
from tests.integration.registry.records_support import (
    as_department,
    create_departments,
    ingestion,
    tax_stream,
)
from tests.registry_helpers import RegistryClient

TAX = as_department("sx-tax")
STREAM = "/creditnode.registry.v1.RecordIngestionService/StreamRecords"


def test_a_message_that_is_not_a_stream_request_is_refused_and_the_stream_resumes(
    registry_server: str,
) -> None:
    with grpc.insecure_channel(registry_server) as ch:
        client = RegistryClient(ch)
        create_departments(client)
        platform, _ = client.admitted_platform()
        uscc = client.enterprise(platform.name)[0].uscc
        good = rec_pb.StreamRecordsRequest(stream_id="tax-main", records=list(tax_stream([uscc], 1, 11)))

        def messages() -> Iterator[bytes]:
            yield good.SerializeToString()
            yield b"\xff\xff\xff"  # not a message at all

        raw = ch.stream_unary(STREAM)
        with pytest.raises(grpc.RpcError) as err:
            raw(messages(), metadata=TAX, timeout=30)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        info = error_info(err.value)
        assert info is not None
        assert info.reason == "ERROR_REASON_INVALID_FIELD"
        # What arrived before the bad message may or may not have been stored; the position says which, and
        # resuming from it completes the stream with nothing lost or repeated.
        stub = ingestion(ch)
        done = stub.GetStreamPosition(rec_pb.GetStreamPositionRequest(stream_id="tax-main"), metadata=TAX)
        assert done.last_acknowledged_sequence in (0, 10)
        rest = [r for r in good.records if r.sequence > done.last_acknowledged_sequence]
        resumed = stub.StreamRecords(
            iter([rec_pb.StreamRecordsRequest(stream_id="tax-main", records=rest)]), metadata=TAX
        )
        assert resumed.last_acknowledged_sequence == 10
        assert resumed.counts.accepted == len(rest)
