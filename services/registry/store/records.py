"""SQLAlchemy implementations of the record and sharing list ports: bulk writes per chunk, no per-record queries."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

import orjson
import psycopg
from sqlalchemy import ColumnElement, Table, and_, any_, bindparam, case, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from services.kit.db import bind_processor, driver_errors_as_sqlalchemy
from services.kit.errors import Aborted
from services.registry.domain.ledger import (
    ChangeType,
    ChunkWrites,
    DeliveryFigures,
    Dispute,
    ListEntry,
    ProvenanceKind,
    RecordChange,
    RecordHead,
    RecordState,
    StoredVersion,
)
from services.registry.domain.records import FieldValue
from services.registry.store.models import (
    BatchResultRow,
    EnterpriseRow,
    IngestRefusalRow,
    RecordDisputeRow,
    RecordEventRow,
    RecordRow,
    RecordVersionRow,
    SharingListVersionRow,
    StreamPositionRow,
    SupersededFingerprintRow,
)

# Bound lists stay below SQLite's and PostgreSQL's parameter limits.
_IN_BATCH = 900

# PostgreSQL advisory locks ordering a chunk that parks records with the registration of their enterprise: the
# two-key form (a key space apart from one-key locks such as the migration lock), this namespace and hashtext(USCC).
# Two USCCs with one hash only wait for each other needlessly.
_PARKING_LOCKS = 0x50524B44  # "PRKD"


def encode_fields(values: Mapping[str, FieldValue]) -> str:
    """JSON that keeps each value's type: decimals and dates are tagged, so 1.50 never becomes a float."""
    out: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, Decimal):
            out[name] = {"d": str(value)}
        elif isinstance(value, date):
            out[name] = {"t": value.isoformat()}
        else:
            out[name] = value
    return orjson.dumps(out, option=orjson.OPT_SORT_KEYS).decode()


def decode_fields(text: str) -> dict[str, FieldValue]:
    out: dict[str, FieldValue] = {}
    for name, value in json.loads(text).items():
        if isinstance(value, dict):
            out[name] = Decimal(value["d"]) if "d" in value else date.fromisoformat(value["t"])
        else:
            out[name] = value
    return out


def _table(model: Any) -> Table:
    return cast(Table, model.__table__)


def _copy(session: Session, table: Table, rows: list[dict[str, Any]]) -> None:
    """Append ``rows`` to ``table`` with PostgreSQL's COPY, in the session's transaction.

    COPY takes rows as one stream: no statement per row for the server to run, and no per-row parameter handling
    in SQLAlchemy, which cost more than the records' own checks. Values pass through each column's bind processor
    (UTC datetimes stay UTC), and a driver error is raised as SQLAlchemy's own (an IntegrityError stays one)."""
    conn = session.connection()
    columns = [c for c in table.columns if c.name in rows[0]]
    names = [c.name for c in columns]
    processors = [bind_processor(c.type, conn.dialect) for c in columns]
    sql = f"COPY {table.name} ({', '.join(names)}) FROM STDIN"
    driver = cast(psycopg.Connection[Any], conn.connection.driver_connection)
    with driver_errors_as_sqlalchemy(sql, conn.dialect), driver.cursor() as cur, cur.copy(sql) as copy:
        for row in rows:
            copy.write_row([row[n] if p is None else p(row[n]) for n, p in zip(names, processors, strict=True)])


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + _IN_BATCH] for i in range(0, len(values), _IN_BATCH)]


def _member(column: Any, values: list[str], postgres: bool) -> ColumnElement[bool]:
    """``column IN values``. On PostgreSQL as ``= ANY(array)``: one short SQL text for any number of values, which
    the driver parses once, where an IN list is new text (hundreds of placeholders) to parse on every chunk."""
    if postgres:
        return cast(ColumnElement[bool], column == any_(bindparam(None, values, type_=ARRAY(column.type))))
    return cast(ColumnElement[bool], column.in_(values))


def _head(r: Any, fingerprints: Mapping[int, str] | None = None) -> RecordHead:
    return RecordHead(
        record_id=r.record_id,
        uscc=r.uscc,
        item_code=r.item_code,
        department=r.department,
        source_record_id=r.source_record_id,
        state=RecordState(r.state),
        version=r.version,
        latest_source_version=r.latest_source_version,
        created_at=r.created_at,
        updated_at=r.updated_at,
        fingerprints_by_version=fingerprints or {},
    )


def _version(r: RecordVersionRow) -> StoredVersion:
    return StoredVersion(
        record_id=r.record_id,
        version=r.version,
        uscc=r.uscc,
        item_code=r.item_code,
        department=r.department,
        state=RecordState(r.state),
        kind=ProvenanceKind(r.kind),
        source_version=r.source_version,
        idempotency_key=r.idempotency_key,
        list_version=r.list_version,
        fingerprint=r.fingerprint,
        fields=decode_fields(r.fields),
        event_time=r.event_time,
        received_at=r.received_at,
        due_time=r.due_time,
        on_time=r.on_time,
        batch=r.batch,
        objection=r.objection,
        valid_from=r.valid_from,
        valid_to=r.valid_to,
    )


def _head_row(h: RecordHead) -> dict[str, Any]:
    return {
        "record_id": h.record_id,
        "uscc": h.uscc,
        "item_code": h.item_code,
        "department": h.department,
        "source_record_id": h.source_record_id,
        "state": h.state.value,
        "version": h.version,
        "latest_source_version": h.latest_source_version,
        "created_at": h.created_at,
        "updated_at": h.updated_at,
    }


def _version_row(v: StoredVersion) -> dict[str, Any]:
    return {
        "record_id": v.record_id,
        "version": v.version,
        "uscc": v.uscc,
        "item_code": v.item_code,
        "department": v.department,
        "state": v.state.value,
        "kind": v.kind.value,
        "source_version": v.source_version,
        "idempotency_key": v.idempotency_key,
        "list_version": v.list_version,
        "fingerprint": v.fingerprint,
        "fields": encode_fields(v.fields),
        "event_time": v.event_time,
        "received_at": v.received_at,
        "due_time": v.due_time,
        "on_time": v.on_time,
        "batch": v.batch,
        "objection": v.objection,
        "valid_from": v.valid_from,
        "valid_to": v.valid_to,
    }


class SqlSharingLists:
    def __init__(self, session: Session) -> None:
        self.s = session

    def latest_version(self) -> int:
        return self.s.scalar(select(func.max(SharingListVersionRow.version))) or 0

    def all(self) -> list[ListEntry]:
        rows = self.s.scalars(select(SharingListVersionRow).order_by(SharingListVersionRow.version))
        return [
            ListEntry(r.version, r.yaml_text, r.digest, r.published_at, r.published_by, r.note, r.superseded_at)
            for r in rows
        ]

    def add(self, entry: ListEntry) -> None:
        self.s.add(
            SharingListVersionRow(
                version=entry.version,
                yaml_text=entry.yaml_text,
                digest=entry.digest,
                published_at=entry.published_at,
                published_by=entry.published_by,
                note=entry.note,
                superseded_at=entry.superseded_at,
            )
        )
        self.s.flush()

    def supersede(self, version: int, at: datetime) -> None:
        self.s.execute(
            update(SharingListVersionRow)
            .where(SharingListVersionRow.version == version, SharingListVersionRow.superseded_at.is_(None))
            .values(superseded_at=at)
        )


class SqlRecords:
    def __init__(self, session: Session) -> None:
        self.s = session
        self._pg = session.get_bind().dialect.name == "postgresql"

    # ---------------------------------------------------------------------------------------------- ingestion

    def stream_position(self, department: str, stream_id: str) -> int:
        q = select(StreamPositionRow.last_sequence).where(
            StreamPositionRow.department == department, StreamPositionRow.stream_id == stream_id
        )
        if self._pg:
            q = q.with_for_update()  # two connections on one stream queue here instead of both writing
        return self.s.scalar(q) or 0

    def set_stream_position(self, department: str, stream_id: str, sequence: int, at: datetime) -> None:
        done = self.s.execute(
            update(StreamPositionRow)
            .where(StreamPositionRow.department == department, StreamPositionRow.stream_id == stream_id)
            .values(last_sequence=sequence, updated_at=at)
        )
        if done.rowcount == 0:  # type: ignore[attr-defined]
            self.s.execute(
                insert(StreamPositionRow).values(
                    department=department, stream_id=stream_id, last_sequence=sequence, updated_at=at
                )
            )

    def heads_for_ingest(self, record_ids: list[str]) -> dict[str, RecordHead]:
        if not record_ids:
            return {}
        fingerprints: dict[str, dict[int, str]] = defaultdict(dict)
        rows: list[Any] = []
        for part in _chunks(record_ids):
            heads = select(RecordRow.__table__).where(_member(RecordRow.record_id, part, self._pg))
            rows += self.s.execute(heads).all()
        # Versions only of the records that exist: a chunk of new records (the usual case) needs no second query.
        for part in _chunks([r.record_id for r in rows]):
            q = select(RecordVersionRow.record_id, RecordVersionRow.source_version, RecordVersionRow.fingerprint).where(
                _member(RecordVersionRow.record_id, part, self._pg),
                RecordVersionRow.kind == ProvenanceKind.DEPARTMENT.value,
            )
            for rid, source_version, fingerprint in self.s.execute(q):
                fingerprints[rid][source_version] = fingerprint
        return {r.record_id: _head(r, fingerprints[r.record_id]) for r in rows}

    def registered(self, usccs: list[str]) -> set[str]:
        out: set[str] = set()
        for part in _chunks(usccs):
            out.update(self.s.scalars(select(EnterpriseRow.uscc).where(_member(EnterpriseRow.uscc, part, self._pg))))
        return out

    def lock_for_parking(self, usccs: list[str]) -> None:
        if self._pg and usccs:
            self.s.execute(
                text(
                    "SELECT pg_advisory_xact_lock_shared(CAST(:ns AS integer), hashtext(u))"
                    " FROM unnest(CAST(:usccs AS text[])) AS u"
                ),
                {"ns": _PARKING_LOCKS, "usccs": sorted(set(usccs))},
            )

    def lock_for_registration(self, uscc: str) -> None:
        if self._pg:
            self.s.execute(
                text("SELECT pg_advisory_xact_lock(CAST(:ns AS integer), hashtext(:uscc))"),
                {"ns": _PARKING_LOCKS, "uscc": uscc},
            )

    def superseded(self, fingerprints: list[str]) -> set[str]:
        out: set[str] = set()
        for part in _chunks(fingerprints):
            q = select(SupersededFingerprintRow.fingerprint).where(
                _member(SupersededFingerprintRow.fingerprint, part, self._pg)
            )
            out.update(self.s.scalars(q))
        return out

    def add_superseded(self, fingerprint: str, record_id: str, at: datetime) -> None:
        if self.s.get(SupersededFingerprintRow, fingerprint) is None:
            self.s.add(SupersededFingerprintRow(fingerprint=fingerprint, record_id=record_id, at=at))
            self.s.flush()

    def _append(self, model: Any, rows: list[dict[str, Any]]) -> None:
        """Insert new rows: COPY on PostgreSQL; on SQLite one Core executemany, which the driver loops in C."""
        if not rows:
            return
        if self._pg:
            _copy(self.s, _table(model), rows)
        else:
            self.s.connection().execute(insert(_table(model)), rows)

    def write(self, writes: ChunkWrites) -> None:
        self._append(RecordRow, [_head_row(h) for h in writes.new_heads])
        if writes.updated_heads:
            t = cast(Table, RecordRow.__table__)
            # Only over the version read: heads are read without a lock, and on PostgreSQL another writer (a second
            # stream, an objection's correction) may have added the same version number meanwhile; two versions
            # would then both be in force. The later of the two finds no row here and is ABORTED, then retried.
            result = self.s.execute(
                update(t)
                .where(t.c.record_id == bindparam("rid"), t.c.version == bindparam("read_version"))
                .values(
                    uscc=bindparam("uscc"),
                    state=bindparam("state"),
                    version=bindparam("version"),
                    latest_source_version=bindparam("lsv"),
                    updated_at=bindparam("updated_at"),
                ),
                [
                    {
                        "rid": h.record_id,
                        "read_version": writes.read_versions[h.record_id],
                        "uscc": h.uscc,
                        "state": h.state.value,
                        "version": h.version,
                        "lsv": h.latest_source_version,
                        "updated_at": h.updated_at,
                    }
                    for h in writes.updated_heads
                ],
                execution_options={"synchronize_session": False},
            )
            if getattr(result, "rowcount", 0) != len(writes.updated_heads):
                raise Aborted("ERROR_REASON_CONCURRENT_MODIFICATION", "a record changed meanwhile; retry")
        self._append(RecordVersionRow, [_version_row(v) for v in writes.versions])
        if writes.closed:
            # After the inserts: a version this chunk wrote can be closed by a later one of the same chunk.
            vt = cast(Table, RecordVersionRow.__table__)
            self.s.execute(
                update(vt)
                .where(vt.c.record_id == bindparam("rid"), vt.c.version == bindparam("ver"))
                .values(valid_to=bindparam("vto")),
                [{"rid": rid, "ver": ver, "vto": at} for rid, ver, at in writes.closed],
                execution_options={"synchronize_session": False},
            )
        self.add_changes(writes.changes)
        self._append(
            IngestRefusalRow,
            [
                {
                    "department": r.department[:40],
                    "item_code": r.item_code[:64],
                    "outcome": r.outcome,
                    "reason": r.reason,
                    "received_at": r.received_at,
                }
                for r in writes.refusals
            ],
        )

    def add_changes(self, changes: list[RecordChange]) -> None:
        self._append(
            RecordEventRow,
            [
                {"revision": c.revision, "record_id": c.record_id, "item_code": c.item_code, "type": c.type.value}
                for c in changes
            ],
        )

    def apply_parked(self, uscc: str, revision: int, at: datetime) -> list[str]:
        q = select(RecordRow.record_id, RecordRow.item_code).where(
            RecordRow.uscc == uscc, RecordRow.state == RecordState.PARKED.value
        )
        rows = self.s.execute(q.order_by(RecordRow.record_id)).all()
        if not rows:
            return []
        # A parked version was never served: it is in force from now on (as-of reads of earlier times must not
        # find it), and one a correction replaced while parked never was (an empty interval at ``at``).
        parked = select(RecordRow.record_id).where(RecordRow.uscc == uscc, RecordRow.state == RecordState.PARKED.value)
        v = RecordVersionRow
        for column in (v.valid_from, v.valid_to):
            self.s.execute(
                update(v)
                .where(v.record_id.in_(parked), column < at)
                .values({column.key: at})
                .execution_options(synchronize_session=False)
            )
        self.s.execute(
            update(RecordRow)
            .where(RecordRow.uscc == uscc, RecordRow.state == RecordState.PARKED.value)
            .values(state=RecordState.CURRENT.value, updated_at=at)
            .execution_options(synchronize_session=False)
        )
        self.add_changes([RecordChange(revision, rid, item, ChangeType.CREATED) for rid, item in rows])
        return [rid for rid, _ in rows]

    # -------------------------------------------------------------------------------------------------- reads

    def head(self, record_id: str) -> RecordHead | None:
        row = self.s.execute(select(RecordRow.__table__).where(RecordRow.record_id == record_id)).first()
        return _head(row) if row else None

    def versions(self, record_id: str) -> list[StoredVersion]:
        q = select(RecordVersionRow).where(RecordVersionRow.record_id == record_id).order_by(RecordVersionRow.version)
        return [_version(r) for r in self.s.scalars(q)]

    def current_versions(self, record_ids: list[str]) -> dict[str, StoredVersion]:
        out: dict[str, StoredVersion] = {}
        for part in _chunks(record_ids):
            q = select(RecordVersionRow).where(
                RecordVersionRow.record_id.in_(part), RecordVersionRow.valid_to.is_(None)
            )
            out.update({r.record_id: _version(r) for r in self.s.scalars(q)})
        return out

    def enterprise_versions(
        self, uscc: str, *, item_codes: list[str] | None, at: datetime | None, after: str | None, limit: int
    ) -> list[tuple[RecordHead, StoredVersion]]:
        v, h = RecordVersionRow, RecordRow
        q = (
            select(v, h.__table__)
            .join(h, h.record_id == v.record_id)
            .where(v.uscc == uscc, h.state != RecordState.PARKED.value)
        )
        if at is None:
            q = q.where(v.valid_to.is_(None))
        else:
            q = q.where(v.valid_from <= at, or_(v.valid_to.is_(None), v.valid_to > at))
        if item_codes is not None:
            q = q.where(v.item_code.in_(item_codes))
        if after:
            item, event, rid = json.loads(after)
            at_event = datetime.fromisoformat(event)
            # Spelled out rather than a row-value comparison, so each side gets its column's type (UTC datetimes).
            q = q.where(
                or_(
                    v.item_code > item,
                    and_(
                        v.item_code == item,
                        or_(v.event_time > at_event, and_(v.event_time == at_event, v.record_id > rid)),
                    ),
                )
            )
        q = q.order_by(v.item_code, v.event_time, v.record_id).limit(limit)
        out = []
        for row in self.s.execute(q):
            version = _version(row[0])
            out.append((_head(row), version))
        return out

    def disputes(self, record_ids: list[str]) -> dict[str, list[Dispute]]:
        out: dict[str, list[Dispute]] = defaultdict(list)
        for part in _chunks(record_ids):
            q = select(RecordDisputeRow).where(RecordDisputeRow.record_id.in_(part)).order_by(RecordDisputeRow.set_at)
            for r in self.s.scalars(q):
                out[r.record_id].append(
                    Dispute(r.record_id, r.objection, r.set_at, r.cleared_at, r.outcome, r.statement)
                )
        return out

    def add_dispute(self, dispute: Dispute) -> None:
        self.s.add(
            RecordDisputeRow(
                record_id=dispute.record_id,
                objection=dispute.objection,
                set_at=dispute.set_at,
                cleared_at=None,
                outcome="",
                statement="",
            )
        )
        self.s.flush()

    def lock_dispute(self, record_id: str, objection: str) -> None:
        if self._pg:
            self.s.execute(
                select(RecordDisputeRow.record_id)
                .where(RecordDisputeRow.record_id == record_id, RecordDisputeRow.objection == objection)
                .with_for_update()
            )

    def clear_dispute(self, record_id: str, objection: str, at: datetime, outcome: str, statement: str) -> None:
        self.s.execute(
            update(RecordDisputeRow)
            .where(RecordDisputeRow.record_id == record_id, RecordDisputeRow.objection == objection)
            .values(cleared_at=at, outcome=outcome, statement=statement)
            .execution_options(synchronize_session=False)
        )

    def set_statement(self, record_id: str, objection: str, statement: str) -> None:
        self.s.execute(
            update(RecordDisputeRow)
            .where(RecordDisputeRow.record_id == record_id, RecordDisputeRow.objection == objection)
            .values(statement=statement)
            .execution_options(synchronize_session=False)
        )

    def changes_after(self, revision: int, max_revisions: int) -> list[RecordChange]:
        e = RecordEventRow
        upper = self.s.scalar(
            select(func.max(e.revision)).where(
                e.revision.in_(
                    select(e.revision).where(e.revision > revision).distinct().order_by(e.revision).limit(max_revisions)
                )
            )
        )
        if upper is None:
            return []
        q = select(e).where(e.revision > revision, e.revision <= upper).order_by(e.revision, e.id)
        return [RecordChange(r.revision, r.record_id, r.item_code, ChangeType(r.type)) for r in self.s.scalars(q)]

    def delivery_figures(self, start: datetime, end: datetime) -> dict[tuple[str, str], DeliveryFigures]:
        v = RecordVersionRow
        first: dict[tuple[str, str], tuple[int, int]] = {}
        in_period = and_(v.received_at >= start, v.received_at < end, v.kind == ProvenanceKind.DEPARTMENT.value)
        q = (
            select(
                v.department,
                v.item_code,
                func.count(),
                func.sum(case((v.on_time.is_(True), 1), else_=0)),
            )
            .where(in_period, v.source_version == 1)
            .group_by(v.department, v.item_code)
        )
        for dept, item, count, on_time in self.s.execute(q):
            first[(dept, item)] = (int(count), int(on_time or 0))
        delivered = {
            (d, i): int(n)
            for d, i, n in self.s.execute(
                select(v.department, v.item_code, func.count()).where(in_period).group_by(v.department, v.item_code)
            )
        }
        last = {
            (d, i): t
            for d, i, t in self.s.execute(
                select(v.department, v.item_code, func.max(v.received_at))
                .where(v.kind == ProvenanceKind.DEPARTMENT.value)
                .group_by(v.department, v.item_code)
            )
        }
        r = IngestRefusalRow
        rejected: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
        duplicates: dict[tuple[str, str], int] = defaultdict(int)
        q2 = (
            select(r.department, r.item_code, r.outcome, r.reason, func.count())
            .where(r.received_at >= start, r.received_at < end)
            .group_by(r.department, r.item_code, r.outcome, r.reason)
        )
        for dept, item, outcome, reason, count in self.s.execute(q2):
            if outcome == "DUPLICATE":
                duplicates[(dept, item)] += int(count)
            else:
                rejected[(dept, item)][reason] = int(count)
        keys = set(first) | set(delivered) | set(last) | set(rejected) | set(duplicates)
        out = {}
        for key in keys:
            count, on_time = first.get(key, (0, 0))
            raw_last = last.get(key)
            out[key] = DeliveryFigures(
                first_deliveries=count,
                on_time=on_time,
                rejected_by_reason=rejected.get(key, {}),
                duplicates=duplicates.get(key, 0),
                delivered=delivered.get(key, 0),
                last_receive_time=_aware(raw_last),
            )
        return out

    def batch_result(self, request_id: str) -> tuple[str, str, str] | None:
        row = self.s.get(BatchResultRow, request_id)
        return (row.department, row.fingerprint, row.results) if row else None

    def add_batch_result(self, request_id: str, department: str, fingerprint: str, results: str, at: datetime) -> None:
        self.s.add(
            BatchResultRow(
                request_id=request_id, department=department, fingerprint=fingerprint, results=results, created_at=at
            )
        )


def _aware(value: datetime | None) -> datetime | None:
    # Aggregates bypass the column type on SQLite, so max() comes back as naive text-parsed UTC or as a string.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
