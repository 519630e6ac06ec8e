"""JSON forms of targets and events, as the store keeps them (the outbox payloads, timeline targets)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from services.objection.domain import EvaluationRef, ObjectionEvent, Recipient, RecordRef, Target


def target_obj(target: Target) -> dict[str, Any]:
    if isinstance(target, RecordRef):
        return {"record_id": target.record_id, "version": target.version}
    return {"evaluation_id": target.evaluation_id}


def target_from(obj: dict[str, Any]) -> Target:
    if "record_id" in obj:
        return RecordRef(str(obj["record_id"]), int(obj["version"]))
    return EvaluationRef(str(obj["evaluation_id"]))


def recipient_name(recipient: Recipient) -> str:
    """Recipients are stored by resource name (``platforms/x`` or ``institutions/y``) as the disclosure log says."""
    return recipient.id


def _plain(value: Any) -> Any:
    if isinstance(value, RecordRef | EvaluationRef):
        return target_obj(value)
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def event_obj(event: ObjectionEvent) -> dict[str, Any]:
    """The event as plain JSON values; ``type`` names its class."""
    body = _plain(event)
    assert isinstance(body, dict)
    return {"type": type(event).__name__, **body}


def event_json(event: ObjectionEvent) -> str:
    return json.dumps(event_obj(event), sort_keys=True, ensure_ascii=False)


def effect_key(event: ObjectionEvent) -> str:
    """What identifies the effect: (objection, type, target / recipient / department), per the domain's events doc."""
    obj = event_obj(event)
    parts = [event.objection_id, obj["type"]]
    for name in ("target", "recipient", "department", "record_id", "item", "fingerprint"):
        if name in obj:
            parts.append(json.dumps(obj[name], sort_keys=True))
    if obj["type"] == "StatementAttached":  # a replaced statement is a new effect
        parts.append(obj["at"])
    return "\x1f".join(parts)
