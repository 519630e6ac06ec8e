"""GatewayService: turns wire messages into use-case calls and results back into wire messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from creditnode.gateway.v1 import gateway_service_pb2 as pb
from creditnode.gateway.v1 import gateway_service_pb2_grpc as pb_grpc
from creditnode.objection.v1 import objection_service_pb2 as ob
from services.gateway.api.identity import Identify, revoked_certificate_of
from services.gateway.domain.objection_signing import Signature
from services.gateway.domain.policy import Openness, Withheld
from services.gateway.domain.selfquery import SignedSelfQuery
from services.gateway.evidence_packages import EvidencePackages, PackageRequest
from services.gateway.usecases import Gateway, ReportQuery
from services.kit.errors import DomainError
from services.kit.protos import from_timestamp

SERVICE_NAME: str = pb.DESCRIPTOR.services_by_name["GatewayService"].full_name

_OPENNESS = {
    Openness.PUBLIC: 1,
    Openness.NON_PUBLIC: 2,
    Openness.OPERATING_OPT_IN: 3,
    Openness.COMMERCIAL_SECRET: 4,
}
_WITHHELD = {
    Withheld.NOT_AUTHORIZED: pb.WITHHELD_REASON_NOT_AUTHORIZED,
    Withheld.DERIVED_ONLY: pb.WITHHELD_REASON_DERIVED_ONLY,
    Withheld.COMMERCIAL_SECRET: pb.WITHHELD_REASON_COMMERCIAL_SECRET,
    Withheld.UNKNOWN_ITEM: pb.WITHHELD_REASON_UNKNOWN_ITEM,
}


def _signed_at(ts: Timestamp) -> datetime:
    at = from_timestamp(ts, "signature.signed_at")
    assert at is not None  # required
    return at


def _disclosure(index: int, at: datetime, p: dict[str, Any]) -> pb.Disclosure:
    """A history entry (a release, or an evidence package exported about the enterprise) as the enterprise sees it."""
    d = pb.Disclosure(
        leaf_index=index,
        requester=str(p.get("requester", "")),
        platform=str(p.get("platform", "")),
        purpose=str(p.get("purpose", "")),
        item_codes=[str(c) for c in p.get("released", [])],
        authorization=str(p.get("authorization", "")),
        payload_sha256=str(p.get("payload_sha256", "")),
        kind=pb.DISCLOSURE_KIND_RELEASE,
    )
    if p.get("type") == "evidence_package":
        d.kind = pb.DISCLOSURE_KIND_EVIDENCE_PACKAGE
        d.item_codes.append("evidence_package")
        d.evidence_package.CopyFrom(
            pb.EvidencePackageExport(
                lender=str(p.get("lender", "")),
                loan_id=str(p.get("loan", "")),
                dispute_reference_sha256=str(p.get("dispute_sha256", "")),
            )
        )
    d.release_time.FromDatetime(at.astimezone(UTC))
    return d


class GatewayServicer(pb_grpc.GatewayServiceServicer):
    def __init__(self, gateway: Gateway, identify: Identify, packages: EvidencePackages) -> None:
        self.gateway = gateway
        self.identify = identify
        self.packages = packages

    def _who(self, context: grpc.ServicerContext, method: str, enterprise: str, request_id: str = "") -> str:
        try:
            return self.identify(context)
        except DomainError as exc:
            self.gateway.denied(method, "", enterprise, exc, request_id, revoked_certificate_of(exc))
            raise

    def _receipt(self, leaf: int, digest: str) -> pb.DisclosureReceipt:
        return pb.DisclosureReceipt(leaf_index=leaf, payload_sha256=digest, origin=self.gateway.disclosure_log.origin)

    def GetCreditReport(self, request: pb.GetCreditReportRequest, context: grpc.ServicerContext) -> Any:
        connected = self._who(context, "credit_report", request.enterprise, request.request_id)
        report = self.gateway.credit_report(
            ReportQuery(
                enterprise=request.enterprise,
                purpose=request.purpose,
                item_codes=tuple(request.item_codes),
                categories=tuple(request.categories),
                institution=request.institution,
                on_behalf_of=request.on_behalf_of,
                request_id=request.request_id,
            ),
            connected,
        )
        return pb.GetCreditReportResponse(
            enterprise=report.enterprise,
            decision=pb.DECISION_ALLOW if report.allowed else pb.DECISION_DENY,
            authorization=report.authorization,
            consent_reason=report.consent_reason,  # type: ignore[arg-type]
            items=[
                pb.ItemDecision(
                    item_code=v.item_code,
                    openness=_OPENNESS.get(v.openness, 0) if v.openness else 0,  # type: ignore[arg-type]
                    decision=pb.DECISION_ALLOW if v.released else pb.DECISION_DENY,
                    withheld_reason=_WITHHELD[v.withheld] if v.withheld else 0,  # type: ignore[arg-type]
                )
                for v in report.verdicts
            ],
            records=[pb.ReleasedRecord(record=r, in_dispute=bool(r.disputes)) for r in report.records],
            receipt=self._receipt(report.leaf_index, report.payload_sha256),
        )

    def SelfQuery(self, request: pb.SelfQueryRequest, context: grpc.ServicerContext) -> Any:
        connected = self._who(context, "self_query", request.enterprise)
        sig = request.signature
        try:
            signed_at = _signed_at(sig.signed_at)
        except DomainError as exc:
            raise self.gateway.refuse("self_query", connected, request.on_behalf_of, request.enterprise, exc) from None
        query = SignedSelfQuery(
            enterprise=request.enterprise,
            item_codes=tuple(request.item_codes),
            key_id=sig.key_id,
            nonce=sig.nonce,
            signed_at=signed_at,
            signature=bytes(sig.signature),
            page_size=request.page_size,
            page_token=request.page_token,
        )
        result = self.gateway.self_query(query, connected, request.on_behalf_of)
        return pb.SelfQueryResponse(
            records=[pb.ReleasedRecord(record=r, in_dispute=bool(r.disputes)) for r in result.records],
            disclosures=[_disclosure(index, at, p) for index, at, p in result.disclosures],
            receipt=self._receipt(result.leaf_index, result.payload_sha256),
            next_page_token=result.next_page_token,
        )

    def _relay(self, method: str, inner: Any, on_behalf_of: str, context: grpc.ServicerContext) -> Any:
        connected = self._who(context, method, getattr(inner, "enterprise", ""))
        return self.gateway.relay_consent(method, inner, connected, on_behalf_of)

    def GrantAuthorization(self, request: pb.GrantAuthorizationRequest, context: grpc.ServicerContext) -> Any:
        result = self._relay("GrantAuthorization", request.grant, request.on_behalf_of, context)
        return pb.GrantAuthorizationResponse(result=result)

    def PauseAuthorization(self, request: pb.PauseAuthorizationRequest, context: grpc.ServicerContext) -> Any:
        result = self._relay("PauseAuthorization", request.pause, request.on_behalf_of, context)
        return pb.PauseAuthorizationResponse(result=result)

    def ResumeAuthorization(self, request: pb.ResumeAuthorizationRequest, context: grpc.ServicerContext) -> Any:
        result = self._relay("ResumeAuthorization", request.resume, request.on_behalf_of, context)
        return pb.ResumeAuthorizationResponse(result=result)

    def RevokeAuthorization(self, request: pb.RevokeAuthorizationRequest, context: grpc.ServicerContext) -> Any:
        result = self._relay("RevokeAuthorization", request.revoke, request.on_behalf_of, context)
        return pb.RevokeAuthorizationResponse(result=result)

    def _derived(
        self, method: str, request: Any, context: grpc.ServicerContext, scenario_model: str = ""
    ) -> tuple[Any, str, int, str]:
        connected = self._who(context, method, request.enterprise, request.request_id)
        query = ReportQuery(
            enterprise=request.enterprise,
            purpose=request.purpose,
            item_codes=(),
            categories=(),
            institution=request.institution,
            on_behalf_of=request.on_behalf_of,
            request_id=request.request_id,
        )
        return self.gateway.derived(method, query, connected, scenario_model)

    def GetEvaluation(self, request: pb.GetEvaluationRequest, context: grpc.ServicerContext) -> Any:
        result, authorization, leaf, digest = self._derived("GetEvaluation", request, context)
        return pb.GetEvaluationResponse(
            evaluation=result.evaluation, authorization=authorization, receipt=self._receipt(leaf, digest)
        )

    def GetPortrait(self, request: pb.GetPortraitRequest, context: grpc.ServicerContext) -> Any:
        result, authorization, leaf, digest = self._derived("GetPortrait", request, context)
        return pb.GetPortraitResponse(
            portrait=result.portrait, authorization=authorization, receipt=self._receipt(leaf, digest)
        )

    def GetScenarioScore(self, request: pb.GetScenarioScoreRequest, context: grpc.ServicerContext) -> Any:
        result, authorization, leaf, digest = self._derived(
            "GetScenarioScore", request, context, scenario_model=request.scenario_model
        )
        return pb.GetScenarioScoreResponse(
            evaluation=result.evaluation, authorization=authorization, receipt=self._receipt(leaf, digest)
        )

    def CreateScenarioModel(self, request: pb.CreateScenarioModelRequest, context: grpc.ServicerContext) -> Any:
        connected = self._who(context, "CreateScenarioModel", "")
        return pb.CreateScenarioModelResponse(
            result=self.gateway.scenario_model("CreateScenarioModel", request.model, connected, request.on_behalf_of)
        )

    def FitScenarioModel(self, request: pb.FitScenarioModelRequest, context: grpc.ServicerContext) -> Any:
        connected = self._who(context, "FitScenarioModel", "")
        return pb.FitScenarioModelResponse(
            result=self.gateway.scenario_model("FitScenarioModel", request.fit, connected, request.on_behalf_of)
        )

    def ReportLoan(self, request: pb.ReportLoanRequest, context: grpc.ServicerContext) -> Any:
        connected = self._who(context, "ReportLoan", request.loan.enterprise)
        return pb.ReportLoanResponse(result=self.gateway.report_loan(request.loan, connected, request.on_behalf_of))

    def SubscribeRiskAlerts(self, request: pb.SubscribeRiskAlertsRequest, context: grpc.ServicerContext) -> Any:
        connected = self._who(context, "SubscribeRiskAlerts", "")
        for batch in self.gateway.risk_alerts(
            request.institution,
            request.after_cursor,
            connected,
            request.on_behalf_of,
            authenticated=lambda: self._who(context, "SubscribeRiskAlerts", ""),
        ):
            yield pb.SubscribeRiskAlertsResponse(
                alerts=batch.alerts,
                cursor=batch.cursor,
                receipts=[self._receipt(leaf, digest) for leaf, digest in batch.receipts],
            )

    def AckRiskAlerts(self, request: pb.AckRiskAlertsRequest, context: grpc.ServicerContext) -> Any:
        connected = self._who(context, "AckRiskAlerts", "")
        result = self.gateway.ack_alerts(
            request.institution, request.up_to_cursor, request.request_id, connected, request.on_behalf_of
        )
        return pb.AckRiskAlertsResponse(acknowledged_cursor=result.acknowledged_cursor)

    def FileObjection(self, request: pb.FileObjectionRequest, context: grpc.ServicerContext) -> Any:
        connected = self._who(context, "FileObjection", "")
        signature: Signature | None = None
        # Read only for an enterprise filer, the one that must sign (an institution's filing never needed one).
        if request.objection.filer_kind == ob.FILER_KIND_ENTERPRISE and request.HasField("signature"):
            sig = request.signature
            try:
                signed_at = _signed_at(sig.signed_at)
            except DomainError as exc:
                raise self.gateway.refuse(
                    "FileObjection", connected, request.on_behalf_of, request.objection.filer, exc
                ) from None
            signature = Signature(sig.key_id, sig.nonce, signed_at, bytes(sig.signature))
        return pb.FileObjectionResponse(
            result=self.gateway.file_objection(request.objection, connected, request.on_behalf_of, signature)
        )

    def GetObjection(self, request: pb.GetObjectionRequest, context: grpc.ServicerContext) -> Any:
        connected = self._who(context, "GetObjection", "")
        return pb.GetObjectionResponse(result=self.gateway.get_objection(request.name, connected, request.on_behalf_of))

    def GetEvidencePackage(self, request: pb.GetEvidencePackageRequest, context: grpc.ServicerContext) -> Any:
        connected = self._who(context, "evidence_package", request.enterprise)
        exported = self.packages.export(
            PackageRequest(
                arbiter=request.arbiter,
                reference=request.dispute_reference,
                enterprise=request.enterprise,
                lender=request.lender,
                loan_id=request.loan_id,
                on_behalf_of=request.on_behalf_of,
            ),
            connected,
        )
        return pb.GetEvidencePackageResponse(
            package_json=exported.package_json, package_sha256=exported.sha256, leaf_index=exported.leaf_index
        )


def register(server: grpc.Server, servicer: GatewayServicer) -> list[str]:
    pb_grpc.add_GatewayServiceServicer_to_server(servicer, server)
    return [SERVICE_NAME]
