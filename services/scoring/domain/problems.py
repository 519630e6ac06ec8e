"""Why a model or scenario is rejected: a list of problems, each with a code, a place and a plain explanation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from services.kit.errors import InvalidArgument

# The ErrorReason (scoring range, protos/creditnode/common/v1/error_reason.proto) of a rejected model or scenario.
MODEL_REJECTED = "ERROR_REASON_MODEL_REJECTED"


@dataclass(frozen=True)
class Problem:
    """One reason for rejection, e.g. ``Problem("BIN_GAP", "indicators.tax_paid_trend.bins[2]", "...")``."""

    code: str
    where: str
    detail: str

    def __str__(self) -> str:
        return f"{self.code} at {self.where}: {self.detail}"


class Problems:
    """Collects problems while a document is read, so one rejection names all of them, not only the first."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, code: str, where: str, detail: str) -> None:
        self.items.append(Problem(code, where, detail))

    def __bool__(self) -> bool:
        return bool(self.items)


class ModelRejected(InvalidArgument):
    """A model or scenario failed validation; ``problems`` says every reason (no personal data: it is all config)."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        shown = "; ".join(str(p) for p in problems[:20])
        more = f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(
            MODEL_REJECTED,
            f"model rejected: {shown}{more}",
            {"problem_count": str(len(problems)), "codes": ",".join(sorted({p.code for p in problems}))},
        )
        self.problems = tuple(problems)


def yaml_problem(exc: Any) -> Problem:
    """A document that is not YAML, told by where it breaks: YAML's own message quotes the document (a tag, an alias,
    an anchor), and what the sender put there may be personal data."""
    mark = getattr(exc, "problem_mark", None)
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    return Problem("BAD_YAML", "document", f"not valid YAML{where}")
