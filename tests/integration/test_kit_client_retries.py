"""Downstream retries on UNAVAILABLE help past a blip but do not multiply the load on a service that is down."""

from __future__ import annotations

import threading

import grpc

from services.kit.client import make_channel
from services.kit.server import RunningServer, ServerSpec


def test_retries_stop_once_most_calls_fail_so_an_outage_is_not_multiplied() -> None:
    # A service whose database is down answers UNAVAILABLE to every call (kit.db's translation). Each of its callers
    # retried every call three more times, so during the outage it received four times the calls it would otherwise.
    attempts: list[int] = []
    lock = threading.Lock()

    def down(_: bytes, context: grpc.ServicerContext) -> bytes:
        with lock:
            attempts.append(1)
        context.abort(grpc.StatusCode.UNAVAILABLE, "the database is unavailable")
        raise AssertionError("abort returned")

    def register(server: grpc.Server) -> list[str]:
        handlers = {"Call": grpc.unary_unary_rpc_method_handler(down)}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Down", handlers),))
        return ["test.Down"]

    server = RunningServer(ServerSpec(name="down", listen_addr="127.0.0.1:0", register=register))
    channel = make_channel(server.address, timeout=10)
    try:
        call = channel.unary_unary("/test.Down/Call")
        codes = []
        for _ in range(20):
            try:
                call(b"x")
            except grpc.RpcError as exc:
                codes.append(exc.code())
    finally:
        channel.close()
        server.stop(0)
    assert codes == [grpc.StatusCode.UNAVAILABLE] * 20
    # a blip is still retried (the first calls), a lasting failure is not: far fewer than 4 attempts a call
    assert 20 < len(attempts) <= 30
