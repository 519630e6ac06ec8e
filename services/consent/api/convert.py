"""Proto <-> domain for the consent API: parsing requests into commands, rendering results."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp

from creditnode.consent.v1 import consent_service_pb2 as pb
from services.consent.domain.catalogue import PurposeTemplate
from services.consent.domain.model import (
    Authorization,
    Decision,
    State,
    UseLimit,
    UseLimitKind,
    invalid_field,
    parse_authorization,
    parse_codes,
    parse_enterprise,
    parse_requester,
)
from services.consent.domain.ports import Event, Use
from services.consent.domain.signing import Action, GrantRequest, LifecycleRequest, Receipt, Signature, whole_seconds
from services.consent.usecases import CheckQuery
from services.kit import validation
from services.kit.errors import DomainError
from services.kit.protos import timestamp
from services.kit.status import error_code, known_reason


def _enum(enum_type: Any, name: str) -> Any:
    """Proto enum number by full name (typed loosely: the generated stubs type each enum separately)."""
    return enum_type.Value(name)


def from_ts(value: Timestamp, field_name: str, *, required: bool = True) -> datetime | None:
    if value.seconds == 0 and value.nanos == 0:
        if required:
            raise invalid_field(field_name, "is required")
        return None
    try:
        return value.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise invalid_field(field_name, "is out of range") from None


def _required_ts(value: Timestamp, field_name: str) -> datetime:
    at = from_ts(value, field_name)
    assert at is not None  # required=True never returns None
    if value.nanos:
        raise invalid_field(field_name, "must be whole seconds (it is signed)")
    return whole_seconds(at, field_name)


def _signature(sig: pb.EnterpriseSignature) -> Signature:
    return Signature(
        key_id=sig.key_id,
        nonce=sig.nonce,
        signed_at=_required_ts(sig.signed_at, "signature.signed_at"),
        value=bytes(sig.signature),
    )


def _use_limit(limit: pb.UseLimit) -> UseLimit:
    try:
        name = pb.UseLimitKind.Name(limit.kind)
    except ValueError:
        raise invalid_field("use_limit.kind", "unknown value") from None
    if limit.kind == pb.USE_LIMIT_KIND_UNSPECIFIED:
        raise invalid_field("use_limit.kind", "is required")
    return UseLimit(UseLimitKind(name.removeprefix("USE_LIMIT_KIND_")), limit.max_uses, limit.period_days)


def _purpose(code: str) -> str:
    if not code:
        raise invalid_field("purpose", "is required")
    parse_codes([code], "purpose")
    return code


def grant_request(req: pb.GrantAuthorizationRequest) -> GrantRequest:
    return GrantRequest(
        enterprise=parse_enterprise(req.enterprise),
        requester=parse_requester(req.requester),
        purpose=_purpose(req.purpose),
        items=parse_codes(req.items, "items"),
        categories=parse_codes(req.categories, "categories"),
        valid_from=_required_ts(req.valid_from, "valid_from"),
        valid_until=_required_ts(req.valid_until, "valid_until"),
        data_since=_required_ts(req.data_since, "data_since"),
        use_limit=_use_limit(req.use_limit),
        signature=_signature(req.signature),
    )


def lifecycle_request(
    action: Action,
    req: pb.PauseAuthorizationRequest | pb.ResumeAuthorizationRequest | pb.RevokeAuthorizationRequest,
) -> LifecycleRequest:
    return LifecycleRequest(
        action=action,
        authorization_id=parse_authorization(req.authorization),
        enterprise=parse_enterprise(req.enterprise),
        signature=_signature(req.signature),
    )


def check_query(req: pb.CheckAuthorizationRequest) -> CheckQuery:
    items = parse_codes(req.items, "items")
    if not items:
        raise invalid_field("items", "name at least one item")
    validation.request_id(req.request_id)
    return CheckQuery(
        requester=parse_requester(req.requester),
        enterprise=parse_enterprise(req.enterprise),
        purpose=_purpose(req.purpose),
        items=items,
        data_since=from_ts(req.data_since, "data_since", required=False),
        consume=req.consume,
        authorization_id=parse_authorization(req.authorization) if req.authorization else None,
        request_id=req.request_id,
    )


def check_error(exc: DomainError) -> pb.CheckAuthorizationError:
    """One check's failure inside a batch answer, as a single call's status would carry it."""
    return pb.CheckAuthorizationError(
        code=error_code(exc), message=exc.message, reason=known_reason(exc.reason), metadata=exc.metadata
    )


def state_filter(value: int) -> State | None:
    if value == pb.AUTHORIZATION_STATE_UNSPECIFIED:
        return None
    try:
        return State(pb.AuthorizationState.Name(value).removeprefix("AUTHORIZATION_STATE_"))
    except ValueError:
        raise invalid_field("state", "unknown value") from None


def authorization(a: Authorization) -> pb.Authorization:
    return pb.Authorization(
        name=a.name,
        enterprise=f"enterprises/{a.enterprise}",
        requester=a.requester,
        purpose=a.purpose,
        items=a.items,
        categories=a.categories,
        covered_items=sorted(a.covered_items),
        valid_from=timestamp(a.valid_from),
        valid_until=timestamp(a.valid_until),
        data_since=timestamp(a.data_since),
        use_limit=pb.UseLimit(
            kind=_enum(pb.UseLimitKind, f"USE_LIMIT_KIND_{a.use_limit.kind.value}"),
            max_uses=a.use_limit.max_uses,
            period_days=a.use_limit.period_days,
        ),
        state=_enum(pb.AuthorizationState, f"AUTHORIZATION_STATE_{a.state.value}"),
        uses=a.uses.total,
        last_use_time=timestamp(a.uses.last_use_at),
        revision=a.revision,
        signing_key_id=a.signing_key_id,
        create_time=timestamp(a.created_at),
        update_time=timestamp(a.updated_at),
    )


def receipt(r: Receipt) -> pb.Receipt:
    return pb.Receipt(
        name=r.name,
        authorization=f"authorizations/{r.authorization_id}",
        event_type=_enum(pb.EventType, f"EVENT_TYPE_{r.event_type.value}"),
        revision=r.revision,
        record_time=timestamp(r.recorded_at),
        signed_payload=r.signed_payload,
        signature=r.signature,
        signing_key_id=r.signing_key_id,
        previous_digest=r.previous_digest,
        digest=r.digest,
    )


def event(e: Event, a: Authorization, *, with_receipt: bool = True) -> pb.AuthorizationEvent:
    return pb.AuthorizationEvent(
        revision=e.revision,
        event_type=_enum(pb.EventType, f"EVENT_TYPE_{e.event_type.value}"),
        authorization=authorization(a),
        receipt=receipt(e.receipt) if with_receipt else None,
    )


def use(u: Use) -> pb.Use:
    return pb.Use(use_time=timestamp(u.used_at), items=u.items, request_id=u.request_id)


def decision(d: Decision) -> pb.CheckAuthorizationResponse:
    a = d.authorization
    return pb.CheckAuthorizationResponse(
        decision=pb.DECISION_ALLOW if d.allowed else pb.DECISION_DENY,
        reason=_enum(pb.DecisionReason, f"DECISION_REASON_{d.reason.value}"),
        authorization=a.name if a else "",
        data_since=timestamp(a.data_since) if a else None,
        valid_until=timestamp(a.valid_until) if a else None,
        uses=a.uses.total if a else 0,
    )


def duration(seconds: float) -> Duration:
    out = Duration()
    out.FromMilliseconds(round(seconds * 1000))
    return out


def purpose(t: PurposeTemplate) -> pb.PurposeTemplate:
    return pb.PurposeTemplate(
        code=t.code,
        display_name=t.display_name,
        max_validity=duration(t.max_validity.total_seconds()),
        max_lookback=duration(t.max_lookback.total_seconds()),
        max_uses=t.max_uses,
        use_limit_kinds=[_enum(pb.UseLimitKind, f"USE_LIMIT_KIND_{k.value}") for k in sorted(t.use_limit_kinds)],
        min_period_days=t.min_period_days,
    )
