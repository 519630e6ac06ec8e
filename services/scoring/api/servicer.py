"""ScoringService: turns wire messages into use-case calls and domain results back into messages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date

import grpc

from creditnode.scoring.v1 import scoring_service_pb2 as pb
from creditnode.scoring.v1 import scoring_service_pb2_grpc as pb_grpc
from services.kit.paging import decode_index_token, encode_token, page_size
from services.kit.protos import fingerprint, timestamp
from services.kit.uscc import SHAPE
from services.kit.validation import identifier, invalid, request_id, resource_id
from services.kit.workdays import local_date
from services.scoring import usecases
from services.scoring.domain.disputes import DisputeOutcome
from services.scoring.domain.engine import Evaluation
from services.scoring.domain.portrait import Portrait, Tag
from services.scoring.domain.ports import Alert, LoanEntry, LoanStatus, ScenarioModelDoc, StoredEvaluation
from services.scoring.domain.records import RecordRef

_OBJECTION_ID = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
_SEVERITY = {"LOW": pb.ALERT_SEVERITY_LOW, "MEDIUM": pb.ALERT_SEVERITY_MEDIUM, "HIGH": pb.ALERT_SEVERITY_HIGH}
_GROUPS = {
    pb.EFFECTIVENESS_GROUP_PLATFORM: "platform",
    pb.EFFECTIVENESS_GROUP_CITY: "city",
    pb.EFFECTIVENESS_GROUP_INSTITUTION: "institution",
}
ALERT_BATCH = 100
# A model or scenario document: 45 times the basic model (22 KB).
MAX_DOCUMENT_CHARS = 1_000_000
_DISPUTE_OUTCOMES = {
    pb.EVALUATION_DISPUTE_OUTCOME_CORRECTED: DisputeOutcome.CORRECTED,
    pb.EVALUATION_DISPUTE_OUTCOME_UPHELD: DisputeOutcome.UPHELD,
    pb.EVALUATION_DISPUTE_OUTCOME_UNVERIFIABLE: DisputeOutcome.UNVERIFIABLE,
}


def enterprise_uscc(field: str, name: str) -> str:
    uscc = resource_id(field, name, "enterprises")
    if not SHAPE.fullmatch(uscc):
        raise invalid(field, "must be enterprises/{uscc} with an 18-character code")
    return uscc


def institution_id(field: str, name: str) -> str:
    return identifier(field, resource_id(field, name, "institutions"))


def day(field: str, d: pb.CalendarDay) -> date:
    try:
        return date(d.year, d.month, d.day)
    except ValueError:
        raise invalid(field, "is not a valid date") from None


def to_day(d: date) -> pb.CalendarDay:
    return pb.CalendarDay(year=d.year, month=d.month, day=d.day)


def ref(uscc: str, r: RecordRef) -> pb.RecordRef:
    return pb.RecordRef(
        record=f"enterprises/{uscc}/records/{r.record_id}",
        version=r.version,
        item_code=r.item_code,
        in_dispute=r.in_dispute,
        event_time=timestamp(r.event_time),  # unset when unknown (an old stored reference)
    )


def evaluation(uscc: str, e: Evaluation, stored: StoredEvaluation | None = None) -> pb.Evaluation:
    out = pb.Evaluation(
        enterprise=f"enterprises/{uscc}",
        model_version=e.model_version,
        score=e.score,
        grade=e.grade,
        coverage=e.coverage,
        discipline_flags=list(e.flags),
        disciplined=bool(e.flags),
        capped=e.capped,
        disputed=any(c.disputed for c in e.contributions),
    )
    for c in e.contributions:
        part = out.contributions.add(
            indicator=c.indicator,
            dimension=c.dimension,
            bin=c.bin,
            points=c.points,
            weight=c.weight,
            contribution=c.contribution,
            missing=c.missing,
            excluded=c.excluded,
            disputed=c.disputed,
            evidence=[ref(uscc, r) for r in c.evidence],
        )
        if c.value is not None:
            part.value = c.value
    if stored is not None:
        out.name = f"enterprises/{uscc}/evaluations/{stored.evaluation_id}"
        out.evaluate_time.FromDatetime(stored.evaluated_at)
        out.record_revision = stored.record_revision
        if stored.as_of is not None:
            out.as_of = stored.as_of.isoformat()
        out.in_dispute = stored.dispute.in_dispute
        out.dispute_objection = stored.dispute.objection
        out.unverifiable = stored.dispute.unverifiable
        out.statements.extend(stored.dispute.statements)
    return out


def evaluation_name(field: str, name: str) -> tuple[str, int]:
    """(uscc, evaluation id) of "enterprises/{uscc}/evaluations/{id}"."""
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "enterprises" or parts[2] != "evaluations" or not parts[3].isdigit():
        raise invalid(field, "must be enterprises/{uscc}/evaluations/{id}")
    evaluation_id = int(parts[3])
    if not 0 < evaluation_id < 2**63:
        raise invalid(field, "has no such evaluation id")
    return enterprise_uscc(field, f"enterprises/{parts[1]}"), evaluation_id


def document(text: str) -> str:
    """A model's or scenario's YAML, refused unread past its limit: parsing costs seconds per megabyte, and a stored
    document is parsed again whenever it is used."""
    if len(text) > MAX_DOCUMENT_CHARS:
        raise invalid("document", f"at most {MAX_DOCUMENT_CHARS} characters")
    return text


def objection_name(field: str, name: str) -> str:
    if not _OBJECTION_ID.fullmatch(resource_id(field, name, "objections")):
        raise invalid(field, "must be objections/{id} with an id of at most 200 letters, digits, dots and dashes")
    return name


def _stored(uscc: str, stored: StoredEvaluation) -> pb.Evaluation:
    return evaluation(uscc, stored.evaluation, stored)


def _tag(uscc: str, t: Tag) -> pb.Tag:
    return pb.Tag(code=t.code, label=t.label, evidence=[ref(uscc, r) for r in t.evidence])


def portrait(uscc: str, p: Portrait) -> pb.Portrait:
    out = pb.Portrait(
        enterprise=f"enterprises/{uscc}",
        model_version=p.model_version,
        score=p.score,
        grade=p.grade,
        discipline_flags=list(p.flags),
        positive_tags=[_tag(uscc, t) for t in p.positive],
        risk_tags=[_tag(uscc, t) for t in p.risks],
        coverage=p.coverage,
        disputed=p.disputed,
        in_dispute=bool(p.objection),
        dispute_objection=p.objection,
    )
    for dimension, points in p.dimensions:
        d = out.dimensions.add(dimension=dimension)
        if points is not None:
            d.points = points
    return out


def scenario_model(s: ScenarioModelDoc) -> pb.ScenarioModel:
    return pb.ScenarioModel(
        name=f"institutions/{s.institution_id}/scenarioModels/{s.scenario_id}",
        institution=f"institutions/{s.institution_id}",
        base_version=s.base_version,
        document=s.document,
        create_time=timestamp(s.created_at),
        dropped=dict(s.dropped),
    )


def loan(x: LoanEntry) -> pb.Loan:
    return pb.Loan(
        name=f"loans/{x.loan_id}",
        institution=f"institutions/{x.institution_id}",
        enterprise=f"enterprises/{x.uscc}",
        platform=f"platforms/{x.platform_id}",
        city=x.city,
        amount_yuan=str(x.amount_yuan),
        term_months=x.term_months,
        security=pb.LOAN_SECURITY_CREDIT if x.credit else pb.LOAN_SECURITY_SECURED,
        first_loan=x.first_loan,
        small_micro=x.small_micro,
        granted_on=to_day(x.granted_on),
        outstanding_yuan=str(x.outstanding_yuan),
        status=pb.LOAN_STATUS_OUTSTANDING if x.status is LoanStatus.OUTSTANDING else pb.LOAN_STATUS_CLOSED,
        create_time=timestamp(x.created_at),
    )


def alert(a: Alert) -> pb.Alert:
    return pb.Alert(
        cursor=a.cursor,
        institution=f"institutions/{a.institution_id}",
        enterprise=f"enterprises/{a.uscc}",
        loan=f"loans/{a.loan_id}",
        risk=a.risk,
        severity=_SEVERITY.get(a.severity, pb.ALERT_SEVERITY_UNSPECIFIED),
        reason=a.reason,
        evidence=[ref(a.uscc, r) for r in a.evidence],
        discipline_flags=list(a.flags),
        create_time=timestamp(a.created_at),
        key=a.key,
    )


class ScoringServicer(pb_grpc.ScoringServiceServicer):
    """Thin handlers: validate names, call a use case, convert the result."""

    def __init__(self, sc: usecases.Scoring, *, poll_seconds: float = 0.5, heartbeat_seconds: float = 5.0) -> None:
        self.sc = sc
        self.poll = poll_seconds
        self.heartbeat = heartbeat_seconds

    def GetEvaluation(
        self, request: pb.GetEvaluationRequest, context: grpc.ServicerContext
    ) -> pb.GetEvaluationResponse:
        uscc = enterprise_uscc("enterprise", request.enterprise)
        return pb.GetEvaluationResponse(evaluation=_stored(uscc, usecases.get_evaluation(self.sc, uscc)))

    def ListEvaluationHistory(
        self, request: pb.ListEvaluationHistoryRequest, context: grpc.ServicerContext
    ) -> pb.ListEvaluationHistoryResponse:
        uscc = enterprise_uscc("enterprise", request.enterprise)
        size = page_size(request.page_size)
        before = decode_index_token(request.page_token, {"enterprise": uscc})
        rows = usecases.evaluation_history(self.sc, uscc, before, size + 1)
        token = encode_token(str(rows[size - 1].evaluation_id), {"enterprise": uscc}) if len(rows) > size else ""
        return pb.ListEvaluationHistoryResponse(
            evaluations=[evaluation(uscc, r.evaluation, r) for r in rows[:size]], next_page_token=token
        )

    def GetPortrait(self, request: pb.GetPortraitRequest, context: grpc.ServicerContext) -> pb.GetPortraitResponse:
        uscc = enterprise_uscc("enterprise", request.enterprise)
        return pb.GetPortraitResponse(portrait=portrait(uscc, usecases.get_portrait(self.sc, uscc)))

    def PublishModel(self, request: pb.PublishModelRequest, context: grpc.ServicerContext) -> pb.PublishModelResponse:
        request_id(request.request_id)
        published, count = usecases.publish_model(self.sc, document(request.document))
        current = self.sc.current_model().version == published.version
        return pb.PublishModelResponse(
            model=pb.Model(
                name=f"models/{published.version}",
                version=published.version,
                title=published.title,
                publish_time=timestamp(published.published_at),
                current=current,
            ),
            enterprises_reevaluated=count,
        )

    def CreateScenarioModel(
        self, request: pb.CreateScenarioModelRequest, context: grpc.ServicerContext
    ) -> pb.CreateScenarioModelResponse:
        request_id(request.request_id)
        inst = institution_id("institution", request.institution)
        stored = usecases.create_scenario(self.sc, inst, request.scenario_id, document(request.document))
        return pb.CreateScenarioModelResponse(scenario_model=scenario_model(stored))

    def FitScenarioModel(
        self, request: pb.FitScenarioModelRequest, context: grpc.ServicerContext
    ) -> pb.FitScenarioModelResponse:
        request_id(request.request_id)
        inst = institution_id("institution", request.institution)
        outcomes = [(enterprise_uscc("outcomes.enterprise", o.enterprise), o.bad) for o in request.outcomes]
        stored, used = usecases.fit_scenario(self.sc, inst, request.scenario_id, outcomes, list(request.grade_mins))
        return pb.FitScenarioModelResponse(scenario_model=scenario_model(stored), outcomes_used=used)

    def GetScenarioScore(
        self, request: pb.GetScenarioScoreRequest, context: grpc.ServicerContext
    ) -> pb.GetScenarioScoreResponse:
        parts = request.scenario_model.split("/")
        if len(parts) != 4 or parts[0] != "institutions" or parts[2] != "scenarioModels":
            raise invalid("scenario_model", "must be institutions/{id}/scenarioModels/{id}")
        institution, scenario = identifier("scenario_model", parts[1]), identifier("scenario_model", parts[3])
        uscc = enterprise_uscc("enterprise", request.enterprise)
        e = usecases.scenario_score(self.sc, institution, scenario, uscc)
        return pb.GetScenarioScoreResponse(evaluation=evaluation(uscc, e))

    def ReportLoan(self, request: pb.ReportLoanRequest, context: grpc.ServicerContext) -> pb.ReportLoanResponse:
        request_id(request.request_id)
        if request.security == pb.LOAN_SECURITY_UNSPECIFIED:
            raise invalid("security", "is required")
        if request.security not in pb.LoanSecurity.values():  # proto3 keeps it; read as "not CREDIT" it was SECURED
            raise invalid("security", "unknown value")
        cmd = usecases.NewLoan(
            loan_id=request.loan_id,
            institution_id=institution_id("institution", request.institution),
            uscc=enterprise_uscc("enterprise", request.enterprise),
            platform_id=identifier("platform", resource_id("platform", request.platform, "platforms")),
            amount_yuan=usecases.parse_yuan("amount_yuan", request.amount_yuan),
            term_months=request.term_months,
            credit=request.security == pb.LOAN_SECURITY_CREDIT,
            first_loan=request.first_loan,
            small_micro=request.small_micro,
            granted_on=day("granted_on", request.granted_on),
        )
        return pb.ReportLoanResponse(loan=loan(usecases.report_loan(self.sc, cmd)))

    def GetLoan(self, request: pb.GetLoanRequest, context: grpc.ServicerContext) -> pb.GetLoanResponse:
        loan_id = identifier("name", resource_id("name", request.name, "loans"))
        return pb.GetLoanResponse(loan=loan(usecases.get_loan(self.sc, loan_id)))

    def RepayLoan(self, request: pb.RepayLoanRequest, context: grpc.ServicerContext) -> pb.RepayLoanResponse:
        request_id(request.request_id)
        loan_id = identifier("loan", resource_id("loan", request.loan, "loans"))
        amount = usecases.parse_yuan("amount_yuan", request.amount_yuan or "0", allow_zero=True)
        got = usecases.repay_loan(
            self.sc,
            loan_id,
            amount,
            day("repaid_on", request.repaid_on),
            request.close,
            request.request_id,
            fingerprint(request, "request_id"),
        )
        return pb.RepayLoanResponse(loan=loan(got))

    def WatchAlerts(
        self, request: pb.WatchAlertsRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.WatchAlertsResponse]:
        inst = institution_id("institution", request.institution)
        if request.after_cursor < 0:
            raise invalid("after_cursor", "must not be negative")
        cursor = usecases.start_cursor(self.sc, inst, request.after_cursor)
        yield pb.WatchAlertsResponse(cursor=cursor)  # the stream is open: the subscriber may rely on it now
        quiet = 0.0
        while context.is_active():
            generation = self.sc.notifier.generation
            alerts, cursor = usecases.deliverable_alerts(self.sc, inst, cursor, ALERT_BATCH)
            if alerts:
                quiet = 0.0
                yield pb.WatchAlertsResponse(alerts=[alert(a) for a in alerts], cursor=cursor)
                continue
            if quiet >= self.heartbeat:
                quiet = 0.0
                yield pb.WatchAlertsResponse(cursor=cursor)
            self.sc.notifier.wait(generation, self.poll)
            quiet += self.poll

    def AckAlerts(self, request: pb.AckAlertsRequest, context: grpc.ServicerContext) -> pb.AckAlertsResponse:
        request_id(request.request_id)
        inst = institution_id("institution", request.institution)
        return pb.AckAlertsResponse(acknowledged_cursor=usecases.ack_alerts(self.sc, inst, request.up_to_cursor))

    def GetEvaluationByName(
        self, request: pb.GetEvaluationByNameRequest, context: grpc.ServicerContext
    ) -> pb.GetEvaluationByNameResponse:
        uscc, evaluation_id = evaluation_name("name", request.name)
        return pb.GetEvaluationByNameResponse(
            evaluation=_stored(uscc, usecases.evaluation_by_name(self.sc, uscc, evaluation_id))
        )

    def SetEvaluationDispute(
        self, request: pb.SetEvaluationDisputeRequest, context: grpc.ServicerContext
    ) -> pb.SetEvaluationDisputeResponse:
        request_id(request.request_id)
        uscc, evaluation_id = evaluation_name("name", request.name)
        objection = objection_name("objection", request.objection)
        stored = usecases.set_dispute(self.sc, uscc, evaluation_id, objection)
        return pb.SetEvaluationDisputeResponse(evaluation=_stored(uscc, stored))

    def ClearEvaluationDispute(
        self, request: pb.ClearEvaluationDisputeRequest, context: grpc.ServicerContext
    ) -> pb.ClearEvaluationDisputeResponse:
        request_id(request.request_id)
        uscc, evaluation_id = evaluation_name("name", request.name)
        objection = objection_name("objection", request.objection)
        outcome = _DISPUTE_OUTCOMES.get(request.outcome)
        if outcome is None:
            raise invalid("outcome", "is required")
        stored = usecases.clear_dispute(self.sc, uscc, evaluation_id, objection, outcome, request.statement or None)
        return pb.ClearEvaluationDisputeResponse(evaluation=_stored(uscc, stored))

    def AttachEvaluationStatement(
        self, request: pb.AttachEvaluationStatementRequest, context: grpc.ServicerContext
    ) -> pb.AttachEvaluationStatementResponse:
        request_id(request.request_id)
        uscc, evaluation_id = evaluation_name("name", request.name)
        objection = objection_name("objection", request.objection)
        stored = usecases.attach_statement(self.sc, uscc, evaluation_id, objection, request.statement)
        return pb.AttachEvaluationStatementResponse(evaluation=_stored(uscc, stored))

    def ReEvaluate(self, request: pb.ReEvaluateRequest, context: grpc.ServicerContext) -> pb.ReEvaluateResponse:
        request_id(request.request_id)
        uscc = enterprise_uscc("enterprise", request.enterprise)
        if request.objection:
            objection_name("objection", request.objection)
        stored = usecases.reevaluate(self.sc, uscc, request.request_id, fingerprint(request, "request_id"))
        return pb.ReEvaluateResponse(evaluation=_stored(uscc, stored))

    def GetEffectiveness(
        self, request: pb.GetEffectivenessRequest, context: grpc.ServicerContext
    ) -> pb.GetEffectivenessResponse:
        by = []
        for g in request.group_by:
            if g not in _GROUPS:
                raise invalid("group_by", "unknown group")
            by.append(_GROUPS[g])
        # today is Xi'an's day: the UTC date is still yesterday's until 08:00
        on = day("progress_on", request.progress_on) if request.HasField("progress_on") else local_date(self.sc.clock())
        rows, progress = usecases.effectiveness(self.sc, list(request.periods), by, on)
        out = pb.GetEffectivenessResponse()
        for r in rows:
            row = out.rows.add(
                period=r.period,
                platform=r.platform if r.platform == "*" else f"platforms/{r.platform}",
                city=r.city,
                institution=r.institution if r.institution == "*" else f"institutions/{r.institution}",
                loans_granted=r.loans_granted,
                amount_granted_yuan=str(r.amount_granted_yuan),
                credit_loans_granted=r.credit_loans_granted,
                credit_amount_granted_yuan=str(r.credit_amount_granted_yuan),
                first_loans=r.first_loans,
                first_loan_amount_yuan=str(r.first_loan_amount_yuan),
                credit_balance_yuan=str(r.credit_balance_yuan),
                small_micro_credit_balance_yuan=str(r.small_micro_credit_balance_yuan),
            )
            if r.small_micro_share is not None:
                row.small_micro_share = float(r.small_micro_share)
        p = out.progress
        p.on.CopyFrom(to_day(progress.on))
        p.credit_balance_yuan = str(progress.credit_balance_yuan)
        p.target_balance_yuan = str(progress.target_balance_yuan)
        p.balance_progress = float(progress.balance_progress)
        p.target_share = float(progress.target_share)
        if progress.small_micro_share is not None:
            p.small_micro_share = float(progress.small_micro_share)
        if progress.share_progress is not None:
            p.share_progress = float(progress.share_progress)
        return out
