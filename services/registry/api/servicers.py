"""The registry's gRPC servicers: validate the wire message, call a use case, convert the answer. Nothing more."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import grpc

from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_admin_service_pb2_grpc as admin_grpc
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from creditnode.registry.v1 import registry_service_pb2_grpc as rs_grpc
from services.kit import paging, validation
from services.kit.errors import InvalidArgument
from services.kit.notify import CommitNotifier
from services.kit.protos import fingerprint, from_proto_enum, from_timestamp, timestamp
from services.registry import usecases
from services.registry.api import checks, convert
from services.registry.api.watch import AckedParticipantWatch, ParticipantWatch
from services.registry.domain.participants import (
    Breach,
    BreachKind,
    DepartmentKind,
    Docking,
    InstitutionAction,
    InstitutionType,
    PlatformAction,
    PlatformKind,
    PlatformStatus,
    check_region_code,
)
from services.registry.domain.ports import CertificateAuthority
from services.registry.usecases import Idempotency, UowFactory
from services.registry.watch_barrier import EnforcementBarrier

Clock = Callable[[], datetime]


def _platform_id(name: str, field: str = "name") -> str:
    return validation.identifier(field, validation.resource_id(field, name, "platforms"))


def _institution_id(name: str, field: str = "name") -> str:
    return validation.identifier(field, validation.resource_id(field, name, "institutions"))


def _optional_platform_id(name: str, field: str) -> str:
    return _platform_id(name, field) if name else ""


class RegistryAdmin(admin_grpc.RegistryAdminServiceServicer):
    """Operator methods. Every mutation notifies watchers after its commit; one that takes access away returns only
    once every gateway replica on the acknowledged watch applied it or lost its lease (``_enforced``)."""

    def __init__(
        self,
        writer: UowFactory,
        reader: UowFactory,
        ca: CertificateAuthority,
        notifier: CommitNotifier,
        clock: Clock,
        barrier: EnforcementBarrier,
    ) -> None:
        self.writer, self.reader, self.ca, self.notifier, self.clock = writer, reader, ca, notifier, clock
        self.barrier = barrier

    def _enforced(self) -> None:
        """Wait for the latest participant change now, which covers the one just committed (or, for a replayed
        request, the first try's: a retry after a first try that timed out while waiting waits again). Not the
        revision counter: record ingestion advances it too, and no replica's acknowledgement ever reaches a revision
        without a participant event, so a barrier waiting for one would wait out every replica's lease."""
        self.barrier.wait_enforced(usecases.latest_participant_revision(self.reader()))

    def _transition(self, request: Any, action: PlatformAction, csr_pem: str = "") -> tuple[pb.Platform, Any]:
        platform_id = _platform_id(request.name)
        change, idem = convert.change_from(request.change, fingerprint(request, "change.request_id"))
        view, cert = usecases.transition_platform(
            self.writer(), self.ca, platform_id, action, change, idem, self.clock(), csr_pem=csr_pem
        )
        self.notifier.notify()
        if action in usecases.REVOKING_ACTIONS:
            self._enforced()
        return convert.platform(view), convert.credential(cert, self.ca.ca_certificate_pem())

    def CreatePlatform(self, request: admin_pb.CreatePlatformRequest, context: grpc.ServicerContext) -> Any:
        change, idem = convert.change_from(request.change, fingerprint(request, "change.request_id"))
        view = usecases.create_platform(
            self.writer(),
            platform_id=validation.identifier("platform_id", request.platform_id),
            display_name=validation.text("display_name", request.display_name, max_len=200),
            kind=from_proto_enum(pb.PlatformKind, "PLATFORM_KIND", request.kind, PlatformKind, "kind"),
            region_code=validation.text("region_code", request.region_code, max_len=6),
            docking=from_proto_enum(pb.Docking, "DOCKING", request.docking, Docking, "docking"),
            proxy_id=_optional_platform_id(request.proxy, "proxy"),
            change=change,
            idem=idem,
            now=self.clock(),
        )
        self.notifier.notify()
        return admin_pb.CreatePlatformResponse(platform=convert.platform(view))

    def StartPlatformReview(self, request: admin_pb.StartPlatformReviewRequest, context: grpc.ServicerContext) -> Any:
        platform, _ = self._transition(request, PlatformAction.START_REVIEW)
        return admin_pb.StartPlatformReviewResponse(platform=platform)

    def RecordAssessment(self, request: admin_pb.RecordAssessmentRequest, context: grpc.ServicerContext) -> Any:
        platform_id = _platform_id(request.name)
        change, idem = convert.change_from(request.change, fingerprint(request, "change.request_id"))
        view = usecases.record_assessment(
            self.writer(), platform_id, convert.assessment_from(request.assessment), change, idem, self.clock()
        )
        self.notifier.notify()
        return admin_pb.RecordAssessmentResponse(platform=convert.platform(view))

    def AdmitPlatform(self, request: admin_pb.AdmitPlatformRequest, context: grpc.ServicerContext) -> Any:
        platform, credential = self._transition(request, PlatformAction.ADMIT, request.csr_pem)
        return admin_pb.AdmitPlatformResponse(platform=platform, credential=credential)

    def RejectPlatform(self, request: admin_pb.RejectPlatformRequest, context: grpc.ServicerContext) -> Any:
        platform, _ = self._transition(request, PlatformAction.REJECT)
        return admin_pb.RejectPlatformResponse(platform=platform)

    def SuspendPlatform(self, request: admin_pb.SuspendPlatformRequest, context: grpc.ServicerContext) -> Any:
        platform, _ = self._transition(request, PlatformAction.SUSPEND)
        return admin_pb.SuspendPlatformResponse(platform=platform)

    def ReadmitPlatform(self, request: admin_pb.ReadmitPlatformRequest, context: grpc.ServicerContext) -> Any:
        platform, credential = self._transition(request, PlatformAction.READMIT, request.csr_pem)
        return admin_pb.ReadmitPlatformResponse(platform=platform, credential=credential)

    def RemovePlatform(self, request: admin_pb.RemovePlatformRequest, context: grpc.ServicerContext) -> Any:
        platform, _ = self._transition(request, PlatformAction.REMOVE)
        return admin_pb.RemovePlatformResponse(platform=platform)

    def ExitPlatform(self, request: admin_pb.ExitPlatformRequest, context: grpc.ServicerContext) -> Any:
        platform, _ = self._transition(request, PlatformAction.EXIT)
        return admin_pb.ExitPlatformResponse(platform=platform)

    def IssuePlatformCertificate(
        self, request: admin_pb.IssuePlatformCertificateRequest, context: grpc.ServicerContext
    ) -> Any:
        platform_id = _platform_id(request.name)
        change, idem = convert.change_from(request.change, fingerprint(request, "change.request_id"))
        csr = validation.text("csr_pem", request.csr_pem, max_len=16_000)
        cert = usecases.issue_certificate(self.writer(), self.ca, platform_id, csr, change, idem, self.clock())
        self.notifier.notify()
        self._enforced()  # the previous certificate is revoked: no replica may accept it once this returns
        return admin_pb.IssuePlatformCertificateResponse(
            credential=convert.credential(cert, self.ca.ca_certificate_pem())
        )

    def ListPlatformHistory(self, request: admin_pb.ListPlatformHistoryRequest, context: grpc.ServicerContext) -> Any:
        platform_id = _platform_id(request.name)
        size = paging.page_size(request.page_size)
        after = checks.after_row(request.page_token, ["history", platform_id])
        rows = usecases.platform_history(self.reader(), platform_id, after or 0, size + 1)
        token = paging.encode_token(str(rows[size - 1][0]), ["history", platform_id]) if len(rows) > size else ""
        return admin_pb.ListPlatformHistoryResponse(
            changes=[convert.status_change(c) for _, c in rows[:size]], next_page_token=token
        )

    def ListPlatformsDueForReview(
        self, request: admin_pb.ListPlatformsDueForReviewRequest, context: grpc.ServicerContext
    ) -> Any:
        views = usecases.due_for_review(self.reader(), self.clock())
        return admin_pb.ListPlatformsDueForReviewResponse(platforms=[convert.platform(v) for v in views])

    def CreateInstitution(self, request: admin_pb.CreateInstitutionRequest, context: grpc.ServicerContext) -> Any:
        change, idem = convert.change_from(request.change, fingerprint(request, "change.request_id"))
        view = usecases.create_institution(
            self.writer(),
            institution_id=validation.identifier("institution_id", request.institution_id),
            display_name=validation.text("display_name", request.display_name, max_len=200),
            licence_number=validation.text("licence_number", request.licence_number, max_len=40),
            type_=from_proto_enum(pb.InstitutionType, "INSTITUTION_TYPE", request.type, InstitutionType, "type"),
            platform_id=_platform_id(request.platform, "platform"),
            change=change,
            idem=idem,
            now=self.clock(),
        )
        self.notifier.notify()
        return admin_pb.CreateInstitutionResponse(institution=convert.institution(view))

    def _institution_transition(self, request: Any, action: InstitutionAction) -> pb.Institution:
        change, idem = convert.change_from(request.change, fingerprint(request, "change.request_id"))
        view = usecases.transition_institution(
            self.writer(), _institution_id(request.name), action, change, idem, self.clock()
        )
        self.notifier.notify()
        if action in usecases.INSTITUTION_REVOKING_ACTIONS:
            self._enforced()
        return convert.institution(view)

    def SuspendInstitution(self, request: admin_pb.SuspendInstitutionRequest, context: grpc.ServicerContext) -> Any:
        return admin_pb.SuspendInstitutionResponse(
            institution=self._institution_transition(request, InstitutionAction.SUSPEND)
        )

    def ReactivateInstitution(
        self, request: admin_pb.ReactivateInstitutionRequest, context: grpc.ServicerContext
    ) -> Any:
        return admin_pb.ReactivateInstitutionResponse(
            institution=self._institution_transition(request, InstitutionAction.REACTIVATE)
        )

    def RemoveInstitution(self, request: admin_pb.RemoveInstitutionRequest, context: grpc.ServicerContext) -> Any:
        return admin_pb.RemoveInstitutionResponse(
            institution=self._institution_transition(request, InstitutionAction.REMOVE)
        )

    def CreateDepartment(self, request: admin_pb.CreateDepartmentRequest, context: grpc.ServicerContext) -> Any:
        _, idem = convert.change_from(request.change, fingerprint(request, "change.request_id"))
        department = usecases.create_department(
            self.writer(),
            code=validation.identifier("code", request.code),
            display_name=validation.text("display_name", request.display_name, max_len=200),
            kind=from_proto_enum(pb.DepartmentKind, "DEPARTMENT_KIND", request.kind, DepartmentKind, "kind"),
            idem=idem,
            now=self.clock(),
        )
        self.notifier.notify()
        return admin_pb.CreateDepartmentResponse(department=convert.department(department))

    def ReplaceEnterpriseKey(self, request: admin_pb.ReplaceEnterpriseKeyRequest, context: grpc.ServicerContext) -> Any:
        uscc = checks.uscc_of(request.name, "name")
        change, idem = convert.change_from(request.change, fingerprint(request, "change.request_id"))
        enterprise = usecases.replace_enterprise_key(
            self.writer(), uscc=uscc, new_public_key=request.new_public_key, change=change, idem=idem, now=self.clock()
        )
        self.notifier.notify()
        return admin_pb.ReplaceEnterpriseKeyResponse(enterprise=convert.enterprise(enterprise))

    def RecordPlatformBreach(self, request: admin_pb.RecordPlatformBreachRequest, context: grpc.ServicerContext) -> Any:
        b = request.breach
        occurred = from_timestamp(b.occur_time, "breach.occur_time")
        assert occurred is not None
        stored = usecases.record_breach(
            self.writer(),
            Breach(
                platform_id=_platform_id(b.platform, "breach.platform"),
                kind=from_proto_enum(admin_pb.BreachKind, "BREACH_KIND", b.kind, BreachKind, "breach.kind"),
                reference=validation.text("breach.reference", b.reference, max_len=120),
                detail=validation.text("breach.detail", b.detail, max_len=500, required=False),
                occurred_at=occurred,
                recorded_at=self.clock(),
            ),
        )
        return admin_pb.RecordPlatformBreachResponse(breach=convert.breach(stored))

    def ListPlatformBreaches(self, request: admin_pb.ListPlatformBreachesRequest, context: grpc.ServicerContext) -> Any:
        platform_id = _optional_platform_id(request.platform, "platform")
        size = paging.page_size(request.page_size)
        query = ["breaches", platform_id]
        after = checks.after_row(request.page_token, query) or 0
        rows = usecases.list_breaches(self.reader(), platform_id, after, size + 1)
        token = paging.encode_token(str(rows[size - 1][0]), query) if len(rows) > size else ""
        return admin_pb.ListPlatformBreachesResponse(
            breaches=[convert.breach(b) for _, b in rows[:size]], next_page_token=token
        )


class Registry(rs_grpc.RegistryServiceServicer):
    """Reads for internal services, enterprise registration relayed by platforms, and the participant watch."""

    def __init__(
        self,
        writer: UowFactory,
        reader: UowFactory,
        ca: CertificateAuthority,
        notifier: CommitNotifier,
        clock: Clock,
        barrier: EnforcementBarrier,
    ) -> None:
        self.writer, self.reader, self.ca, self.notifier, self.clock = writer, reader, ca, notifier, clock
        self.watch = ParticipantWatch(reader, notifier, clock)
        self.acked_watch = AckedParticipantWatch(reader, notifier, clock, barrier)

    def GetPlatform(self, request: rs_pb.GetPlatformRequest, context: grpc.ServicerContext) -> Any:
        view = usecases.get_platform(self.reader(), _platform_id(request.name), self.clock())
        return rs_pb.GetPlatformResponse(platform=convert.platform(view))

    def ListPlatforms(self, request: rs_pb.ListPlatformsRequest, context: grpc.ServicerContext) -> Any:
        size = paging.page_size(request.page_size)
        status = (
            from_proto_enum(pb.PlatformStatus, "PLATFORM_STATUS", request.status, PlatformStatus, "status")
            if request.status
            else None
        )
        region = check_region_code(request.region_code) if request.region_code else ""
        proxy = _optional_platform_id(request.proxy, "proxy")
        query = ["platforms", request.status, region, proxy]
        views = usecases.list_platforms(
            self.reader(),
            after=checks.after_key(request.page_token, query, checks.PARTICIPANT_ID),
            limit=size + 1,
            status=status,
            region_code=region,
            proxy_id=proxy,
            now=self.clock(),
        )
        token = paging.encode_token(views[size - 1].platform.platform_id, query) if len(views) > size else ""
        return rs_pb.ListPlatformsResponse(platforms=[convert.platform(v) for v in views[:size]], next_page_token=token)

    def GetInstitution(self, request: rs_pb.GetInstitutionRequest, context: grpc.ServicerContext) -> Any:
        view = usecases.get_institution(self.reader(), _institution_id(request.name))
        return rs_pb.GetInstitutionResponse(institution=convert.institution(view))

    def ListInstitutions(self, request: rs_pb.ListInstitutionsRequest, context: grpc.ServicerContext) -> Any:
        size = paging.page_size(request.page_size)
        platform_id = _optional_platform_id(request.platform, "platform")
        query = ["institutions", platform_id]
        after = checks.after_key(request.page_token, query, checks.PARTICIPANT_ID)
        views = usecases.list_institutions(self.reader(), after=after, limit=size + 1, platform_id=platform_id)
        token = paging.encode_token(views[size - 1].institution.institution_id, query) if len(views) > size else ""
        return rs_pb.ListInstitutionsResponse(
            institutions=[convert.institution(v) for v in views[:size]], next_page_token=token
        )

    def RegisterEnterprise(self, request: rs_pb.RegisterEnterpriseRequest, context: grpc.ServicerContext) -> Any:
        enterprise = usecases.register_enterprise(
            self.writer(),
            platform_id=_platform_id(request.platform, "platform"),
            uscc=validation.text("uscc", request.uscc, max_len=40),
            display_name=validation.text("display_name", request.display_name, max_len=200),
            public_key=request.public_key,
            idem=Idempotency(validation.request_id(request.request_id), fingerprint(request, "request_id")),
            now=self.clock(),
        )
        self.notifier.notify()
        return rs_pb.RegisterEnterpriseResponse(enterprise=convert.enterprise(enterprise))

    def GetEnterprise(self, request: rs_pb.GetEnterpriseRequest, context: grpc.ServicerContext) -> Any:
        uscc = checks.uscc_of(request.name, "name")
        return rs_pb.GetEnterpriseResponse(enterprise=convert.enterprise(usecases.get_enterprise(self.reader(), uscc)))

    def ListEnterprises(self, request: rs_pb.ListEnterprisesRequest, context: grpc.ServicerContext) -> Any:
        size = paging.page_size(request.page_size)
        platform_id = _optional_platform_id(request.platform, "platform")
        query = ["enterprises", platform_id]
        after = checks.after_key(request.page_token, query, checks.USCC_SHAPE)
        page = usecases.list_enterprises(self.reader(), after=after, limit=size + 1, platform_id=platform_id)
        token = paging.encode_token(page[size - 1].uscc, query) if len(page) > size else ""
        return rs_pb.ListEnterprisesResponse(
            enterprises=[convert.enterprise(e) for e in page[:size]], next_page_token=token
        )

    def RotateEnterpriseKey(self, request: rs_pb.RotateEnterpriseKeyRequest, context: grpc.ServicerContext) -> Any:
        uscc = checks.uscc_of(request.name, "name")
        signed_at = from_timestamp(request.signed_at, "signed_at")
        assert signed_at is not None
        if len(request.signature) != 64:
            raise InvalidArgument("ERROR_REASON_INVALID_FIELD", "signature must be 64 bytes", {"field": "signature"})
        enterprise = usecases.rotate_enterprise_key(
            self.writer(),
            uscc=uscc,
            new_public_key=request.new_public_key,
            signing_key_id=validation.text("signing_key_id", request.signing_key_id, max_len=16),
            signed_at=signed_at,
            signature=request.signature,
            idem=Idempotency(validation.request_id(request.request_id), fingerprint(request, "request_id")),
            now=self.clock(),
        )
        self.notifier.notify()
        return rs_pb.RotateEnterpriseKeyResponse(enterprise=convert.enterprise(enterprise))

    def GetDepartment(self, request: rs_pb.GetDepartmentRequest, context: grpc.ServicerContext) -> Any:
        code = validation.identifier("name", validation.resource_id("name", request.name, "departments"))
        return rs_pb.GetDepartmentResponse(department=convert.department(usecases.get_department(self.reader(), code)))

    def ListDepartments(self, request: rs_pb.ListDepartmentsRequest, context: grpc.ServicerContext) -> Any:
        size = paging.page_size(request.page_size)
        after = checks.after_key(request.page_token, ["departments"], checks.PARTICIPANT_ID)
        page = usecases.list_departments(self.reader(), after=after, limit=size + 1)
        token = paging.encode_token(page[size - 1].code, ["departments"]) if len(page) > size else ""
        return rs_pb.ListDepartmentsResponse(
            departments=[convert.department(d) for d in page[:size]], next_page_token=token
        )

    def WatchParticipants(
        self, request: rs_pb.WatchParticipantsRequest, context: grpc.ServicerContext
    ) -> Iterator[rs_pb.WatchParticipantsResponse]:
        return self.watch(request, context)

    def WatchParticipantsAcked(
        self, request_iterator: Iterator[rs_pb.WatchParticipantsAckedRequest], context: grpc.ServicerContext
    ) -> Iterator[rs_pb.WatchParticipantsAckedResponse]:
        return self.acked_watch(request_iterator, context)

    def GetCertificateRevocationList(
        self, request: rs_pb.GetCertificateRevocationListRequest, context: grpc.ServicerContext
    ) -> Any:
        crl, serials = usecases.revocation_list(self.writer(), self.ca, self.clock)
        return rs_pb.GetCertificateRevocationListResponse(
            crl_der=crl, ca_certificate_pem=self.ca.ca_certificate_pem(), revoked_serials=serials
        )

    def GetCoverage(self, request: rs_pb.GetCoverageRequest, context: grpc.ServicerContext) -> Any:
        at = from_timestamp(request.as_of, "as_of", required=False) or self.clock()
        cov = usecases.coverage(self.reader(), at)
        return rs_pb.GetCoverageResponse(
            as_of=timestamp(cov.at),
            regions=[
                rs_pb.RegionCoverage(region_code=r, platforms_admitted=n) for r, n in cov.platforms_by_region.items()
            ],
            platforms_admitted=sum(cov.platforms_by_region.values()),
            institutions_connected=cov.institutions_connected,
            enterprises_registered=cov.enterprises_registered,
            departments_registered=cov.departments_registered,
        )
