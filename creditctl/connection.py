"""Channels to the node's services: addresses from flags or environment, plaintext locally, TLS in production."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc

from creditctl.errors import EXIT_USAGE, CtlError

DEFAULT_ADDRESSES = {
    "gateway": "127.0.0.1:50051",
    "registry": "127.0.0.1:50052",
    "consent": "127.0.0.1:50053",
    "scoring": "127.0.0.1:50054",
    "objection": "127.0.0.1:50055",
    # The gateway's internal listener (SupervisionService); make run serves it on the gateway's one port.
    "supervision": "127.0.0.1:50051",
}
# The node's servers send messages of up to 8 MiB (services/kit/server.py); grpc's client default takes only 4 MiB.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


@dataclass
class Tls:
    """Client TLS material: the node CA to trust and, for mTLS, the operator's certificate and key."""

    ca: Path
    cert: Path | None = None
    key: Path | None = None
    server_name: str | None = None

    def credentials(self) -> grpc.ChannelCredentials:
        if (self.cert is None) != (self.key is None):
            raise CtlError("--cert and --key go together", EXIT_USAGE)
        try:
            root = self.ca.read_bytes()
            cert = self.cert.read_bytes() if self.cert else None
            key = self.key.read_bytes() if self.key else None
        except OSError as exc:
            raise CtlError(f"cannot read TLS file: {exc}", EXIT_USAGE) from exc
        return grpc.ssl_channel_credentials(root_certificates=root, private_key=key, certificate_chain=cert)


@dataclass
class Node:
    """Where each service is and how to reach it; channels are opened lazily and closed by ``close``."""

    addresses: dict[str, str]
    tls: Tls | None = None
    timeout: float = 10.0
    _channels: dict[str, grpc.Channel] = field(default_factory=dict)

    def address(self, service: str) -> str:
        return self.addresses[service]

    def channel(self, service: str) -> grpc.Channel:
        if service not in self._channels:
            address = self.addresses[service]
            options: list[tuple[str, Any]] = [("grpc.max_receive_message_length", MAX_MESSAGE_BYTES)]
            if self.tls is None:
                self._channels[service] = grpc.insecure_channel(address, options=options)
            else:
                if self.tls.server_name:
                    # Port-forwards reach the service as localhost; verify the certificate's real name instead.
                    options.append(("grpc.ssl_target_name_override", self.tls.server_name))
                self._channels[service] = grpc.secure_channel(address, self.tls.credentials(), options=options)
        return self._channels[service]

    def close(self) -> None:
        for channel in self._channels.values():
            channel.close()
        self._channels.clear()
