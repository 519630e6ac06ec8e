"""Record builders and the sharing-list catalogue for scoring's unit tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from itertools import count
from pathlib import Path

import yaml

from services.scoring.domain.extract import Catalogue
from services.scoring.domain.records import Record

ROOT = Path(__file__).resolve().parents[3]
AS_OF = datetime(2026, 11, 30, 12, tzinfo=UTC)


def sharing_list_catalogue() -> Catalogue:
    """Item -> field -> type, read from the registry's published sharing list (its data file, not its code)."""
    doc = yaml.safe_load((ROOT / "services/registry/data/sharing_list.yaml").read_text(encoding="utf-8"))
    return {item["code"]: {f["name"]: f["type"] for f in item["fields"]} for item in doc["items"]}


class Records:
    """Builds records for one enterprise with unique ids; ``at`` is the record's source event time."""

    def __init__(self) -> None:
        self._ids: Iterator[int] = count()
        self.items: list[Record] = []

    def add(
        self,
        item: str,
        at: date | datetime = date(2026, 1, 1),
        *,
        record_id: str | None = None,
        version: int = 1,
        in_dispute: bool = False,
        publicity_end: datetime | None = None,
        **fields: object,
    ) -> Record:
        when = at if isinstance(at, datetime) else datetime(at.year, at.month, at.day, tzinfo=UTC)
        record = Record(record_id or f"r{next(self._ids)}", item, fields, when, version, in_dispute, publicity_end)
        self.items.append(record)
        return record

    def monthly(self, item: str, periods: list[str], **fields: object) -> None:
        for p in periods:
            self.add(item, date(int(p[:4]), int(p[5:]), 28), period=p, **fields)


def months(first: str, n: int) -> list[str]:
    """``n`` consecutive YYYY-MM periods starting at ``first``."""
    year, month = int(first[:4]), int(first[5:])
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out
