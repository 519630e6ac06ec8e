"""The disclosure log: DISCLOSURE leaves in the gateway's evidence log (ids, item codes and hashes, never data)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from services.kit.evidence.entries import LeafKind
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.store import LeafFilter


class EvidenceDisclosureLog:
    """Appends are durable (group commit) before ``record`` returns."""

    def __init__(self, log: EvidenceLog) -> None:
        self.log = log
        self.origin = log.origin

    def record(self, payload: dict[str, Any]) -> int:
        return self.log.append(LeafKind.DISCLOSURE, payload).index

    def accepting(self) -> bool:
        return self.log.healthy()

    def disclosures_of(
        self, enterprise: str, after: int | None, limit: int
    ) -> list[tuple[int, datetime, dict[str, Any]]]:
        """Up to ``limit`` DISCLOSURE leaves about ``enterprise`` with an index above ``after``, oldest first: one
        bounded read of the leaves' (subject, leaf_index) index, never the whole log nor the whole history."""
        where = LeafFilter(kind=LeafKind.DISCLOSURE, payload=(("enterprise", enterprise),))
        return [
            (leaf.index, leaf.created_at, json.loads(leaf.entry_json)["payload"])
            for leaf in self.log.list_leaves(where, after, limit)
        ]


class NullDisclosureLog:
    """GATEWAY_AUDIT=false: only for the benchmark's on/off ratio. Records nothing."""

    origin = ""

    def record(self, payload: dict[str, Any]) -> int:
        return -1

    def accepting(self) -> bool:
        return True

    def disclosures_of(
        self, enterprise: str, after: int | None, limit: int
    ) -> list[tuple[int, datetime, dict[str, Any]]]:
        return []
