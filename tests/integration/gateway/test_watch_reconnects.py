"""A gateway's watches reconnect at once after a blip, but back off while their service keeps refusing them."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest

from services.gateway.clients.consent import ConsentCache
from services.gateway.clients.participants import ParticipantCache
from services.gateway.clients.record_cache import RecordCache
from services.kit.server import RunningServer, ServerSpec

WATCHES: dict[str, tuple[str, Callable[[grpc.Channel], Any]]] = {
    "consent": ("/creditnode.consent.v1.ConsentService/WatchAuthorizations", lambda ch: ConsentCache(ch, "r1")),
    "participants": (
        "/creditnode.registry.v1.RegistryService/WatchParticipantsAcked",
        lambda ch: ParticipantCache(ch, replica_id="r1"),
    ),
    "records": (
        "/creditnode.registry.v1.RecordService/WatchRecordChanges",
        lambda ch: RecordCache(ch, lambda *_: []),
    ),
}


@pytest.mark.parametrize("watch", sorted(WATCHES))
def test_a_watch_refused_again_and_again_reconnects_less_and_less_often(watch: str) -> None:
    # A service whose database is down refuses every watch at once (UNAVAILABLE). Each gateway replica started its
    # watch again every 0.05 s (consent) or 0.2 s (registry) for as long as the outage lasted: a listing attempt,
    # a database connection and a warning line each time, times the replicas.
    method, make = WATCHES[watch]
    service, name = method.rsplit("/", 1)
    starts: list[float] = []
    lock = threading.Lock()

    def refuse(_: Any, context: grpc.ServicerContext) -> Any:
        with lock:
            starts.append(time.monotonic())
        context.abort(grpc.StatusCode.UNAVAILABLE, "the database is unavailable")

    streaming = grpc.stream_stream_rpc_method_handler if watch != "records" else grpc.unary_stream_rpc_method_handler

    def register(server: grpc.Server) -> list[str]:
        handlers = {name: streaming(refuse)}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service.strip("/"), handlers),))
        return [service.strip("/")]

    server = RunningServer(ServerSpec(name="down", listen_addr="127.0.0.1:0", register=register))
    channel = grpc.insecure_channel(server.address)
    cache = make(channel).start()
    try:
        time.sleep(4)
    finally:
        if hasattr(cache, "stopping"):
            cache.stopping()
        channel.close()
        cache.close()
        server.stop(0)
    assert len(starts) >= 2, "the watch was not started again"
    assert len(starts) <= 12, f"{len(starts)} starts in 4 s"
