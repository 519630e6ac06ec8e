"""Objections on evaluations: which evaluations a dispute covers, how it ends, and what an evaluation then shows.

A dispute is recorded against the evaluation an objection names and covers every later evaluation of the enterprise
while it is open: a re-evaluation made meanwhile rests on the same method and data under dispute (as a record's flag
survives new versions). When it ends, its cover stops at the enterprise's evaluation of that moment, so an
"unverifiable" mark or a statement stays with the evaluations the objection was about and never with a later one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from services.kit.errors import FailedPrecondition, InvalidArgument

DISPUTE_CLOSED = "ERROR_REASON_EVALUATION_DISPUTE_CLOSED"
MAX_STATEMENT_CHARS = 2000


class DisputeOutcome(StrEnum):
    """How an objection on an evaluation ended."""

    CORRECTED = "CORRECTED"
    UPHELD = "UPHELD"
    UNVERIFIABLE = "UNVERIFIABLE"


@dataclass(frozen=True)
class EvaluationDispute:
    """One objection's dispute on an enterprise's evaluation; ``objection`` is "objections/{id}"."""

    uscc: str
    objection: str
    # evaluation_id is the disputed evaluation; the dispute covers it and later ones (see the module doc).
    evaluation_id: int
    opened_at: datetime
    outcome: DisputeOutcome | None = None
    closed_at: datetime | None = None
    # through_evaluation_id is the last evaluation covered, fixed when the dispute ends.
    through_evaluation_id: int | None = None
    statement: str | None = None

    @property
    def is_open(self) -> bool:
        return self.outcome is None

    def covers(self, evaluation_id: int) -> bool:
        if evaluation_id < self.evaluation_id:
            return False
        return self.through_evaluation_id is None or evaluation_id <= self.through_evaluation_id

    def close(
        self, outcome: DisputeOutcome, at: datetime, through_evaluation_id: int, statement: str | None
    ) -> EvaluationDispute:
        """End the dispute; ending it again with the same outcome is a replay and changes nothing."""
        if self.outcome is not None:
            if self.outcome is outcome:
                return self
            raise FailedPrecondition(
                DISPUTE_CLOSED, "the dispute already ended with another outcome", {"outcome": self.outcome.value}
            )
        text = _statement(statement) if statement else None
        if text is not None and outcome is not DisputeOutcome.UNVERIFIABLE:
            raise InvalidArgument(
                "ERROR_REASON_INVALID_FIELD",
                "statement: only an unverifiable outcome carries one; attach it after an upheld one",
                {"field": "statement"},
            )
        return replace(
            self,
            outcome=outcome,
            closed_at=at,
            through_evaluation_id=max(through_evaluation_id, self.evaluation_id),
            statement=text,
        )

    def with_statement(self, statement: str) -> EvaluationDispute:
        """Show (or replace) the enterprise's statement after an UPHELD or UNVERIFIABLE outcome."""
        if self.outcome not in (DisputeOutcome.UPHELD, DisputeOutcome.UNVERIFIABLE):
            raise FailedPrecondition(
                DISPUTE_CLOSED,
                "a statement is shown with an upheld or unverifiable evaluation",
                {"outcome": self.outcome.value if self.outcome else "OPEN"},
            )
        text = _statement(statement)
        if text is None:
            raise InvalidArgument("ERROR_REASON_INVALID_FIELD", "statement: must not be empty", {"field": "statement"})
        return replace(self, statement=text)


def open_dispute(uscc: str, objection: str, evaluation_id: int, at: datetime) -> EvaluationDispute:
    return EvaluationDispute(uscc=uscc, objection=objection, evaluation_id=evaluation_id, opened_at=at)


@dataclass(frozen=True)
class DisputeView:
    """What an evaluation shows of the objections on it."""

    in_dispute: bool = False
    # objection is the open objection's name ("objections/{id}"), the earliest when several are open.
    objection: str = ""
    unverifiable: bool = False
    statements: tuple[str, ...] = ()


NO_DISPUTE = DisputeView()


def open_objection(disputes: Iterable[EvaluationDispute]) -> str:
    """The objection of the earliest open dispute ("" when none is open). An open dispute covers the enterprise's
    current evaluation, so this is what the current figures (a portrait's too) are contested by."""
    opened = sorted((d for d in disputes if d.is_open), key=lambda d: (d.opened_at, d.objection))
    return opened[0].objection if opened else ""


def view(disputes: Iterable[EvaluationDispute], evaluation_id: int) -> DisputeView:
    """The view of evaluation ``evaluation_id`` given the enterprise's disputes."""
    covering = sorted((d for d in disputes if d.covers(evaluation_id)), key=lambda d: (d.opened_at, d.objection))
    if not covering:
        return NO_DISPUTE
    objection = open_objection(covering)
    return DisputeView(
        in_dispute=bool(objection),
        objection=objection,
        unverifiable=any(d.outcome is DisputeOutcome.UNVERIFIABLE for d in covering),
        statements=tuple(d.statement for d in covering if d.statement and not d.is_open),
    )


def _statement(text: str) -> str | None:
    stripped = text.strip()
    if not stripped:
        return None
    if len(stripped) > MAX_STATEMENT_CHARS:
        raise InvalidArgument(
            "ERROR_REASON_INVALID_FIELD",
            f"statement: longer than {MAX_STATEMENT_CHARS} characters",
            {"field": "statement"},
        )
    # C0 controls but newline and tab, DEL and the C1 controls: never text to show (and a NUL cannot be stored).
    if any((ord(c) < 32 and c not in "\n\t") or 0x7F <= ord(c) <= 0x9F for c in stripped):
        raise InvalidArgument(
            "ERROR_REASON_INVALID_FIELD", "statement: contains control characters", {"field": "statement"}
        )
    return stripped
