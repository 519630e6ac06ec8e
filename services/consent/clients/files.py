"""File adapter read at start-up: the purpose templates."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml

from services.consent.domain.catalogue import PurposeCatalogue, PurposeTemplate
from services.consent.domain.model import CODE, UseLimitKind


class CatalogueFileError(ValueError):
    """A purpose file cannot be used; the message names the file and the entry."""


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
