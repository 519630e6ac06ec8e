"""What may be authorized: the purpose templates with their caps, and the openness of sharing-list items."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from services.consent.domain.model import UseLimit, UseLimitKind, invalid_field
from services.kit.errors import InvalidArgument


class Openness(StrEnum):
    """How open a sharing-list item is (the sharing list's ``openness``)."""

    PUBLIC = "PUBLIC"
    NON_PUBLIC = "NON_PUBLIC"
    OPERATING_OPT_IN = "OPERATING_OPT_IN"
    COMMERCIAL_SECRET = "COMMERCIAL_SECRET"  # noqa: S105 - an openness class, not a password


@dataclass(frozen=True)
class DataItem:
    """One sharing-list item as far as consent cares: its code, category and openness."""

    code: str
    category: str
    openness: Openness


class SharingList(Protocol):
    """Port: the items of the registry's current sharing list."""

    def item(self, code: str) -> DataItem | None:
        """The item with that code, or None when the list has no such item."""

    def category(self, code: str) -> Sequence[DataItem] | None:
        """Every item of the category, or None when the list has no such category."""


@dataclass(frozen=True)
class PurposeTemplate:
    """A purpose of the catalogue and the caps every authorization for it must stay within."""

    code: str
    display_name: str
    max_validity: timedelta
    max_lookback: timedelta
    max_uses: int
    use_limit_kinds: frozenset[UseLimitKind]
    min_period_days: int = 1

    def check(self, valid_from: datetime, valid_until: datetime, data_since: datetime, limit: UseLimit) -> None:
        """INVALID_ARGUMENT (EXCEEDS_PURPOSE_CAP or INVALID_FIELD) naming the first field beyond the caps."""
        if valid_until <= valid_from:
            raise invalid_field("valid_until", "must be after valid_from")
        if data_since > valid_from:
            raise invalid_field("data_since", "must not be after valid_from")
        if valid_until - valid_from > self.max_validity:
            raise _cap("valid_until", f"P{self.max_validity.days}D")
        if valid_from - data_since > self.max_lookback:
            raise _cap("data_since", f"P{self.max_lookback.days}D")
        if limit.kind not in self.use_limit_kinds:
            raise _cap("use_limit.kind", ",".join(sorted(k.value for k in self.use_limit_kinds)))
        if limit.max_uses > self.max_uses:
            raise _cap("use_limit.max_uses", str(self.max_uses))
        if limit.kind is UseLimitKind.FREQUENCY and limit.period_days < self.min_period_days:
            raise _cap("use_limit.period_days", str(self.min_period_days))


def _cap(field_name: str, cap: str) -> InvalidArgument:
    return InvalidArgument(
        "ERROR_REASON_EXCEEDS_PURPOSE_CAP",
        f"{field_name} is beyond the purpose's cap",
        {"field": field_name, "cap": cap},
    )


class PurposeCatalogue:
    """The purposes an authorization may name, by code."""

    def __init__(self, templates: Iterable[PurposeTemplate]) -> None:
        self._by_code = {t.code: t for t in templates}

    def get(self, code: str) -> PurposeTemplate:
        template = self._by_code.get(code)
        if template is None:
            raise InvalidArgument(
                "ERROR_REASON_UNKNOWN_PURPOSE", "purpose is not in the catalogue", {"field": "purpose"}
            )
        return template

    def all(self) -> list[PurposeTemplate]:
        return [self._by_code[c] for c in sorted(self._by_code)]


def resolve_scope(items: Sequence[str], categories: Sequence[str], sharing: SharingList) -> frozenset[str]:
    """The item codes an authorization covers, fixed at grant time.

    Named items must exist and never be commercial secrets; opt-in operating items count only when named.
    A category covers its public and non-public items: never its secrets, nor its opt-in items (name those).
    """
    covered: set[str] = set()
    for code in items:
        item = sharing.item(code)
        if item is None:
            raise _unknown("items", code)
        if item.openness is Openness.COMMERCIAL_SECRET:
            raise InvalidArgument(
                "ERROR_REASON_COMMERCIAL_SECRET",
                "a commercial secret can never be authorized",
                {"field": "items", "code": code},
            )
        covered.add(code)
    for code in categories:
        members = sharing.category(code)
        if members is None:
            raise _unknown("categories", code)
        covered.update(m.code for m in members if m.openness in (Openness.PUBLIC, Openness.NON_PUBLIC))
    if not covered:
        raise invalid_field("items", "the authorization covers no data item")
    return frozenset(covered)


def _unknown(field_name: str, code: str) -> InvalidArgument:
    return InvalidArgument(
        "ERROR_REASON_UNKNOWN_DATA_ITEM",
        f"{field_name} names a code not on the sharing list",
        {"field": field_name, "code": code},
    )
