"""The registry as supervision needs it: a platform's status history, and recording a finding as a breach."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc

from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_admin_service_pb2_grpc as admin_grpc
from services.gateway.clients.errors import relayed
from services.gateway.domain.supervision import StatusSpan
from services.kit.protos import timestamp


class SupervisionRegistry:
    def __init__(self, channel: grpc.Channel) -> None:
        self.admin = admin_grpc.RegistryAdminServiceStub(channel)

    def status_history(self, platform: str) -> list[StatusSpan]:
        spans: list[StatusSpan] = []
        token = ""
        try:
            while True:
                page = self.admin.ListPlatformHistory(
                    admin_pb.ListPlatformHistoryRequest(name=platform, page_size=1000, page_token=token)
                )
                spans += [StatusSpan(c.change_time.ToDatetime(UTC), c.to_status == "ADMITTED") for c in page.changes]
                token = page.next_page_token
                if not token:
                    return spans
        except grpc.RpcError as exc:
            raise relayed(exc, "registry") from None

    def record_breach(self, platform: str, reference: str, detail: str, occurred_at: datetime) -> None:
        breach = admin_pb.PlatformBreach(
            platform=platform,
            kind=admin_pb.BREACH_KIND_SUPERVISION_FINDING,
            reference=reference,
            detail=detail[:500],
            occur_time=timestamp(occurred_at),
        )
        try:
            self.admin.RecordPlatformBreach(admin_pb.RecordPlatformBreachRequest(breach=breach))
        except grpc.RpcError as exc:
            raise relayed(exc, "registry") from None
