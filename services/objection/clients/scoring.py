"""EvaluationLookup for scoring: scoring publishes no evaluation API yet, so this adapter says so, never guesses."""

from __future__ import annotations

from services.kit.errors import Unavailable
from services.objection.domain import EvaluationInfo


class EvaluationsNotWired:
    """Until scoring's contract has GetEvaluation, objections about evaluations are refused as UNAVAILABLE."""

    def evaluation(self, evaluation_id: str) -> EvaluationInfo | None:
        raise Unavailable(
            "ERROR_REASON_DEPENDENCY_UNAVAILABLE",
            "evaluation lookups are not wired yet (scoring has no evaluation API)",
            {"dependency": "scoring"},
        )
