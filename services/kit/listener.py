"""``PlainListener``: a second, plaintext gRPC port serving only what its callers may reach, with mirrored health.

A service's main port serves everything; a listener narrows what one kind of caller can reach, so that the network
policy admitting those callers admits only those services (the gateway's internal port; the registry's ingestion
port for the data-sharing exchange). Calls go through the kit's request interceptor: the same error mapping and
request logs as the main port. Health mirrors the main server's readiness checks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from services.kit.server import (
    LIVENESS,
    CallPool,
    ReadinessCheck,
    RequestInterceptor,
    all_ready,
)

_NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


class PlainListener:
    """Plain gRPC on ``addr``: health, and the services ``register`` adds."""

    def __init__(
        self,
        name: str,
        addr: str,
        checks: Sequence[ReadinessCheck],
        register: Callable[[grpc.Server], object] | None = None,
        *,
        max_workers: int = 4,
    ) -> None:
        self.name = name
        self._pool = CallPool(max_workers=max_workers, thread_name_prefix=f"{name}-plain")
        self.server = grpc.server(
            self._pool,
            interceptors=[RequestInterceptor(name, propagate_only=True)],
            options=[("grpc.so_reuseport", 0)],
        )
        self.health = health.HealthServicer(experimental_non_blocking=True)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        # A process that answers is alive: the liveness probe of a service whose main port is mTLS (the gateway) asks
        # here, and a NOT_FOUND would have the kubelet restart a healthy pod every minute.
        self.health.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
        if register is not None:
            register(self.server)
        self.port = self.server.add_insecure_port(addr)
        self._checks = list(checks)
        self._stop = threading.Event()
        self._draining = threading.Event()
        self._health_lock = threading.Lock()  # the mirror's SERVING must not land after draining's NOT_SERVING
        self.server.start()
        self._thread = threading.Thread(target=self._run, name=f"{name}-health-mirror", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            ready = all_ready(self._checks)
            with self._health_lock:
                serving = ready and not self._draining.is_set()
                self.health.set("", health_pb2.HealthCheckResponse.SERVING if serving else _NOT_SERVING)
            self._stop.wait(0.5)

    def draining(self) -> None:
        """NOT_SERVING from now on, as the main server's health while it drains (the gateway's readiness probe asks
        here); calls are still served until ``stop``."""
        with self._health_lock:
            self._draining.set()
            self.health.set("", _NOT_SERVING)

    @property
    def pools(self) -> list[CallPool]:
        return [self._pool]

    def begin_stop(self, grace: float) -> threading.Event:
        """Stop taking calls and end those still running after ``grace``; set once they have ended."""
        self._stop.set()
        self.health.enter_graceful_shutdown()
        return self.server.stop(grace)
