"""Conversions between the registry's domain objects and its protobuf messages."""

from __future__ import annotations

from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from services.kit import validation
from services.kit.protos import from_proto_enum, from_timestamp, timestamp, to_proto_enum
from services.registry.domain.participants import (
    Assessment,
    AssessmentKind,
    AssessmentResult,
    Breach,
    ChangeInfo,
    Department,
    Enterprise,
    StatusChange,
)
from services.registry.domain.ports import IssuedCertificate
from services.registry.usecases import Idempotency, InstitutionView, PlatformView

MAX_EVIDENCE = 20


def access(allowed: bool) -> pb.Access:
    return pb.ACCESS_ALLOWED if allowed else pb.ACCESS_DENIED


def platform(view: PlatformView) -> pb.Platform:
    p = view.platform
    return pb.Platform(
        name=p.name,
        display_name=p.display_name,
        kind=to_proto_enum(pb.PlatformKind, "PLATFORM_KIND", p.kind),
        region_code=p.region_code,
        docking=to_proto_enum(pb.Docking, "DOCKING", p.docking),
        proxy=f"platforms/{p.proxy_id}" if p.proxy_id else "",
        status=to_proto_enum(pb.PlatformStatus, "PLATFORM_STATUS", p.status),
        access=access(view.access),
        assessments=[assessment(a) for _, a in sorted(p.assessments.items())],
        due_for_review=view.due_for_review,
        certificate_serial=p.certificate_serial,
        etag=str(p.version),
        create_time=timestamp(p.created_at),
        update_time=timestamp(p.updated_at),
    )


def assessment(a: Assessment) -> pb.Assessment:
    return pb.Assessment(
        kind=to_proto_enum(pb.AssessmentKind, "ASSESSMENT_KIND", a.kind),
        assessor=a.assessor,
        assessed_on=timestamp(a.assessed_on),
        result=to_proto_enum(pb.AssessmentResult, "ASSESSMENT_RESULT", a.result),
        findings=a.findings,
        expires_on=timestamp(a.expires_on),
    )


def assessment_from(msg: pb.Assessment) -> Assessment:
    assessed_on = from_timestamp(msg.assessed_on, "assessment.assessed_on")
    expires_on = from_timestamp(msg.expires_on, "assessment.expires_on")
    assert assessed_on is not None
    assert expires_on is not None
    return Assessment(
        kind=from_proto_enum(pb.AssessmentKind, "ASSESSMENT_KIND", msg.kind, AssessmentKind, "assessment.kind"),
        assessor=validation.text("assessment.assessor", msg.assessor, max_len=200),
        assessed_on=assessed_on,
        result=from_proto_enum(
            pb.AssessmentResult, "ASSESSMENT_RESULT", msg.result, AssessmentResult, "assessment.result"
        ),
        findings=validation.text("assessment.findings", msg.findings, max_len=4000, required=False),
        expires_on=expires_on,
    )


def institution(view: InstitutionView) -> pb.Institution:
    i = view.institution
    return pb.Institution(
        name=i.name,
        display_name=i.display_name,
        licence_number=i.licence_number,
        type=to_proto_enum(pb.InstitutionType, "INSTITUTION_TYPE", i.type),
        platform=f"platforms/{i.platform_id}",
        status=to_proto_enum(pb.InstitutionStatus, "INSTITUTION_STATUS", i.status),
        access=access(view.access),
        etag=str(i.version),
        create_time=timestamp(i.created_at),
        update_time=timestamp(i.updated_at),
    )


def enterprise(e: Enterprise) -> pb.Enterprise:
    return pb.Enterprise(
        name=e.name,
        uscc=e.uscc,
        display_name=e.display_name,
        platform=f"platforms/{e.platform_id}",
        keys=[
            pb.EnterpriseKey(
                key_id=k.key_id,
                public_key=k.public_key,
                state=to_proto_enum(pb.KeyState, "KEY_STATE", k.state),
                create_time=timestamp(k.created_at),
                retire_time=timestamp(k.retired_at),
            )
            for k in e.keys
        ],
        legacy_org_code_warning=e.legacy_org_code_warning,
        etag=str(e.version),
        create_time=timestamp(e.created_at),
        update_time=timestamp(e.updated_at),
    )


def department(d: Department) -> pb.Department:
    return pb.Department(
        name=d.name,
        code=d.code,
        display_name=d.display_name,
        kind=to_proto_enum(pb.DepartmentKind, "DEPARTMENT_KIND", d.kind),
        create_time=timestamp(d.created_at),
    )


def status_change(change: StatusChange) -> pb.StatusChange:
    return pb.StatusChange(
        from_status=change.from_status,
        to_status=change.to_status,
        actor=change.actor,
        reason=change.reason,
        evidence=list(change.evidence),
        change_time=timestamp(change.at),
        revision=change.revision,
    )


def change_from(msg: admin_pb.Change, fingerprint: str) -> tuple[ChangeInfo, Idempotency]:
    if len(msg.evidence) > MAX_EVIDENCE:
        raise validation.invalid("change.evidence", f"more than {MAX_EVIDENCE} references")
    info = ChangeInfo(
        actor=validation.text("change.actor", msg.actor, max_len=200),
        reason=validation.text("change.reason", msg.reason, max_len=2000, required=False),
        evidence=tuple(validation.text("change.evidence", e, max_len=200) for e in msg.evidence),
        etag=validation.text("change.etag", msg.etag, max_len=20, required=False),
    )
    return info, Idempotency(validation.request_id(msg.request_id), fingerprint)


def credential(cert: IssuedCertificate | None, ca_pem: str) -> admin_pb.Credential | None:
    if cert is None:
        return None
    return admin_pb.Credential(certificate_pem=cert.pem, ca_certificate_pem=ca_pem, serial=cert.serial)


def breach(b: Breach) -> admin_pb.PlatformBreach:
    return admin_pb.PlatformBreach(
        platform=f"platforms/{b.platform_id}",
        kind=to_proto_enum(admin_pb.BreachKind, "BREACH_KIND", b.kind),
        reference=b.reference,
        detail=b.detail,
        occur_time=timestamp(b.occurred_at),
        record_time=timestamp(b.recorded_at),
    )
