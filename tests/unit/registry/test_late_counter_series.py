"""The "department late" counter: a series for every listed department and item before any late record."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

from prometheus_client import REGISTRY

import services.registry
from services.registry import record_usecases as uc
from services.registry.domain.ledger import ListEntry
from services.registry.domain.sharing_list import parse_sharing_list

LIST_YAML = (Path(services.registry.__file__).parent / "data" / "sharing_list.yaml").read_text(encoding="utf-8")


class _Lists:
    def latest_version(self) -> int:
        return 1

    def all(self) -> list[ListEntry]:
        return [ListEntry(1, LIST_YAML, "d", datetime(2026, 1, 1, tzinfo=UTC), "ops:test", "")]


def test_each_listed_item_has_its_late_counter_at_zero_once_the_list_is_loaded() -> None:
    # The alert reads increase(...[1h]): a series that first appears already counting (a late batch of a hundred
    # records, the first of its department and item since the pod started) shows no increase, and nothing fires.
    items = parse_sharing_list(LIST_YAML).items
    assert items
    uc.CatalogueCache().get(SimpleNamespace(sharing_lists=_Lists()))  # type: ignore[arg-type]
    for item in items:
        labels = {"department": item.department, "item": item.code}
        assert REGISTRY.get_sample_value("creditnode_ingest_late_records_total", labels) is not None, labels
