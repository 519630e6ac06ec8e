"""File adapters read at start-up: the purpose templates, and the sharing list until the registry serves it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from services.consent.domain.catalogue import DataItem, Openness, PurposeCatalogue, PurposeTemplate
from services.consent.domain.model import CODE, UseLimitKind


class CatalogueFileError(ValueError):
    """A purpose or sharing-list file cannot be used; the message names the file and the entry."""


def _load(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogueFileError(f"{path}: cannot be read as YAML ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise CatalogueFileError(f"{path}: the top level must be a mapping")
    return data


def _entries(path: Path, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    entries = data.get(key)
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise CatalogueFileError(f"{path}: '{key}' must be a list of mappings")
    return entries


class SharingListFile:
    """SharingList port over the registry's sharing-list YAML (``items`` with ``code``, ``category``, ``openness``).

    Only those three attributes are read, so the registry may add others freely. Switching to the registry's
    sharing-list API means another class with the same two methods; nothing else changes.
    """

    def __init__(self, path: Path) -> None:
        data = _load(path)
        self._items: dict[str, DataItem] = {}
        self._categories: dict[str, list[DataItem]] = {}
        for i, entry in enumerate(_entries(path, data, "items")):
            try:
                item = DataItem(str(entry["code"]), str(entry["category"]), Openness(str(entry["openness"])))
            except (KeyError, ValueError):
                raise CatalogueFileError(f"{path}: items[{i}] needs code, category and a known openness") from None
            if not CODE.fullmatch(item.code) or not CODE.fullmatch(item.category):
                raise CatalogueFileError(f"{path}: items[{i}] code and category must be upper-case codes")
            if item.code in self._items:
                raise CatalogueFileError(f"{path}: items[{i}] repeats code {item.code}")
            self._items[item.code] = item
            self._categories.setdefault(item.category, []).append(item)

    def item(self, code: str) -> DataItem | None:
        return self._items.get(code)

    def category(self, code: str) -> Sequence[DataItem] | None:
        return self._categories.get(code)


def load_purposes(path: Path) -> PurposeCatalogue:
    """The purpose catalogue from its YAML file (services/consent/data/purposes.yaml describes the format)."""
    data = _load(path)
    templates = []
    for i, entry in enumerate(_entries(path, data, "purposes")):
        try:
            kinds = frozenset(UseLimitKind(str(k)) for k in entry["use_limit_kinds"])
            template = PurposeTemplate(
                code=str(entry["code"]),
                display_name=str(entry["display_name"]),
                max_validity=timedelta(days=int(entry["max_validity_days"])),
                max_lookback=timedelta(days=int(entry["max_lookback_days"])),
                max_uses=int(entry["max_uses"]),
                use_limit_kinds=kinds,
                min_period_days=int(entry.get("min_period_days", 1)),
            )
        except (KeyError, ValueError, TypeError):
            raise CatalogueFileError(f"{path}: purposes[{i}] is missing a field or has a wrong value") from None
        if not CODE.fullmatch(template.code) or not kinds or template.max_uses < 1 or template.min_period_days < 1:
            raise CatalogueFileError(f"{path}: purposes[{i}] has an invalid code, kinds, max_uses or period")
        templates.append(template)
    if len({t.code for t in templates}) != len(templates):
        raise CatalogueFileError(f"{path}: a purpose code is repeated")
    return PurposeCatalogue(templates)
