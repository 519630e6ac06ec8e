"""Value objects of the objection domain: who files, what is disputed, outcomes, states and timeline entries."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# Disputes about an evaluation are answered by the node's scoring team, not by a data-providing department; the colon
# keeps this handler name out of the space of department codes.
EVALUATION_HANDLER = "node:scoring"
# The "item" of an evaluation, as the disclosure log names it when an evaluation is released.
EVALUATION_ITEM = "evaluation"


class FilerKind(StrEnum):
    """Who filed the objection (always through a platform)."""

    ENTERPRISE = "ENTERPRISE"
    INSTITUTION = "INSTITUTION"


@dataclass(frozen=True)
class Filer:
    """The party objecting: an enterprise (by USCC) or a connected institution (by its registry name)."""

    kind: FilerKind
    id: str


@dataclass(frozen=True)
class RecordRef:
    """One version of one credit record in the registry."""

    record_id: str
    version: int

    @property
    def key(self) -> str:
        """What makes two disputes the same: the record, whatever the version."""
        return f"record:{self.record_id}"


@dataclass(frozen=True)
class EvaluationRef:
    """One evaluation produced by scoring; its id is scoring's name "enterprises/{uscc}/evaluations/{id}"."""

    evaluation_id: str

    @property
    def key(self) -> str:
        return f"evaluation:{self.evaluation_id}"

    @property
    def named_enterprise(self) -> str | None:
        """The USCC the name places the evaluation under; None when the id is not such a name."""
        parts = self.evaluation_id.split("/")
        if len(parts) != 4 or parts[0] != "enterprises" or parts[2] != "evaluations" or not parts[1] or not parts[3]:
            return None
        return parts[1]


Target = RecordRef | EvaluationRef


class RecipientKind(StrEnum):
    """Who received data from the node, as the disclosure (evidence) log records it."""

    PLATFORM = "PLATFORM"
    INSTITUTION = "INSTITUTION"


@dataclass(frozen=True)
class Recipient:
    """A platform or institution that received an enterprise's data."""

    kind: RecipientKind
    id: str


class Outcome(StrEnum):
    """A department's answer to one disputed target."""

    # CORRECTED: the department issued a new version of the record; the in-dispute flag is removed.
    CORRECTED = "CORRECTED"
    # UPHELD: the record stands; the flag is removed and the enterprise may attach a statement.
    UPHELD = "UPHELD"
    # CANNOT_VERIFY: the record is marked unverifiable and shown with the enterprise's statement.
    CANNOT_VERIFY = "CANNOT_VERIFY"


class ObjectionStatus(StrEnum):
    """Where an objection stands. The node only learns of an objection when a platform forwards it."""

    # FORWARDED: recorded by the node; some disputed target still has no responsible department.
    FORWARDED = "FORWARDED"
    # ROUTED: every target is with its department (some may have answered already).
    ROUTED = "ROUTED"
    # RESOLVED: every target has an outcome; notices and re-evaluation have been requested.
    RESOLVED = "RESOLVED"


class ForwardTimeliness(StrEnum):
    """Clock 1: did the platform forward within the working-day limit?"""

    ON_TIME = "ON_TIME"
    LATE = "LATE"
    # UNKNOWN: the official calendar needed to decide is not loaded; an alert was raised and nothing was guessed.
    UNKNOWN = "UNKNOWN"


class ActorKind(StrEnum):
    """Who did a step on the timeline."""

    PLATFORM = "PLATFORM"
    ENTERPRISE = "ENTERPRISE"
    INSTITUTION = "INSTITUTION"
    DEPARTMENT = "DEPARTMENT"
    NODE = "NODE"


class TimelineKind(StrEnum):
    """The steps an objection's timeline records."""

    RECEIVED_BY_PLATFORM = "RECEIVED_BY_PLATFORM"
    FORWARDED_TO_NODE = "FORWARDED_TO_NODE"
    FORWARDED_LATE = "FORWARDED_LATE"
    FORWARD_TIMELINESS_UNKNOWN = "FORWARD_TIMELINESS_UNKNOWN"
    FORWARD_TIMELINESS_ASSESSED = "FORWARD_TIMELINESS_ASSESSED"
    ROUTED = "ROUTED"
    ROUTING_FAILED = "ROUTING_FAILED"
    HANDLING_EXTENDED = "HANDLING_EXTENDED"
    HANDLING_OVERDUE = "HANDLING_OVERDUE"
    ANSWERED = "ANSWERED"
    STATEMENT_ATTACHED = "STATEMENT_ATTACHED"
    RESOLVED = "RESOLVED"


@dataclass(frozen=True)
class TimelineEntry:
    """One step, as shown to the enterprise and the filing platform. ``detail`` never holds statement texts."""

    seq: int
    at: datetime
    kind: TimelineKind
    actor_kind: ActorKind
    actor_id: str
    target: Target | None = None
    detail: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Extension:
    """A recorded extension of the handling period (clock 2)."""

    days: int
    reason: str
    by: str
    at: datetime
