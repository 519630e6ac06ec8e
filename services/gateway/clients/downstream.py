"""Scoring and objection over gRPC: the relays of derived products, loans, alerts and objections."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc

from creditnode.objection.v1 import objection_service_pb2 as opb
from creditnode.objection.v1 import objection_service_pb2_grpc as opb_grpc
from creditnode.scoring.v1 import scoring_service_pb2 as spb
from creditnode.scoring.v1 import scoring_service_pb2_grpc as spb_grpc
from services.gateway.clients.errors import relayed
from services.kit.errors import NotFound


class ScoringClient:
    def __init__(self, channel: grpc.Channel) -> None:
        self.stub = spb_grpc.ScoringServiceStub(channel)

    def call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self.stub, method)(request)
        except grpc.RpcError as exc:
            raise relayed(exc, "scoring") from None

    def check_loan(self, loan_id: str, enterprise: str, lender: str) -> None:
        """NotFound unless the loan register holds this loan between ``enterprise`` and ``lender``."""
        loan = self.call("GetLoan", spb.GetLoanRequest(name=f"loans/{loan_id}")).loan
        if loan.enterprise != enterprise or loan.institution != lender:
            # Said as "not found": the arbiter learns nothing about loans outside its dispute.
            raise NotFound("ERROR_REASON_LOAN_NOT_FOUND", "no such loan between that enterprise and lender")

    def watch_alerts(
        self, institution: str, after_cursor: int
    ) -> tuple[Callable[[], None], Iterator[spb.WatchAlertsResponse]]:
        """A function that ends the call, and its responses; errors surface while iterating."""
        call = self.stub.WatchAlerts(spb.WatchAlertsRequest(institution=institution, after_cursor=after_cursor))

        def stop() -> None:
            # A plain channel returns a call object; behind a tracing interceptor it is a generator, closed instead.
            end = getattr(call, "cancel", None) or getattr(call, "close", None)
            if end is not None:
                end()

        def responses() -> Iterator[spb.WatchAlertsResponse]:
            try:
                yield from call
            except grpc.RpcError as exc:
                if exc.code() != grpc.StatusCode.CANCELLED:
                    raise relayed(exc, "scoring") from None

        return stop, responses()


class ObjectionClient:
    def __init__(self, channel: grpc.Channel) -> None:
        self.stub = opb_grpc.ObjectionServiceStub(channel)

    def file(self, request: opb.FileObjectionRequest) -> opb.FileObjectionResponse:
        try:
            response: opb.FileObjectionResponse = self.stub.FileObjection(request)
        except grpc.RpcError as exc:
            raise relayed(exc, "objection") from None
        return response

    def get(self, name: str, requester: str) -> opb.GetObjectionResponse:
        try:
            response: opb.GetObjectionResponse = self.stub.GetObjection(
                opb.GetObjectionRequest(name=name, requester=requester)
            )
        except grpc.RpcError as exc:
            raise relayed(exc, "objection") from None
        return response
