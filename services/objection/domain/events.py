"""Domain events the Objection aggregate emits: commands to other services and alerts for operators.

They leave through an outbox with at-least-once delivery, so every consumer must be idempotent; the pair
(``objection_id``, event type, target) identifies an effect. Some carry an enterprise's statement text: deliver them,
never log them whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from services.objection.domain.values import Filer, Outcome, Recipient, Target


@dataclass(frozen=True, kw_only=True)
class ObjectionEvent:
    """Base of every event: which objection, and when (the instant of the step that caused it)."""

    objection_id: str
    at: datetime


# --- to the registry (records, flags, compliance) and scoring (evaluations) ----------------------------------------


@dataclass(frozen=True, kw_only=True)
class DisputeFlagRaised(ObjectionEvent):
    """Set the in-dispute flag on the target while the objection is open (registry for records, scoring else)."""

    enterprise: str
    target: Target


@dataclass(frozen=True, kw_only=True)
class DisputeFlagCleared(ObjectionEvent):
    """Remove the in-dispute flag: the target was corrected or upheld."""

    enterprise: str
    target: Target
    outcome: Outcome


@dataclass(frozen=True, kw_only=True)
class RecordCorrected(ObjectionEvent):
    """The disputed version is superseded by the department's corrected version (already in the registry)."""

    enterprise: str
    record_id: str
    disputed_version: int
    corrected_version: int


@dataclass(frozen=True, kw_only=True)
class ReinsertionGuardRequested(ObjectionEvent):
    """Refuse (or hold for review) a later feed from ``provider`` that brings the corrected-away content back.

    The registry compares incoming records on (provider, enterprise, item, content_sha256); ``fingerprint`` is
    :func:`services.objection.domain.fingerprint.reinsertion_fingerprint` of the same four values.
    """

    provider: str
    enterprise: str
    item: str
    content_sha256: str
    fingerprint: str


@dataclass(frozen=True, kw_only=True)
class TargetMarkedUnverifiable(ObjectionEvent):
    """Replace the in-dispute flag by the "cannot verify" mark and show the enterprise's statement (if any yet)."""

    enterprise: str
    target: Target
    statement: str | None


@dataclass(frozen=True, kw_only=True)
class StatementAttached(ObjectionEvent):
    """Show the enterprise's statement with the target from now on (replacing an earlier one)."""

    enterprise: str
    target: Target
    statement: str


@dataclass(frozen=True, kw_only=True)
class ForwardingBreached(ObjectionEvent):
    """The platform forwarded late: record a compliance breach against it, visible to supervision."""

    platform: str
    received_at: datetime
    forwarded_at: datetime
    # deadline_last_day is the last working day the forward was due on; None when only lateness was decidable.
    deadline_last_day: date | None


@dataclass(frozen=True, kw_only=True)
class ReevaluationRequested(ObjectionEvent):
    """Scoring re-evaluates the enterprise now that the objection is resolved with a correction."""

    enterprise: str


# --- to departments, the gateway and the filing platform ---------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DisputeRouted(ObjectionEvent):
    """Ask a department (or the scoring team) to answer for these targets by ``due_before``."""

    department: str
    targets: tuple[Target, ...]
    due_before: datetime


@dataclass(frozen=True)
class NoticeChange:
    """One resolved target in a correction notice."""

    target: Target
    item: str
    outcome: Outcome
    corrected_version: int | None


@dataclass(frozen=True, kw_only=True)
class CorrectionNoticeDue(ObjectionEvent):
    """Tell a platform or institution that received a disputed item since filing how the dispute ended."""

    recipient: Recipient
    enterprise: str
    changes: tuple[NoticeChange, ...]


@dataclass(frozen=True, kw_only=True)
class ObjectionResolved(ObjectionEvent):
    """Every target has an outcome; tell the filing platform (and through it the filer)."""

    platform: str
    filer: Filer
    enterprise: str
    handled_on_time: bool


# --- alerts for operators and supervisors -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ForwardTimelinessUnknown(ObjectionEvent):
    """Clock 1 cannot be decided: the official calendar of ``missing_year`` is not loaded. Load it, then reassess."""

    platform: str
    missing_year: int


@dataclass(frozen=True, kw_only=True)
class RoutingFailed(ObjectionEvent):
    """The sharing list names no department for ``item``; the target waits until the list is fixed."""

    item: str


@dataclass(frozen=True, kw_only=True)
class HandlingOverdue(ObjectionEvent):
    """Clock 2 ran out with targets still unanswered by these departments."""

    due_before: datetime
    departments: tuple[str, ...]
