"""SupervisionService: wire messages to the supervision use cases (internal listener only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import grpc

from creditnode.gateway.v1 import supervision_service_pb2 as pb
from creditnode.gateway.v1 import supervision_service_pb2_grpc as pb_grpc
from services.gateway.domain.supervision import Rule
from services.gateway.store.findings import StoredFinding
from services.gateway.supervision import Supervision
from services.gateway.usecases import PLATFORM_NAME
from services.kit.paging import decode_index_token, encode_token, page_size
from services.kit.protos import from_proto_enum, from_timestamp, timestamp
from services.kit.validation import invalid

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["SupervisionService"].full_name


def finding_to_proto(s: StoredFinding) -> pb.Finding:
    f = s.finding
    msg = pb.Finding(
        name=s.name,
        rule=pb.FindingRule.Value(f"FINDING_RULE_{f.rule.value}"),  # type: ignore[arg-type]
        platform=f.platform,
        subject=f.subject,
        day=f.day,
        count=f.count,
        detail=f.detail,
        leaf_indices=list(f.leaves),
        create_time=timestamp(s.created_at),
    )
    if s.reported_at is not None:
        msg.report_time.FromDatetime(s.reported_at)
    return msg


def _time(request: pb.RunSupervisionRequest, field: str) -> datetime:
    at = from_timestamp(getattr(request, field), field) if request.HasField(field) else None
    if at is None:
        raise invalid(field, "is required")
    return at


class SupervisionServicer(pb_grpc.SupervisionServiceServicer):
    def __init__(self, supervision: Supervision) -> None:
        self.supervision = supervision

    def RunSupervision(self, request: pb.RunSupervisionRequest, context: grpc.ServicerContext) -> Any:
        found, scanned = self.supervision.run(_time(request, "start_time"), _time(request, "end_time"))
        return pb.RunSupervisionResponse(findings=[finding_to_proto(f) for f in found], leaves_scanned=scanned)

    def ListFindings(self, request: pb.ListFindingsRequest, context: grpc.ServicerContext) -> Any:
        if request.platform and not PLATFORM_NAME.fullmatch(request.platform):
            raise invalid("platform", "must look like platforms/{id}")
        rule = None
        if request.rule != pb.FINDING_RULE_UNSPECIFIED:
            rule = from_proto_enum(pb.FindingRule, "FINDING_RULE", request.rule, Rule, "rule")
        size = page_size(request.page_size)
        query = [request.platform, request.rule]
        before = decode_index_token(request.page_token, query)
        got = self.supervision.list(before, size + 1, request.platform, rule)
        page = got[:size]
        token = encode_token(str(page[-1].id), query) if len(got) > size else ""
        return pb.ListFindingsResponse(findings=[finding_to_proto(f) for f in page], next_page_token=token)

    def GetFinding(self, request: pb.GetFindingRequest, context: grpc.ServicerContext) -> Any:
        stored, receipts = self.supervision.get(request.name)
        return pb.GetFindingResponse(finding=finding_to_proto(stored), receipts_json=receipts)

    def ReportFinding(self, request: pb.ReportFindingRequest, context: grpc.ServicerContext) -> Any:
        stored = self.supervision.report(request.name)
        return pb.ReportFindingResponse(finding=finding_to_proto(stored), breach_reference=stored.name)


def register_supervision(server: grpc.Server, supervision: Supervision) -> list[str]:
    pb_grpc.add_SupervisionServiceServicer_to_server(SupervisionServicer(supervision), server)
    return [SERVICE_NAME]
