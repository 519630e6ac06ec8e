"""Stored credit records as the use cases see them: heads, versions, disputes, changes and delivery figures."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.registry.domain.records import FieldValue, IdempotencyKey, ascii_json_list


class RecordState(StrEnum):
    """Where a record stands; PARKED records wait for their enterprise to register and are never read."""

    CURRENT = "CURRENT"
    PARKED = "PARKED"
    REMOVED = "REMOVED"


class ProvenanceKind(StrEnum):
    DEPARTMENT = "DEPARTMENT"
    OBJECTION_CORRECTION = "OBJECTION_CORRECTION"


class ChangeType(StrEnum):
    CREATED = "CREATED"
    VERSION_ADDED = "VERSION_ADDED"
    REMOVED = "REMOVED"
    DISPUTE_SET = "DISPUTE_SET"
    DISPUTE_CLEARED = "DISPUTE_CLEARED"


class DisputeOutcome(StrEnum):
    CORRECTED = "CORRECTED"
    REMOVED = "REMOVED"
    UPHELD = "UPHELD"
    UNVERIFIABLE = "UNVERIFIABLE"
    WITHDRAWN = "WITHDRAWN"


def record_id_of(key: IdempotencyKey) -> str:
    """The node's id of a source record: stable across versions and replicas, so a replay finds the same row."""
    return hashlib.sha256(ascii_json_list(key.source_key).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RecordHead:
    """One source record (department, item, source id) and where its content stands."""

    record_id: str
    uscc: str
    item_code: str
    department: str
    source_record_id: str
    state: RecordState
    version: int
    latest_source_version: int
    created_at: datetime
    updated_at: datetime
    # The department's content fingerprints by source version (for replay classification); empty on plain reads.
    fingerprints_by_version: Mapping[int, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"enterprises/{self.uscc}/records/{self.record_id}"


@dataclass(frozen=True)
class StoredVersion:
    """One content of a record, with its provenance; rows are appended, only ``valid_to`` is ever set later."""

    record_id: str
    version: int
    uscc: str
    item_code: str
    department: str
    state: RecordState
    kind: ProvenanceKind
    source_version: int
    idempotency_key: str | None
    list_version: int
    fingerprint: str
    fields: Mapping[str, FieldValue]
    event_time: datetime
    received_at: datetime
    due_time: datetime
    on_time: bool
    batch: str
    objection: str
    valid_from: datetime
    valid_to: datetime | None = None


@dataclass(frozen=True)
class Dispute:
    record_id: str
    objection: str
    set_at: datetime
    cleared_at: datetime | None = None
    outcome: str = ""
    statement: str = ""


@dataclass(frozen=True)
class RecordChange:
    """A record changed at a revision (the record watch's source)."""

    revision: int
    record_id: str
    item_code: str
    type: ChangeType


@dataclass(frozen=True)
class Refusal:
    """A record that was not stored: rejected with a reason, or an identical replay."""

    department: str
    item_code: str
    outcome: str
    reason: str
    received_at: datetime


@dataclass(frozen=True)
class DeliveryFigures:
    """What the store counts for one (department, item) over a period."""

    first_deliveries: int = 0
    on_time: int = 0
    rejected_by_reason: Mapping[str, int] = field(default_factory=dict)
    duplicates: int = 0
    delivered: int = 0
    last_receive_time: datetime | None = None


@dataclass(frozen=True)
class ListEntry:
    """A stored sharing list version: its YAML text and history."""

    version: int
    yaml_text: str
    digest: str
    published_at: datetime
    published_by: str
    note: str
    superseded_at: datetime | None = None


@dataclass
class ChunkWrites:
    """Everything one ingestion chunk stores, written in bulk in its transaction."""

    new_heads: list[RecordHead] = field(default_factory=list)
    updated_heads: list[RecordHead] = field(default_factory=list)
    # Each updated head's version as it was read: the update applies only over that one (see SqlRecords.write).
    read_versions: dict[str, int] = field(default_factory=dict)
    versions: list[StoredVersion] = field(default_factory=list)
    closed: list[tuple[str, int, datetime]] = field(default_factory=list)  # (record_id, version, valid_to)
    changes: list[RecordChange] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)


def page_key(head: RecordHead, version: StoredVersion) -> str:
    """The ordering key of an enterprise listing (item code, event time, record id), as text for a page token."""
    return json.dumps([head.item_code, version.event_time.isoformat(), head.record_id])
