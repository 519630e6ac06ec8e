"""The egress policy (ARCHITECTURE.md): what may leave, to whom, decided per item before anything is fetched."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CallerKind(StrEnum):
    """Who receives the data."""

    SELF = "SELF"  # the enterprise itself (a signed self-query)
    PLATFORM = "PLATFORM"  # a platform, directly or through 秦信融
    INSTITUTION = "INSTITUTION"  # an institution through its platform


class Openness(StrEnum):
    """An item's data class from the sharing list."""

    PUBLIC = "PUBLIC"
    NON_PUBLIC = "NON_PUBLIC"
    OPERATING_OPT_IN = "OPERATING_OPT_IN"
    COMMERCIAL_SECRET = "COMMERCIAL_SECRET"  # noqa: S105 (a data class, not a password)


class Withheld(StrEnum):
    """Why an item is not released."""

    NOT_AUTHORIZED = "NOT_AUTHORIZED"
    DERIVED_ONLY = "DERIVED_ONLY"
    COMMERCIAL_SECRET = "COMMERCIAL_SECRET"  # noqa: S105 (a data class, not a password)
    UNKNOWN_ITEM = "UNKNOWN_ITEM"


@dataclass(frozen=True)
class ItemVerdict:
    """The decision on one item: released (masked unless to the enterprise itself) or withheld with a reason."""

    item_code: str
    openness: Openness | None
    released: bool
    withheld: Withheld | None = None
    masked: bool = True


@dataclass(frozen=True)
class Coverage:
    """What an authorization covers: its items, and those it names explicitly. Operating (opt-in) data needs its item
    named: consent resolves covered items once, when granting, so an item a later list version moved to
    OPERATING_OPT_IN can be covered only through a category the enterprise granted when it was not operating data."""

    items: frozenset[str] = frozenset()
    named: frozenset[str] = frozenset()

    def covers(self, item_code: str, openness: Openness | None) -> bool:
        # Items stay in ``items`` whatever later list versions say: a commercial secret can never be authorized, and
        # an item whose openness is not known (off today's list) cannot be judged.
        if item_code not in self.items or openness is None or openness is Openness.COMMERCIAL_SECRET:
            return False
        return openness is not Openness.OPERATING_OPT_IN or item_code in self.named


NO_COVERAGE = Coverage()


def needs_authorization(openness: Openness) -> bool:
    """Non-public and opt-in items need an authorization; commercial secrets are never released so never asked."""
    return openness in (Openness.NON_PUBLIC, Openness.OPERATING_OPT_IN)


def decide_item(  # noqa: PLR0911 (one return per row of the table reads best)
    caller: CallerKind, item_code: str, openness: Openness | None, coverage: Coverage
) -> ItemVerdict:
    """The table: public to all; non-public and opt-in detail only to an authorized platform whose authorization
    covers the item (opt-in only when named, see Coverage); institutions get no raw non-public rows; commercial
    secrets never leave, except to the enterprise itself, which gets everything raw."""
    if openness is None:
        return ItemVerdict(item_code, None, False, Withheld.UNKNOWN_ITEM)
    if caller is CallerKind.SELF:
        return ItemVerdict(item_code, openness, True, masked=False)
    if openness is Openness.PUBLIC:
        return ItemVerdict(item_code, openness, True)
    if openness is Openness.COMMERCIAL_SECRET:
        return ItemVerdict(item_code, openness, False, Withheld.COMMERCIAL_SECRET)
    if caller is CallerKind.INSTITUTION:
        return ItemVerdict(item_code, openness, False, Withheld.DERIVED_ONLY)
    if coverage.covers(item_code, openness):
        return ItemVerdict(item_code, openness, True)
    return ItemVerdict(item_code, openness, False, Withheld.NOT_AUTHORIZED)


def published(publicity_end: datetime | None, now: datetime) -> bool:
    """Whether a record is still within its publicity period (公示期): the registry gives the first instant it is not
    (from the list version governing it), None for an item without one. Past it, a record leaves to no one but the
    enterprise itself (a self-query), and stays stored for audit."""
    return publicity_end is None or now < publicity_end
