"""What the objection domain needs from the outside, as typing.Protocol ports (adapters live outside the domain)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.kit.workdays import Deadline
from services.objection.domain.values import Recipient, Target


@dataclass(frozen=True)
class RecordInfo:
    """What the registry knows of one record version that matters to an objection."""

    record_id: str
    version: int
    # enterprise is the USCC of the enterprise the record is about (its owner).
    enterprise: str
    # item is the sharing-list item code the record belongs to.
    item: str
    # provider is the department that supplied this version (its provenance).
    provider: str
    # content_sha256 is the registry's digest of this version's content (hex), used against reinsertion.
    content_sha256: str


@dataclass(frozen=True)
class EvaluationInfo:
    """What scoring knows of one evaluation that matters to an objection."""

    evaluation_id: str
    enterprise: str


class RecordLookup(Protocol):
    """Reads records from the registry."""

    def owner(self, record_id: str) -> str | None:
        """The USCC of the record's enterprise, or None when no record has that id."""

    def version(self, record_id: str, version: int) -> RecordInfo | None:
        """One version of a record, or None when the record or that version does not exist."""


class EvaluationLookup(Protocol):
    """Reads evaluations from scoring."""

    def evaluation(self, evaluation_id: str) -> EvaluationInfo | None:
        """The evaluation, or None when none has that id."""


class ResponsibleDepartments(Protocol):
    """The sharing list (信用信息共享清单): which department answers for each item."""

    def department_for(self, item: str) -> str | None:
        """The code of the department responsible for ``item``, or None when the list has no such item."""


class DisclosureLog(Protocol):
    """Reads the evidence log of disclosures made by the gateway."""

    def has_received(self, recipient: Recipient, enterprise: str, before: datetime) -> bool:
        """Whether ``recipient`` received any data about ``enterprise`` before ``before``."""

    def recipients(
        self, enterprise: str, item: str, until: datetime, record_id: str | None = None
    ) -> Iterable[Recipient]:
        """Every platform or institution that received ``item`` of ``enterprise`` up to ``until`` (inclusive); with
        ``record_id``, only releases that included that record. No repeats."""


class OpenDisputes(Protocol):
    """The targets currently under an open objection (the store keeps them unique, against concurrent filings)."""

    def open_objection_on(self, target: Target) -> str | None:
        """The id of the open objection disputing the same record (any version) or evaluation, or None."""


class Calendar(Protocol):
    """The official working-day calendar (services.kit.workdays.WorkCalendar satisfies it)."""

    def forward_deadline(self, received_at: datetime, n: int = 2) -> Deadline:
        """Raises services.kit.workdays.CalendarUnknown when a day it needs is not in a loaded year."""

    def within_working_days(self, start: datetime, at: datetime, n: int) -> bool:
        """Raises services.kit.workdays.CalendarUnknown only when an unknown day decides the answer."""

    def covered_years(self) -> tuple[int, ...]:
        """The years whose official calendar is loaded, ascending."""
