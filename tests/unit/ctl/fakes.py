"""An in-process fake node for creditctl's unit tests: scripted answers, recorded requests, real gRPC in between."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from creditnode.evidence.v1 import evidence_log_service_pb2 as ev_pb
from creditnode.evidence.v1 import evidence_log_service_pb2_grpc as ev_grpc
from creditnode.gateway.v1 import gateway_service_pb2 as gw_pb
from creditnode.gateway.v1 import gateway_service_pb2_grpc as gw_grpc
from creditnode.gateway.v1 import supervision_service_pb2 as sv_pb
from creditnode.gateway.v1 import supervision_service_pb2_grpc as sv_grpc
from creditnode.objection.v1 import objection_service_pb2 as ob_pb
from creditnode.objection.v1 import objection_service_pb2_grpc as ob_grpc
from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_admin_service_pb2_grpc as admin_grpc
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from creditnode.registry.v1 import registry_service_pb2_grpc as rs_grpc
from creditnode.registry.v1 import sharing_list_pb2 as sl_pb
from creditnode.registry.v1 import sharing_list_pb2_grpc as sl_grpc
from creditnode.scoring.v1 import scoring_service_pb2 as sc_pb
from creditnode.scoring.v1 import scoring_service_pb2_grpc as sc_grpc


@dataclass
class Refusal:
    """A scripted failure: a gRPC code, a message and (optionally) an ErrorInfo reason and metadata."""

    code: int
    message: str
    reason: str = ""
    metadata: dict[str, str] = field(default_factory=dict)

    def status(self) -> grpc.Status:
        details = []
        if self.reason:
            detail = any_pb2.Any()
            detail.Pack(error_details_pb2.ErrorInfo(reason=self.reason, domain="creditnode", metadata=self.metadata))
            details.append(detail)
        return rpc_status.to_status(status_pb2.Status(code=self.code, message=self.message, details=details))


ILLEGAL = Refusal(
    code_pb2.FAILED_PRECONDITION, "cannot admit a platform that is ADMITTED", "ERROR_REASON_ILLEGAL_TRANSITION"
)


@dataclass
class FakeNode:
    """Every servicer creditctl calls; ``answers`` scripts responses by method, ``requests`` records what came in."""

    answers: dict[str, Any] = field(default_factory=dict)
    requests: dict[str, list[Any]] = field(default_factory=dict)

    def answer(self, method: str, request: Any, context: grpc.ServicerContext, default: Any) -> Any:
        self.requests.setdefault(method, []).append(request)
        answer = self.answers.get(method, default)
        if isinstance(answer, list):  # successive pages, starting over for the next command
            answer = answer[(len(self.requests[method]) - 1) % len(answer)]
        if callable(answer):  # an answer that depends on the request (or on a log that grows between calls)
            answer = answer(request)
        if isinstance(answer, Refusal):
            context.abort_with_status(answer.status())
        return answer


def platform(status: pb.PlatformStatus = pb.PLATFORM_STATUS_APPLIED, serial: str = "") -> pb.Platform:
    return pb.Platform(
        name="platforms/xian",
        display_name="西安市融资信用服务平台",
        kind=pb.PLATFORM_KIND_CITY,
        region_code="610100",
        docking=pb.DOCKING_DIRECT,
        status=status,
        certificate_serial=serial,
    )


class _Admin(admin_grpc.RegistryAdminServiceServicer):
    def __init__(self, node: FakeNode) -> None:
        self.node = node

    def __getattribute__(self, name: str) -> Any:
        if name[:1].isupper():
            node = object.__getattribute__(self, "node")
            defaults = {
                "AdmitPlatform": admin_pb.AdmitPlatformResponse(
                    platform=platform(pb.PLATFORM_STATUS_ADMITTED, "0abc"),
                    credential=admin_pb.Credential(certificate_pem="CERT\n", ca_certificate_pem="CA\n", serial="0abc"),
                ),
                "ReadmitPlatform": admin_pb.ReadmitPlatformResponse(platform=platform(pb.PLATFORM_STATUS_ADMITTED)),
                "IssuePlatformCertificate": admin_pb.IssuePlatformCertificateResponse(
                    credential=admin_pb.Credential(certificate_pem="CERT2\n", serial="0def")
                ),
                "ListPlatformHistory": admin_pb.ListPlatformHistoryResponse(),
                "ListPlatformsDueForReview": admin_pb.ListPlatformsDueForReviewResponse(),
            }
            response_class = getattr(admin_pb, f"{name}Response", None)
            default = defaults.get(name)
            if default is None and response_class is not None:
                has_platform = "platform" in response_class.DESCRIPTOR.fields_by_name
                default = response_class(platform=platform()) if has_platform else response_class()
            return lambda request, context: node.answer(name, request, context, default)
        return object.__getattribute__(self, name)


class _Registry(rs_grpc.RegistryServiceServicer):
    def __init__(self, node: FakeNode) -> None:
        self.node = node

    def GetPlatform(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self.node.answer("GetPlatform", request, context, rs_pb.GetPlatformResponse(platform=platform()))

    def GetCertificateRevocationList(self, request: Any, context: grpc.ServicerContext) -> Any:
        default = rs_pb.GetCertificateRevocationListResponse(crl_der=b"\x30\x03DER", revoked_serials=["0abc", "0def"])
        return self.node.answer("GetCertificateRevocationList", request, context, default)

    def GetCoverage(self, request: Any, context: grpc.ServicerContext) -> Any:
        default = rs_pb.GetCoverageResponse(
            regions=[rs_pb.RegionCoverage(region_code="610100", platforms_admitted=2)], platforms_admitted=2
        )
        return self.node.answer("GetCoverage", request, context, default)


class _SharingList(sl_grpc.SharingListServiceServicer):
    def __init__(self, node: FakeNode) -> None:
        self.node = node

    def GetSharingList(self, request: Any, context: grpc.ServicerContext) -> Any:
        default = sl_pb.GetSharingListResponse(
            version=sl_pb.SharingListVersion(version=1, title="清单", item_count=1),
            sharing_list=sl_pb.SharingList(
                version=1, items=[sl_pb.SharingListItem(code="TAX_PAYMENT", name="纳税", department="sx-tax")]
            ),
            yaml_text="version: 1\n",
        )
        return self.node.answer("GetSharingList", request, context, default)

    def PublishSharingList(self, request: Any, context: grpc.ServicerContext) -> Any:
        default = sl_pb.PublishSharingListResponse(
            version=sl_pb.SharingListVersion(version=2),
            diff=sl_pb.SharingListDiff(
                from_version=1,
                to_version=2,
                changes=[sl_pb.SharingListChange(path="title", kind=sl_pb.SHARING_LIST_CHANGE_KIND_CHANGED)],
            ),
        )
        return self.node.answer("PublishSharingList", request, context, default)

    def DiffSharingListVersions(self, request: Any, context: grpc.ServicerContext) -> Any:
        default = sl_pb.DiffSharingListVersionsResponse(
            diff=sl_pb.SharingListDiff(
                from_version=request.from_version,
                to_version=request.to_version,
                breaking=True,
                changes=[
                    sl_pb.SharingListChange(
                        path="items/TAX_PAYMENT", kind=sl_pb.SHARING_LIST_CHANGE_KIND_REMOVED, breaking=True
                    )
                ],
            )
        )
        return self.node.answer("DiffSharingListVersions", request, context, default)


class _Scoring(sc_grpc.ScoringServiceServicer):
    def __init__(self, node: FakeNode) -> None:
        self.node = node

    def PublishModel(self, request: Any, context: grpc.ServicerContext) -> Any:
        default = sc_pb.PublishModelResponse(
            model=sc_pb.Model(name="models/basic-v2", version="basic-v2", current=True), enterprises_reevaluated=1200
        )
        return self.node.answer("PublishModel", request, context, default)

    def GetEffectiveness(self, request: Any, context: grpc.ServicerContext) -> Any:
        default = sc_pb.GetEffectivenessResponse(
            rows=[
                sc_pb.EffectRow(period="2025", platform="platforms/xian", city="610100", institution="*",
                                loans_granted=3, small_micro_share=0.25)
            ],
            progress=sc_pb.PlanProgress(balance_progress=0.5, target_share=0.2),
        )  # fmt: skip
        return self.node.answer("GetEffectiveness", request, context, default)


class _Objection(ob_grpc.ObjectionServiceServicer):
    def __init__(self, node: FakeNode) -> None:
        self.node = node

    def ListOverdueObjections(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self.node.answer("ListOverdueObjections", request, context, ob_pb.ListOverdueObjectionsResponse())


class _Evidence(ev_grpc.EvidenceLogServiceServicer):
    def __init__(self, node: FakeNode) -> None:
        self.node = node

    def GetSignedTreeHead(self, request: Any, context: grpc.ServicerContext) -> Any:
        head = ev_pb.SignedTreeHead(origin="creditnode/gateway", tree_size=3, key_id="k1")
        return self.node.answer("GetSignedTreeHead", request, context, ev_pb.GetSignedTreeHeadResponse(tree_head=head))

    def ListLeaves(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self.node.answer("ListLeaves", request, context, ev_pb.ListLeavesResponse())

    def GetInclusionProof(self, request: Any, context: grpc.ServicerContext) -> Any:
        receipt = f'{{"leaf_index": {request.leaf_index}}}'
        default = ev_pb.GetInclusionProofResponse(tree_size=request.tree_size, receipt_json=receipt)
        return self.node.answer("GetInclusionProof", request, context, default)

    def ListPublicKeys(self, request: Any, context: grpc.ServicerContext) -> Any:
        default = ev_pb.ListPublicKeysResponse(public_keys=[ev_pb.PublicKey(key_id="k1")])
        return self.node.answer("ListPublicKeys", request, context, default)


class _Gateway(gw_grpc.GatewayServiceServicer):
    def __init__(self, node: FakeNode) -> None:
        self.node = node

    def GetEvidencePackage(self, request: Any, context: grpc.ServicerContext) -> Any:
        package = '{"format": "creditnode.evidence-package.v1"}\n'
        default = gw_pb.GetEvidencePackageResponse(
            package_json=package, package_sha256=hashlib.sha256(package.encode()).hexdigest(), leaf_index=9
        )
        return self.node.answer("GetEvidencePackage", request, context, default)


class _Supervision(sv_grpc.SupervisionServiceServicer):
    def __init__(self, node: FakeNode) -> None:
        self.node = node

    def ListFindings(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self.node.answer("ListFindings", request, context, sv_pb.ListFindingsResponse())

    def RunSupervision(self, request: Any, context: grpc.ServicerContext) -> Any:
        return self.node.answer("RunSupervision", request, context, sv_pb.RunSupervisionResponse())


@contextmanager
def serve(node: FakeNode) -> Iterator[str]:
    """Every fake servicer on one local port; yields the address."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    admin_grpc.add_RegistryAdminServiceServicer_to_server(_Admin(node), server)
    rs_grpc.add_RegistryServiceServicer_to_server(_Registry(node), server)
    sl_grpc.add_SharingListServiceServicer_to_server(_SharingList(node), server)
    sc_grpc.add_ScoringServiceServicer_to_server(_Scoring(node), server)
    ob_grpc.add_ObjectionServiceServicer_to_server(_Objection(node), server)
    ev_grpc.add_EvidenceLogServiceServicer_to_server(_Evidence(node), server)
    gw_grpc.add_GatewayServiceServicer_to_server(_Gateway(node), server)
    sv_grpc.add_SupervisionServiceServicer_to_server(_Supervision(node), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(None)
