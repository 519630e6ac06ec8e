"""An authorization's look-back (its ``data_since``) over the records an alert rests on, as the gateway applies it."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime

from services.scoring.domain.records import RecordRef


def older_items(evidence: Iterable[RecordRef], since: datetime | None) -> frozenset[str]:
    """The items of the records older than ``since`` (none when there is no bound). A reference without an event time
    (stored before scoring kept one) counts as older: its age cannot be shown to be inside the look-back."""
    if since is None:
        return frozenset()
    return frozenset(r.item_code for r in evidence if r.event_time is None or r.event_time < since)


def outside_look_back(evidence: Iterable[RecordRef], since: datetime | None, public: Collection[str]) -> bool:
    """Whether a record behind an alert is older than the authorization's look-back and not of a ``public`` item
    (public records leave whatever the look-back, as in a credit report; an item the list does not name is not
    public). The gateway withholds such an alert, so scoring does not count it as sendable either."""
    return any(item not in public for item in older_items(evidence, since))
