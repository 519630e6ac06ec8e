"""The Objection aggregate: intake and its checks, the two clocks, routing, outcomes, statements and resolution.

Clock 1 (R6): a platform forwards an objection within ``forward_working_days`` (2) working days of receiving it,
under the official calendar (see :mod:`services.kit.workdays` for the counting rule). A late forward emits
:class:`ForwardingBreached`; when the calendar needed is not loaded the timeliness is UNKNOWN and an alert is
emitted: nothing is guessed, and :meth:`Objection.reassess_forwarding` decides it once the calendar is loaded.

Clock 2: the node handles the objection within ``handling_days`` (20) calendar days counted like clock 1 (the day
the node received it is not counted; the period ends at 24:00 Asia/Shanghai of its last day), plus recorded
extensions. A last day falling on a holiday is not moved (R6 says calendar days).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.kit import uscc as uscc_rules
from services.kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from services.kit.workdays import CalendarUnknown, Deadline, local_date, start_of_day
from services.objection.domain.events import (
    CorrectionNoticeDue,
    DisputeFlagCleared,
    DisputeFlagRaised,
    DisputeRouted,
    ForwardingBreached,
    ForwardTimelinessUnknown,
    HandlingOverdue,
    NoticeChange,
    ObjectionEvent,
    ObjectionResolved,
    RecordCorrected,
    ReevaluationRequested,
    ReinsertionGuardRequested,
    RoutingFailed,
    StatementAttached,
    TargetMarkedUnverifiable,
)
from services.objection.domain.fingerprint import reinsertion_fingerprint
from services.objection.domain.ports import (
    Calendar,
    DisclosureLog,
    EvaluationLookup,
    OpenDisputes,
    RecordLookup,
    ResponsibleDepartments,
)
from services.objection.domain.reasons import (
    ALREADY_ANSWERED,
    CORRECTION_INVALID,
    DATA_NEVER_RECEIVED,
    DUPLICATE,
    EVALUATION_NOT_FOUND,
    EXTENSION_REFUSED,
    ILLEGAL_TRANSITION,
    INVALID_FIELD,
    NOT_ROUTED_TO_CALLER,
    PERMISSION_DENIED,
    TARGET_NOT_OWNED,
    VERSION_NOT_FOUND,
)
from services.objection.domain.sla import SlaFacts
from services.objection.domain.values import (
    EVALUATION_HANDLER,
    EVALUATION_ITEM,
    ActorKind,
    EvaluationRef,
    Extension,
    Filer,
    FilerKind,
    ForwardTimeliness,
    ObjectionStatus,
    Outcome,
    Recipient,
    RecipientKind,
    RecordRef,
    Target,
    TimelineEntry,
    TimelineKind,
)

MAX_ID_CHARS = 200
MAX_TARGETS = 50
MAX_ATTACHMENTS = 20
MAX_REASONS_CHARS = 4000
MAX_STATEMENT_CHARS = 2000
MAX_EXTENSION_REASON_CHARS = 500
_SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
# GB 32100-2015 code set: digits and upper-case letters without I, O, S, V, Z.


@dataclass(frozen=True)
class ObjectionPolicy:
    """The configurable rules of both clocks."""

    # forward_working_days is clock 1: working days a platform has to forward (R6: 2).
    forward_working_days: int = 2
    # handling_days is clock 2: calendar days the node has to handle an objection (R6: 20).
    handling_days: int = 20
    # max_extension_days caps all extensions of one objection together, so an extension cannot hide a breach forever.
    max_extension_days: int = 20
    # clock_skew tolerates a platform clock slightly ahead of the node's when it reports received_at.
    clock_skew: timedelta = timedelta(minutes=5)

    def __post_init__(self) -> None:
        if self.forward_working_days < 1 or self.handling_days < 1 or self.max_extension_days < 0:
            raise ValueError("objection clocks need positive periods")
        if self.clock_skew < timedelta(0):
            raise ValueError("clock_skew must not be negative")


@dataclass(frozen=True, kw_only=True)
class FileObjection:
    """A platform forwards an objection it received (the command behind intake)."""

    # objection_id is chosen by the caller of the domain (the use case), so replays are idempotent.
    objection_id: str
    # platform is the platform that received the objection and forwards it.
    platform: str
    filer: Filer
    # enterprise is the USCC of the enterprise whose data is disputed.
    enterprise: str
    reasons: str
    # received_at is when the platform received the objection (the platform's record).
    received_at: datetime
    # forwarded_at is when the node received the forward (the node's clock).
    forwarded_at: datetime
    # Exactly one of records or evaluation.
    records: tuple[RecordRef, ...] = ()
    evaluation: EvaluationRef | None = None
    # attachments are SHA-256 digests (hex) of files the platform keeps.
    attachments: tuple[str, ...] = ()
    # statement is the enterprise's own statement, shown with a record that is upheld or cannot be verified.
    statement: str | None = None


@dataclass(eq=False)
class DisputeLine:
    """One disputed target inside an objection; changed only through :class:`Objection` methods."""

    target: Target
    # item is the sharing-list item (EVALUATION_ITEM for an evaluation).
    item: str
    # provider and content_sha256 describe the disputed record version (None for an evaluation).
    provider: str | None = None
    content_sha256: str | None = None
    department: str | None = None
    routed_at: datetime | None = None
    routing_alerted: bool = False
    outcome: Outcome | None = None
    answered_at: datetime | None = None
    corrected_version: int | None = None
    statement: str | None = None
    statement_at: datetime | None = None


@dataclass(frozen=True)
class ObjectionFilter:
    """What supervisors list objections by (the store turns the same fields into a query)."""

    status: ObjectionStatus | None = None
    platform: str | None = None
    department: str | None = None
    enterprise: str | None = None

    def matches(self, objection: Objection) -> bool:
        return (
            (self.status is None or objection.status is self.status)
            and (self.platform is None or objection.platform == self.platform)
            and (self.department is None or self.department in objection.departments)
            and (self.enterprise is None or objection.enterprise == self.enterprise)
        )


def file_objection(
    command: FileObjection,
    *,
    records: RecordLookup,
    evaluations: EvaluationLookup,
    disclosures: DisclosureLog,
    open_disputes: OpenDisputes,
    departments: ResponsibleDepartments,
    calendar: Calendar,
    policy: ObjectionPolicy,
) -> Objection:
    """Check a forwarded objection, record it, start both clocks and route it.

    Checks, in this order (permission before existence): the request's shape, the enterprise's USCC and a receive
    time the calendar can count from (INVALID_ARGUMENT); an institution must have received data about the enterprise
    (PERMISSION_DENIED ``OBJECTION_DATA_NEVER_RECEIVED``); each target must be the enterprise's, said alike for an
    unknown id and another enterprise's (PERMISSION_DENIED ``OBJECTION_TARGET_NOT_OWNED``); the version must exist
    (NOT_FOUND ``OBJECTION_VERSION_NOT_FOUND``); no open objection may already dispute the same record or evaluation
    (ALREADY_EXISTS ``OBJECTION_DUPLICATE``).
    """
    _check_shape(command, policy)
    _check_countable(command.received_at, calendar)
    if command.filer.kind is FilerKind.INSTITUTION:
        institution = Recipient(RecipientKind.INSTITUTION, command.filer.id)
        # The node's own clock bounds the search, so a platform clock running slow cannot hide a real disclosure.
        if not disclosures.has_received(institution, command.enterprise, before=command.forwarded_at):
            raise PermissionDenied(DATA_NEVER_RECEIVED, "the institution has received no data about this enterprise")
    if command.evaluation is not None:
        lines = [_evaluation_line(command.evaluation, command.enterprise, evaluations)]
    else:
        lines = [_record_line(i, ref, command.enterprise, records) for i, ref in enumerate(command.records)]
    for index, line in enumerate(lines):
        if open_disputes.open_objection_on(line.target) is not None:
            raise AlreadyExists(
                DUPLICATE,
                "an open objection already disputes this target",
                {"target_index": str(index)},
            )
    objection = Objection(
        id=command.objection_id,
        platform=command.platform,
        filer=command.filer,
        enterprise=command.enterprise,
        reasons=command.reasons.strip(),
        attachments=tuple(a.lower() for a in command.attachments),
        received_at=command.received_at,
        forwarded_at=command.forwarded_at,
        lines=lines,
        handling_days=policy.handling_days,
        forward_timeliness=ForwardTimeliness.UNKNOWN,
    )
    for line in objection.lines:
        line.statement = command.statement.strip() if command.statement else None
        line.statement_at = command.forwarded_at if command.statement else None
    objection._start(calendar, policy)
    objection.route(departments, at=command.forwarded_at)
    return objection


class Objection:
    """An objection (异议) on records or an evaluation, from forwarding to resolution.

    Construct it with every field to rebuild a stored one; use :func:`file_objection` for a new one. Methods
    change state, append to the timeline (never rewrite it) and queue events; :meth:`pull_events` hands them over.
    """

    def __init__(
        self,
        *,
        id: str,
        platform: str,
        filer: Filer,
        enterprise: str,
        reasons: str,
        attachments: tuple[str, ...],
        received_at: datetime,
        forwarded_at: datetime,
        lines: Sequence[DisputeLine],
        handling_days: int,
        forward_timeliness: ForwardTimeliness,
        forward_deadline: Deadline | None = None,
        extensions: Iterable[Extension] = (),
        status: ObjectionStatus = ObjectionStatus.FORWARDED,
        resolved_at: datetime | None = None,
        overdue_alerted_at: datetime | None = None,
        timeline: Iterable[TimelineEntry] = (),
    ) -> None:
        self.id = id
        self.platform = platform
        self.filer = filer
        self.enterprise = enterprise
        self.reasons = reasons
        self.attachments = attachments
        self.received_at = received_at
        self.forwarded_at = forwarded_at
        self.handling_days = handling_days
        self._lines = list(lines)
        self._forward_timeliness = forward_timeliness
        self._forward_deadline = forward_deadline
        self._extensions = list(extensions)
        self._status = status
        self._resolved_at = resolved_at
        self._overdue_alerted_at = overdue_alerted_at
        self._timeline = list(timeline)
        self._events: list[ObjectionEvent] = []

    # --- read side -----------------------------------------------------------------------------------------------

    @property
    def lines(self) -> tuple[DisputeLine, ...]:
        return tuple(self._lines)

    @property
    def timeline(self) -> tuple[TimelineEntry, ...]:
        return tuple(self._timeline)

    @property
    def extensions(self) -> tuple[Extension, ...]:
        return tuple(self._extensions)

    @property
    def status(self) -> ObjectionStatus:
        return self._status

    @property
    def forward_timeliness(self) -> ForwardTimeliness:
        return self._forward_timeliness

    @property
    def forward_deadline(self) -> Deadline | None:
        """Clock 1's deadline; None when the calendar for it is not loaded (timeliness may still be known)."""
        return self._forward_deadline

    @property
    def resolved_at(self) -> datetime | None:
        return self._resolved_at

    @property
    def overdue_alerted_at(self) -> datetime | None:
        return self._overdue_alerted_at

    @property
    def is_open(self) -> bool:
        return self._status is not ObjectionStatus.RESOLVED

    @property
    def departments(self) -> frozenset[str]:
        """The departments (and the scoring handler) that targets are routed to."""
        return frozenset(line.department for line in self._lines if line.department is not None)

    @property
    def extension_days(self) -> int:
        return sum(e.days for e in self._extensions)

    @property
    def handling_due(self) -> Deadline:
        """Clock 2: the last day is the forwarding date (Asia/Shanghai) plus handling and extension days."""
        last = local_date(self.forwarded_at) + timedelta(days=self.handling_days + self.extension_days)
        return Deadline(last_day=last, due_before=start_of_day(last + timedelta(days=1)))

    @property
    def handled_on_time(self) -> bool | None:
        """None while open."""
        if self._resolved_at is None:
            return None
        return self.handling_due.is_met_by(self._resolved_at)

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and not self.handling_due.is_met_by(now)

    def sla_facts(self) -> SlaFacts:
        return SlaFacts(
            forward_timeliness=self._forward_timeliness,
            received_at=self.received_at,
            forwarded_at=self.forwarded_at,
            resolved_at=self._resolved_at,
            handling_due_before=self.handling_due.due_before,
        )

    @property
    def events(self) -> tuple[ObjectionEvent, ...]:
        """Events queued since the last :meth:`pull_events`."""
        return tuple(self._events)

    def pull_events(self) -> list[ObjectionEvent]:
        """Hand the queued events over (to the outbox) and forget them."""
        events, self._events = self._events, []
        return events

    # --- clock 1 -------------------------------------------------------------------------------------------------

    def _start(self, calendar: Calendar, policy: ObjectionPolicy) -> None:
        self._append(self.received_at, TimelineKind.RECEIVED_BY_PLATFORM, ActorKind.PLATFORM, self.platform)
        for line in self._lines:
            self._emit(
                DisputeFlagRaised(
                    objection_id=self.id, at=self.forwarded_at, enterprise=self.enterprise, target=line.target
                )
            )
        timeliness, deadline, missing_year = self._assess_forwarding(calendar, policy)
        detail = {"timeliness": timeliness.value}
        if deadline is not None:
            detail["deadline_last_day"] = deadline.last_day.isoformat()
        self._append(self.forwarded_at, TimelineKind.FORWARDED_TO_NODE, ActorKind.PLATFORM, self.platform, detail)
        self._settle_forwarding(timeliness, deadline, missing_year, self.forwarded_at)

    def reassess_forwarding(self, calendar: Calendar, policy: ObjectionPolicy, at: datetime) -> ForwardTimeliness:
        """Decide clock 1 again (after the missing calendar was loaded); a no-op once decided with a deadline."""
        if self._forward_timeliness is not ForwardTimeliness.UNKNOWN and self._forward_deadline is not None:
            return self._forward_timeliness
        timeliness, deadline, _ = self._assess_forwarding(calendar, policy)
        if deadline is not None:
            self._forward_deadline = deadline
        if timeliness is ForwardTimeliness.UNKNOWN or self._forward_timeliness is not ForwardTimeliness.UNKNOWN:
            return self._forward_timeliness
        detail = {"timeliness": timeliness.value}
        if deadline is not None:
            detail["deadline_last_day"] = deadline.last_day.isoformat()
        self._append(at, TimelineKind.FORWARD_TIMELINESS_ASSESSED, ActorKind.NODE, "objection", detail)
        self._settle_forwarding(timeliness, deadline, None, at)
        return timeliness

    def _assess_forwarding(
        self, calendar: Calendar, policy: ObjectionPolicy
    ) -> tuple[ForwardTimeliness, Deadline | None, int | None]:
        n = policy.forward_working_days
        try:
            deadline = calendar.forward_deadline(self.received_at, n)
        except CalendarUnknown:
            deadline = None
        if deadline is not None:
            on_time = deadline.is_met_by(self.forwarded_at)
        else:
            # The deadline runs into an unknown year, but the days actually elapsed may still decide it.
            try:
                on_time = calendar.within_working_days(self.received_at, self.forwarded_at, n)
            except CalendarUnknown as unknown:
                return ForwardTimeliness.UNKNOWN, None, unknown.year
        return (ForwardTimeliness.ON_TIME if on_time else ForwardTimeliness.LATE), deadline, None

    def _settle_forwarding(
        self, timeliness: ForwardTimeliness, deadline: Deadline | None, missing_year: int | None, at: datetime
    ) -> None:
        self._forward_timeliness = timeliness
        self._forward_deadline = deadline
        if timeliness is ForwardTimeliness.LATE:
            self._append(at, TimelineKind.FORWARDED_LATE, ActorKind.NODE, "objection")
            self._emit(
                ForwardingBreached(
                    objection_id=self.id,
                    at=at,
                    platform=self.platform,
                    received_at=self.received_at,
                    forwarded_at=self.forwarded_at,
                    deadline_last_day=deadline.last_day if deadline else None,
                )
            )
        elif timeliness is ForwardTimeliness.UNKNOWN and missing_year is not None:
            self._append(
                at,
                TimelineKind.FORWARD_TIMELINESS_UNKNOWN,
                ActorKind.NODE,
                "objection",
                {"missing_year": str(missing_year)},
            )
            self._emit(
                ForwardTimelinessUnknown(objection_id=self.id, at=at, platform=self.platform, missing_year=missing_year)
            )

    # --- routing -------------------------------------------------------------------------------------------------

    def route(self, departments: ResponsibleDepartments, at: datetime) -> None:
        """Send each unrouted target to its responsible department; safe to call again after the list is fixed."""
        if self._status is not ObjectionStatus.FORWARDED:
            return
        routed: dict[str, list[Target]] = {}
        for line in self._lines:
            if line.department is not None:
                continue
            if isinstance(line.target, EvaluationRef):
                department: str | None = EVALUATION_HANDLER
            else:
                department = departments.department_for(line.item)
            if department is None:
                if not line.routing_alerted:
                    line.routing_alerted = True
                    self._append(at, TimelineKind.ROUTING_FAILED, ActorKind.NODE, "objection", target=line.target)
                    self._emit(RoutingFailed(objection_id=self.id, at=at, item=line.item))
                continue
            line.department = department
            line.routed_at = at
            routed.setdefault(department, []).append(line.target)
        due = self.handling_due.due_before
        for department, targets in routed.items():
            for target in targets:
                self._append(at, TimelineKind.ROUTED, ActorKind.NODE, "objection", {"department": department}, target)
            self._emit(
                DisputeRouted(
                    objection_id=self.id, at=at, department=department, targets=tuple(targets), due_before=due
                )
            )
        if all(line.department is not None for line in self._lines):
            self._status = ObjectionStatus.ROUTED

    # --- clock 2 -------------------------------------------------------------------------------------------------

    def extend(self, *, days: int, reason: str, by: str, at: datetime, policy: ObjectionPolicy) -> Deadline:
        """Extend the handling period; only with a recorded reason, before it runs out, within the policy's cap."""
        if not self.is_open:
            raise FailedPrecondition(
                ILLEGAL_TRANSITION, "a resolved objection cannot be extended", {"from": self._status.value}
            )
        if days < 1:
            raise _invalid("days", "must be at least 1")
        reason = reason.strip()
        if not reason:
            raise _invalid("reason", "an extension needs a recorded reason")
        if len(reason) > MAX_EXTENSION_REASON_CHARS:
            raise _invalid("reason", f"longer than {MAX_EXTENSION_REASON_CHARS} characters")
        _no_controls(reason, "reason")
        if not by.strip():
            raise _invalid("by", "must name who extends")
        if not self.handling_due.is_met_by(at):
            raise FailedPrecondition(
                EXTENSION_REFUSED, "the handling period has already run out", {"problem": "overdue"}
            )
        if self.extension_days + days > policy.max_extension_days:
            raise FailedPrecondition(
                EXTENSION_REFUSED,
                f"extensions may total at most {policy.max_extension_days} days",
                {"problem": "cap", "remaining_days": str(policy.max_extension_days - self.extension_days)},
            )
        self._extensions.append(Extension(days=days, reason=reason, by=by, at=at))
        due = self.handling_due
        detail = {"days": str(days), "reason": reason, "due_last_day": due.last_day.isoformat()}
        self._append(at, TimelineKind.HANDLING_EXTENDED, ActorKind.NODE, by, detail)
        return due

    def check_overdue(self, now: datetime) -> bool:
        """Raise the overdue alert once when clock 2 has run out; True when it was raised now."""
        if not self.is_overdue(now) or self._overdue_alerted_at is not None:
            return False
        self._overdue_alerted_at = now
        due = self.handling_due
        pending = tuple(sorted({line.department or "unrouted" for line in self._lines if line.outcome is None}))
        self._append(
            now, TimelineKind.HANDLING_OVERDUE, ActorKind.NODE, "objection", {"due_last_day": due.last_day.isoformat()}
        )
        self._emit(HandlingOverdue(objection_id=self.id, at=now, due_before=due.due_before, departments=pending))
        return True

    # --- outcomes ------------------------------------------------------------------------------------------------

    def answer(
        self,
        *,
        department: str,
        target: Target,
        outcome: Outcome,
        at: datetime,
        records: RecordLookup,
        disclosures: DisclosureLog,
        corrected_version: int | None = None,
    ) -> None:
        """Record a department's outcome for one target; resolves the objection when it was the last one.

        A department may answer only targets routed to it (PERMISSION_DENIED ``OBJECTION_NOT_ROUTED_TO_CALLER``,
        said alike whether or not the target is in this objection); each target is answered once.
        """
        line = self._line_for(target)
        # The scoring team answers evaluations only, departments records only: "node:scoring" is never a record's
        # department, and an evaluation is routed to nobody else, so the routing check below decides both.
        if line is None or line.department != department:
            raise PermissionDenied(NOT_ROUTED_TO_CALLER, "this dispute is not routed to the department")
        if line.outcome is not None:
            raise FailedPrecondition(
                ALREADY_ANSWERED, "this dispute already has an outcome", {"outcome": line.outcome.value}
            )
        _require_aware(at, "at")
        if outcome is Outcome.CORRECTED and isinstance(target, RecordRef):
            if corrected_version is None:
                raise _invalid("corrected_version", "a corrected record names its new version")
            if corrected_version < 1:
                raise _invalid("corrected_version", "versions start at 1")
            corrected = records.version(target.record_id, corrected_version)
            if corrected is None or corrected.enterprise != self.enterprise or corrected_version <= target.version:
                raise FailedPrecondition(
                    CORRECTION_INVALID,
                    "the corrected version must be a newer version of the same record, already in the registry",
                )
        elif corrected_version is not None:
            raise _invalid("corrected_version", "only a corrected record has a new version")

        line.outcome = outcome
        line.answered_at = at
        line.corrected_version = corrected_version
        self._apply_outcome(line, at)
        detail = {"department": department, "outcome": outcome.value}
        if corrected_version is not None:
            detail["corrected_version"] = str(corrected_version)
        actor = ActorKind.NODE if department == EVALUATION_HANDLER else ActorKind.DEPARTMENT
        self._append(at, TimelineKind.ANSWERED, actor, department, detail, target)
        if all(line.outcome is not None for line in self._lines):
            self._resolve(at, disclosures)

    def _apply_outcome(self, line: DisputeLine, at: datetime) -> None:
        target, outcome = line.target, line.outcome
        if outcome is Outcome.CANNOT_VERIFY:
            self._emit(
                TargetMarkedUnverifiable(
                    objection_id=self.id, at=at, enterprise=self.enterprise, target=target, statement=line.statement
                )
            )
            return
        assert outcome is not None
        self._emit(
            DisputeFlagCleared(objection_id=self.id, at=at, enterprise=self.enterprise, target=target, outcome=outcome)
        )
        if outcome is Outcome.UPHELD and line.statement:
            self._emit(
                StatementAttached(
                    objection_id=self.id, at=at, enterprise=self.enterprise, target=target, statement=line.statement
                )
            )
        if outcome is Outcome.CORRECTED and isinstance(target, RecordRef):
            assert line.corrected_version is not None
            self._emit(
                RecordCorrected(
                    objection_id=self.id,
                    at=at,
                    enterprise=self.enterprise,
                    record_id=target.record_id,
                    disputed_version=target.version,
                    corrected_version=line.corrected_version,
                )
            )
            if line.provider is not None and line.content_sha256 is not None:
                self._emit(
                    ReinsertionGuardRequested(
                        objection_id=self.id,
                        at=at,
                        provider=line.provider,
                        enterprise=self.enterprise,
                        item=line.item,
                        content_sha256=line.content_sha256,
                        fingerprint=reinsertion_fingerprint(
                            line.provider, self.enterprise, line.item, line.content_sha256
                        ),
                    )
                )

    def attach_statement(self, *, enterprise: str, target: Target, statement: str, at: datetime) -> None:
        """The enterprise attaches (or replaces) its statement on an upheld or unverifiable target."""
        if enterprise != self.enterprise:
            raise PermissionDenied(PERMISSION_DENIED, "only the enterprise itself may attach a statement")
        line = self._line_for(target)
        if line is None:
            raise _invalid("target", "not disputed in this objection")
        if line.outcome not in (Outcome.UPHELD, Outcome.CANNOT_VERIFY):
            raise FailedPrecondition(
                ILLEGAL_TRANSITION,
                "a statement is attached to an upheld or unverifiable target",
                {"from": line.outcome.value if line.outcome else "OPEN", "to": "STATEMENT_ATTACHED"},
            )
        text = _statement(statement)
        if text is None:
            raise _invalid("statement", "must not be empty")
        line.statement = text
        line.statement_at = at
        self._append(at, TimelineKind.STATEMENT_ATTACHED, ActorKind.ENTERPRISE, enterprise, target=target)
        self._emit(
            StatementAttached(objection_id=self.id, at=at, enterprise=self.enterprise, target=target, statement=text)
        )

    def _resolve(self, at: datetime, disclosures: DisclosureLog) -> None:
        self._status = ObjectionStatus.RESOLVED
        self._resolved_at = at
        on_time = self.handling_due.is_met_by(at)
        notices: dict[Recipient, list[NoticeChange]] = {}
        for line in self._lines:
            assert line.outcome is not None
            change = NoticeChange(line.target, line.item, line.outcome, line.corrected_version)
            # Everyone who received the disputed record (or evaluation) holds what was disputed, however long before
            # the objection they received it.
            record_id = line.target.record_id if isinstance(line.target, RecordRef) else None
            for recipient in disclosures.recipients(self.enterprise, line.item, until=at, record_id=record_id):
                notices.setdefault(recipient, []).append(change)
        # Only a correction changes what the evaluation rests on; re-evaluating after an upheld or unverifiable
        # outcome would make a new evaluation without the mark and statement the outcome attached.
        if any(line.outcome is Outcome.CORRECTED for line in self._lines):
            self._emit(ReevaluationRequested(objection_id=self.id, at=at, enterprise=self.enterprise))
        for recipient, changes in notices.items():
            self._emit(
                CorrectionNoticeDue(
                    objection_id=self.id, at=at, recipient=recipient, enterprise=self.enterprise, changes=tuple(changes)
                )
            )
        self._emit(
            ObjectionResolved(
                objection_id=self.id,
                at=at,
                platform=self.platform,
                filer=self.filer,
                enterprise=self.enterprise,
                handled_on_time=on_time,
            )
        )
        detail = {"handled_on_time": "true" if on_time else "false"}
        self._append(at, TimelineKind.RESOLVED, ActorKind.NODE, "objection", detail)

    # --- helpers -------------------------------------------------------------------------------------------------

    def _line_for(self, target: Target) -> DisputeLine | None:
        return next((line for line in self._lines if line.target == target), None)

    def _append(
        self,
        at: datetime,
        kind: TimelineKind,
        actor_kind: ActorKind,
        actor_id: str,
        detail: dict[str, str] | None = None,
        target: Target | None = None,
    ) -> None:
        entry = TimelineEntry(
            seq=len(self._timeline) + 1,
            at=at,
            kind=kind,
            actor_kind=actor_kind,
            actor_id=actor_id,
            target=target,
            detail=dict(detail or {}),
        )
        self._timeline.append(entry)

    def _emit(self, event: ObjectionEvent) -> None:
        self._events.append(event)


# --- intake checks ---------------------------------------------------------------------------------------------------


def _check_shape(command: FileObjection, policy: ObjectionPolicy) -> None:
    _check_parties(command)
    _check_targets(command)
    _check_texts(command)
    # Errors name the wire's field (receive_time), which the caller can act on.
    _require_aware(command.received_at, "receive_time")
    _require_aware(command.forwarded_at, "forwarded_at")
    if command.received_at > command.forwarded_at + policy.clock_skew:
        raise _invalid("receive_time", "after the node received the forward")


def _check_countable(received_at: datetime, calendar: Calendar) -> None:
    """A receive time before the first year of the official calendar is refused: clock 1 could never be counted
    from it (nobody publishes those years' arrangements now), so it would stay UNKNOWN for good and alert about a
    year that will never be loaded. A year after the calendar's last is another matter: that is next year's notice
    not loaded yet, which the calendar alert asks for, and the objection is decided once it is."""
    covered = calendar.covered_years()
    if covered and local_date(received_at).year < covered[0]:
        raise _invalid("receive_time", f"before {covered[0]}, the first year of the official working-day calendar")


def _check_parties(command: FileObjection) -> None:
    for name in ("objection_id", "platform", "enterprise"):
        _check_id(getattr(command, name), name)
    _check_id(command.filer.id, "filer.id")
    # GB 32100 as every service checks it, so an objection is never stored under a code no enterprise can have.
    uscc_rules.check(command.enterprise, "enterprise")
    if command.filer.kind is FilerKind.ENTERPRISE and command.filer.id != command.enterprise:
        raise _invalid("filer.id", "an enterprise objects only about its own data")
    if command.filer.kind is FilerKind.INSTITUTION and command.statement is not None:
        raise _invalid("statement", "only the enterprise itself gives a statement")


def _check_targets(command: FileObjection) -> None:
    if bool(command.records) == (command.evaluation is not None):
        raise _invalid("targets", "name either records or one evaluation")
    if len(command.records) > MAX_TARGETS:
        raise _invalid("records", f"more than {MAX_TARGETS} records")
    seen: set[str] = set()
    for ref in command.records:
        _check_id(ref.record_id, "records.record_id")
        if ref.version < 1:
            raise _invalid("records.version", "versions start at 1")
        if ref.key in seen:
            raise _invalid("records", "a record is named twice")
        seen.add(ref.key)
    if command.evaluation is not None:
        _check_id(command.evaluation.evaluation_id, "evaluation.evaluation_id")


def _check_texts(command: FileObjection) -> None:
    text = command.reasons.strip()
    if not text:
        raise _invalid("reasons", "an objection states its reasons")
    if len(text) > MAX_REASONS_CHARS:
        raise _invalid("reasons", f"longer than {MAX_REASONS_CHARS} characters")
    _no_controls(text, "reasons")
    if command.statement is not None and _statement(command.statement) is None:
        raise _invalid("statement", "must not be empty when given")
    if len(command.attachments) > MAX_ATTACHMENTS:
        raise _invalid("attachments", f"more than {MAX_ATTACHMENTS} attachments")
    hashes = [a.lower() for a in command.attachments]
    if any(not _SHA256_HEX.fullmatch(h) for h in hashes):
        raise _invalid("attachments", "each attachment is a hex SHA-256 digest")
    if len(set(hashes)) != len(hashes):
        raise _invalid("attachments", "an attachment is named twice")


def _record_line(index: int, ref: RecordRef, enterprise: str, records: RecordLookup) -> DisputeLine:
    if records.owner(ref.record_id) != enterprise:
        raise PermissionDenied(TARGET_NOT_OWNED, "the enterprise has no such record", {"target_index": str(index)})
    info = records.version(ref.record_id, ref.version)
    if info is None or info.enterprise != enterprise:
        raise NotFound(VERSION_NOT_FOUND, "the record has no such version", {"target_index": str(index)})
    return DisputeLine(target=ref, item=info.item, provider=info.provider, content_sha256=info.content_sha256)


def _evaluation_line(ref: EvaluationRef, enterprise: str, evaluations: EvaluationLookup) -> DisputeLine:
    # Permission before existence: a name under another enterprise is refused alike whether or not it exists; only
    # under the enterprise's own name does "no such evaluation" tell the filer nothing it may not know.
    named = ref.named_enterprise
    if named is not None and named != enterprise:
        raise PermissionDenied(TARGET_NOT_OWNED, "the enterprise has no such evaluation", {"target_index": "0"})
    info = evaluations.evaluation(ref.evaluation_id)
    if info is None and named == enterprise:
        raise NotFound(EVALUATION_NOT_FOUND, "the enterprise has no evaluation of that name", {"target_index": "0"})
    if info is None or info.enterprise != enterprise:
        raise PermissionDenied(TARGET_NOT_OWNED, "the enterprise has no such evaluation", {"target_index": "0"})
    return DisputeLine(target=ref, item=EVALUATION_ITEM)


def _statement(text: str) -> str | None:
    stripped = text.strip()
    if not stripped:
        return None
    if len(stripped) > MAX_STATEMENT_CHARS:
        raise _invalid("statement", f"longer than {MAX_STATEMENT_CHARS} characters")
    _no_controls(stripped, "statement")
    return stripped


def _no_controls(text: str, name: str) -> None:
    """Free text may hold newlines and tabs, never other controls (C0, DEL, C1): a NUL could not even be stored."""
    if any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in text):
        raise _invalid(name, "contains control characters")


def _check_id(value: str, name: str) -> None:
    if not value or not value.strip():
        raise _invalid(name, "must not be empty")
    if len(value) > MAX_ID_CHARS:
        raise _invalid(name, f"longer than {MAX_ID_CHARS} characters")


def _require_aware(at: datetime, name: str) -> None:
    if at.tzinfo is None or at.utcoffset() is None:
        raise _invalid(name, "must carry a time zone")


def _invalid(name: str, problem: str) -> InvalidArgument:
    return InvalidArgument(INVALID_FIELD, f"{name}: {problem}", {"field": name, "problem": problem})


__all__ = [
    "DisputeLine",
    "FileObjection",
    "Objection",
    "ObjectionFilter",
    "ObjectionPolicy",
    "file_objection",
]
