"""The platform client library as a platform meets it: what it signs verifies at the gateway, a refusal keeps what
the node said, a failed call can be retried under the same request id, the channel is closed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent import futures
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from creditnode.gateway.v1 import gateway_service_pb2 as pb
from creditnode.gateway.v1 import gateway_service_pb2_grpc as pb_grpc
from creditnode.objection.v1 import objection_service_pb2 as ob
from services.gateway.client_lib import GatewayError, ObjectionSigner, PlatformClient
from services.gateway.domain.objection_signing import Signature
from services.gateway.usecases import Gateway
from services.kit.errors import PermissionDenied
from services.kit.protos import from_timestamp
from services.kit.status import domain_error_status
from tests.unit.gateway.test_objection_filing import KEY, USCC, gateway_knowing_the_key
from tests.unit.gateway.test_usecases import (
    E,
)


def gateway() -> Gateway:
    """The gateway's use cases on the real clock: what the client signs now must verify now."""
    return gateway_knowing_the_key(lambda: datetime.now(UTC))


def file_as_the_gateway_reads_it(gw: Gateway, signed: pb.FileObjectionRequest) -> ob.FileObjectionRequest:
    """What the servicer does with the wire message: the objection and the signature, as received."""
    received = pb.FileObjectionRequest.FromString(signed.SerializeToString())
    sig = received.signature
    signed_at = from_timestamp(sig.signed_at, "signature.signed_at")
    assert signed_at is not None
    gw.file_objection(
        received.objection, "platforms/xian", "", Signature(sig.key_id, sig.nonce, signed_at, bytes(sig.signature))
    )
    (relayed,) = gw.objection.filed  # type: ignore[union-attr]
    return relayed


def test_an_objection_whose_receive_time_is_the_zero_timestamp_is_signed_as_the_gateway_reads_it() -> None:
    # A zero Timestamp set on the field (a builder that always fills it) is "no receive time" to the gateway, which
    # verified "receive_time=" against the client's signed "receive_time=1970-01-01T00:00:00Z": SIGNATURE_INVALID.
    objection = ob.FileObjectionRequest(
        records=[ob.RecordTarget(record=f"{E}/records/r1", version=1)], reasons="错了", receive_time=Timestamp()
    )
    signed = ObjectionSigner(E, "k1", KEY).sign(objection)
    relayed = file_as_the_gateway_reads_it(gateway(), signed)
    assert relayed.receive_time.seconds > 0  # filled in as for an unset one: when the platform signed it
    assert relayed.receive_time == signed.objection.receive_time


def test_a_retry_signed_from_what_was_sent_repeats_the_request_id_and_receive_time_with_a_new_nonce() -> None:
    signer = ObjectionSigner(E, "k1", KEY)
    first = signer.sign(ob.FileObjectionRequest(records=[ob.RecordTarget(record=f"{E}/records/r1", version=1)]))
    retry = signer.sign(first.objection)
    assert retry.objection == first.objection
    assert retry.signature.nonce != first.signature.nonce
    relayed = file_as_the_gateway_reads_it(gateway(), retry)
    assert relayed.request_id == first.objection.request_id
    assert relayed.receive_time == first.objection.receive_time


class FakeGateway(pb_grpc.GatewayServiceServicer):
    """The gateway's platforms' door, scripted: each call records its request and answers ``answer(request)``."""

    def __init__(self) -> None:
        self.requests: list[Any] = []
        self.answer: Callable[[Any], Any] = lambda request: pb.GetCreditReportResponse()

    def GetCreditReport(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer(request, context)

    def FileObjection(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self._answer(request, context)

    def _answer(self, request: Any, context: grpc.ServicerContext) -> Any:
        self.requests.append(request)
        answer = self.answer(request)
        if isinstance(answer, grpc.Status):
            context.abort_with_status(answer)
        return answer


@dataclass(frozen=True)
class _RawStatus(grpc.Status):
    code: grpc.StatusCode
    details: str
    trailing_metadata: tuple[tuple[str, bytes], ...]


@pytest.fixture
def fake() -> Iterator[tuple[FakeGateway, PlatformClient]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = FakeGateway()
    pb_grpc.add_GatewayServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    client = PlatformClient(grpc.insecure_channel(f"127.0.0.1:{port}"))
    try:
        yield servicer, client
    finally:
        client.close()
        server.stop(None)


def test_a_refusal_keeps_the_errorinfo_metadata_the_gateway_sent(fake: tuple[FakeGateway, PlatformClient]) -> None:
    # A refusal's receipt (its denial leaf) is only in the ErrorInfo metadata; the field names what was wrong.
    gateway, client = fake
    gateway.answer = lambda request: domain_error_status(
        PermissionDenied("ERROR_REASON_PERMISSION_DENIED", "no authorization", {"receipt_leaf_index": "41"})
    )
    with pytest.raises(GatewayError) as err:
        client.credit_report(E, "PRE_LOAN", items=["REG_BASIC"])
    assert err.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert err.value.reason == "ERROR_REASON_PERMISSION_DENIED"
    assert err.value.metadata == {"receipt_leaf_index": "41"}


def test_a_refusal_with_an_unreadable_status_trailer_is_still_a_gateway_error(
    fake: tuple[FakeGateway, PlatformClient],
) -> None:
    # A proxy (or another server) answering with a trailer that is no google.rpc.Status made the library raise the
    # protobuf decoder's error, and the caller lost the gRPC code.
    gateway, client = fake
    gateway.answer = lambda request: _RawStatus(
        grpc.StatusCode.INTERNAL, "broken", (("grpc-status-details-bin", b"\xff\xff\xff"),)
    )
    with pytest.raises(GatewayError) as err:
        client.credit_report(E, "PRE_LOAN", items=["REG_BASIC"])
    assert err.value.code == grpc.StatusCode.INTERNAL
    assert err.value.reason == ""


def test_a_report_that_failed_can_be_retried_under_the_request_id_it_was_sent_with(
    fake: tuple[FakeGateway, PlatformClient],
) -> None:
    # A use of a limited authorization is recorded once per request_id: the id the library made up for a call that
    # failed without an answer (the use may be spent) was lost, so the caller's retry spent a second use.
    gateway, client = fake
    gateway.answer = lambda request: _RawStatus(grpc.StatusCode.UNAVAILABLE, "connection reset", ())
    with pytest.raises(GatewayError) as err:
        client.credit_report(E, "PRE_LOAN", items=["REG_BASIC"])
    (first,) = gateway.requests
    assert first.request_id
    assert err.value.request_id == first.request_id
    gateway.answer = lambda request: pb.GetCreditReportResponse(enterprise=E)
    report = client.credit_report(E, "PRE_LOAN", items=["REG_BASIC"], request_id=err.value.request_id)
    assert gateway.requests[1].request_id == first.request_id
    assert report.request_id == first.request_id


def test_the_client_closes_its_channel_when_used_as_a_context_manager(
    fake: tuple[FakeGateway, PlatformClient],
) -> None:
    # Without it a platform opening a client per batch (``with PlatformClient.connect(...) as client:``) could not,
    # and each forgotten close left a channel and its threads behind.
    _, open_client = fake
    with PlatformClient(open_client.channel) as client:
        client.credit_report(E, "PRE_LOAN", items=["REG_BASIC"])
    with pytest.raises(ValueError, match="closed channel"):
        client.credit_report(E, "PRE_LOAN", items=["REG_BASIC"])


def test_an_institutions_objection_that_failed_can_be_retried_under_the_request_id_it_was_sent_with(
    fake: tuple[FakeGateway, PlatformClient],
) -> None:
    # Filed without a request id, an institution's objection got a random objection id at the objection service, so a
    # retry after a failure without an answer filed a second objection (an enterprise's was given one when signed).
    gateway, client = fake
    gateway.answer = lambda request: _RawStatus(grpc.StatusCode.UNAVAILABLE, "connection reset", ())
    objection = ob.FileObjectionRequest(
        filer_kind=ob.FILER_KIND_INSTITUTION, filer="institutions/boc-xian", enterprise=USCC, reasons="wrong"
    )
    with pytest.raises(GatewayError) as err:
        client.file_objection(objection)
    (first,) = gateway.requests
    assert first.objection.request_id
    assert err.value.request_id == first.objection.request_id
    gateway.answer = lambda request: pb.FileObjectionResponse()
    objection.request_id = err.value.request_id
    client.file_objection(objection)
    assert gateway.requests[1].objection.request_id == first.objection.request_id
