"""Record and sharing list use cases: chunked ingestion, parked records, reads, disputes and delivery figures."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.kit.errors import FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from services.kit.metrics import INGEST_LAG, INGEST_LATE
from services.registry.domain.ledger import (
    ChangeType,
    ChunkWrites,
    DeliveryFigures,
    Dispute,
    DisputeOutcome,
    ListEntry,
    ProvenanceKind,
    RecordChange,
    RecordHead,
    RecordState,
    Refusal,
    StoredVersion,
    page_key,
    record_id_of,
)
from services.registry.domain.ports import RegistryUnitOfWork
from services.registry.domain.records import (
    DEFAULT_FUTURE_TOLERANCE,
    IncomingRecord,
    Outcome,
    RecordRejected,
    StoredSource,
    ValidatedRecord,
    check_not_reinserted,
    classify_replay,
    content_fingerprint,
    validate_fields,
    validate_record,
)
from services.registry.domain.sharing_list import (
    ListVersion,
    SharingList,
    SharingListCatalogue,
    SharingListDiff,
    WorkingDays,
    check_in_force,
    check_successor,
    diff_sharing_lists,
    is_item_code,
    parse_sharing_list,
)
from services.registry.domain.uscc import validate_uscc

UowFactory = Callable[[], RegistryUnitOfWork]
MAX_BATCH = 1000

# A department sends many records per enterprise; the check digit is pure, so remember recent answers.
_validate_uscc = functools.lru_cache(maxsize=65_536)(validate_uscc)


@dataclass(frozen=True)
class Submitted:
    """One record with its position on the stream (or in the batch)."""

    sequence: int
    record: IncomingRecord
    # A problem found while decoding the wire message (e.g. no event time): answered like any other rejection.
    rejection: RecordRejected | None = None
    # When its message arrived, if before the chunk is stored (a stream): deadlines count from arrival.
    received_at: datetime | None = None


@dataclass(frozen=True)
class Result:
    """What ingestion did with one record."""

    sequence: int
    outcome: Outcome
    reason: str = ""
    message: str = ""
    field: str = ""
    record_name: str = ""
    on_time: bool = False
    due_time: datetime | None = None

    def to_json(self) -> dict[str, object]:
        out = {k: v for k, v in self.__dict__.items() if k != "due_time"}
        out["due_time"] = self.due_time.isoformat() if self.due_time else ""
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> Result:
        due = str(data["due_time"])
        return cls(
            sequence=int(str(data["sequence"])),
            outcome=Outcome(str(data["outcome"])),
            reason=str(data["reason"]),
            message=str(data["message"]),
            field=str(data["field"]),
            record_name=str(data["record_name"]),
            on_time=bool(data["on_time"]),
            due_time=datetime.fromisoformat(due) if due else None,
        )


@dataclass(frozen=True)
class ChunkOutcome:
    results: list[Result]
    position: int  # the stream's committed sequence after the chunk (0 for batches)
    changed: bool  # whether watchers have something new


# ------------------------------------------------------------------------------------------------ sharing list


def _catalogue(entries: Sequence[ListEntry]) -> SharingListCatalogue:
    versions = [
        ListVersion(parse_sharing_list(e.yaml_text), e.published_at, e.published_by, e.note, e.superseded_at)
        for e in entries
    ]
    return SharingListCatalogue(versions)


class CatalogueCache:
    """The published versions, parsed once per process and reloaded when another version appears."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._catalogue = SharingListCatalogue()
        self._entries: list[ListEntry] = []

    def get(self, uow: RegistryUnitOfWork) -> SharingListCatalogue:
        latest = uow.sharing_lists.latest_version()
        with self._lock:
            current = self._catalogue.current
            if (current.version if current else 0) != latest:
                self._entries = uow.sharing_lists.all()
                self._catalogue = _catalogue(self._entries)
                _count_lateness_of(self._catalogue)
            return self._catalogue

    def entries(self, uow: RegistryUnitOfWork) -> list[ListEntry]:
        self.get(uow)
        with self._lock:
            return list(self._entries)


def ensure_sharing_list(uow: RegistryUnitOfWork, sharing_list: SharingList, now: datetime) -> bool:
    """Publish ``sharing_list`` as version 1 when no version exists yet (start-up); False when one did."""
    try:
        with uow:
            if uow.sharing_lists.latest_version() != 0:
                return False
            uow.sharing_lists.add(
                ListEntry(
                    sharing_list.version,
                    sharing_list.to_yaml(),
                    sharing_list.digest,
                    now,
                    "registry-startup",
                    "initial sharing list from services/registry/data/sharing_list.yaml",
                )
            )
            uow.commit()
            return True
    except IntegrityError:
        return False  # another replica published it first


def publish_sharing_list(
    uow: RegistryUnitOfWork,
    cache: CatalogueCache,
    new: SharingList,
    *,
    by: str,
    note: str,
    now: datetime,
    validate_only: bool,
) -> tuple[ListEntry, SharingListDiff | None]:
    with uow:
        catalogue = cache.get(uow)
        current = catalogue.current
        check_successor(current.sharing_list if current else None, new)
        check_in_force(new, now)
        diff = diff_sharing_lists(current.sharing_list, new) if current else None
        entry = ListEntry(new.version, new.to_yaml(), new.digest, now, by, note)
        if validate_only:
            return entry, diff
        if current is not None:
            uow.sharing_lists.supersede(current.version, now)
        try:
            uow.sharing_lists.add(entry)
            uow.commit()
        except IntegrityError:
            raise FailedPrecondition(
                "ERROR_REASON_SHARING_LIST_VERSION_CONFLICT", "that version was published concurrently"
            ) from None
        return entry, diff


# -------------------------------------------------------------------------------------------------- ingestion


def check_department(uow: RegistryUnitOfWork, department: str) -> None:
    with uow:
        if not department or uow.departments.get(department) is None:
            # The header is the caller's, unchecked: it is not echoed (it may hold anything, personal data included).
            raise PermissionDenied("ERROR_REASON_PERMISSION_DENIED", "the caller is not a registered department")


def stream_position(uow: RegistryUnitOfWork, department: str, stream_id: str) -> int:
    with uow:
        return uow.records.stream_position(department, stream_id)


def ingest_chunk(  # noqa: PLR0912, PLR0915  (one pass over the chunk reads best as one function)
    uow: RegistryUnitOfWork,
    cache: CatalogueCache,
    *,
    department: str,
    items: Sequence[Submitted],
    batch: str,
    stream_id: str | None,
    now: datetime,
    calendar: WorkingDays,
    future_tolerance: timedelta = DEFAULT_FUTURE_TOLERANCE,
    answer: tuple[str, str] | None = None,
) -> ChunkOutcome:
    """Validate and store one chunk in one transaction; a bad record is answered and never stops the others.

    On a stream, records at or below the committed position are skipped (a resend after a crash), and the new
    position is committed with the records, so an acknowledged sequence is always durable and never applied twice.
    ``answer`` (a batch's request id and fingerprint) stores the results with the records, for the batch's retries.
    """
    with uow:
        position = 0
        if stream_id is not None:
            position = uow.records.stream_position(department, stream_id)
            items = [i for i in items if i.sequence > position]
        catalogue = cache.get(uow)
        results: dict[int, Result] = {}
        valid: list[tuple[int, ValidatedRecord, str]] = []  # (index, record, record id)
        writes = ChunkWrites()
        for index, item in enumerate(items):
            try:
                if item.rejection is not None:
                    raise item.rejection
                v = validate_record(
                    item.record,
                    catalogue,
                    received_at=item.received_at or now,
                    validate_uscc=_validate_uscc,
                    calendar=calendar,
                    future_tolerance=future_tolerance,
                )
                valid.append((index, v, record_id_of(v.key)))
            except RecordRejected as exc:
                results[index] = Result(item.sequence, Outcome.REJECTED, exc.reason, exc.message, exc.field)
                refused = _refused_item(item.record.item_code)
                writes.refusals.append(Refusal(department, refused, "REJECTED", exc.reason, now))
        heads = uow.records.heads_for_ingest(sorted({rid for _, _, rid in valid}))
        usccs = sorted({v.uscc for _, v, _ in valid})
        registered = uow.records.registered(usccs)
        if unregistered := [u for u in usccs if u not in registered]:
            # Parking races RegisterEnterprise (PostgreSQL, READ COMMITTED): a registration committing after the read
            # above cannot see this chunk's uncommitted PARKED rows, which would then stay parked forever. The lock
            # orders the two per USCC. Registration first: this waits for its commit, and the read below sees the
            # enterprise, so the records go in CURRENT. Chunk first: registration waits for this commit, and its
            # apply_parked then sees these PARKED rows. Only USCCs about to park pay for it.
            uow.records.lock_for_parking(unregistered)
            registered |= uow.records.registered(unregistered)
        superseded = uow.records.superseded(sorted({f for _, v, _ in valid for f in v.fingerprints}))
        new_ids: set[str] = set()
        updated: dict[str, RecordHead] = {}
        timeliness: list[ValidatedRecord] = []
        for index, v, rid in valid:
            seq = items[index].sequence
            head = heads.get(rid)
            try:
                check_not_reinserted(v, superseded)
                stored = (
                    StoredSource(head.latest_source_version, head.fingerprints_by_version, head.uscc) if head else None
                )
                outcome = classify_replay(v, stored)
            except RecordRejected as exc:
                results[index] = Result(seq, Outcome.REJECTED, exc.reason, exc.message, exc.field)
                writes.refusals.append(Refusal(department, v.item_code, "REJECTED", exc.reason, now))
                continue
            if outcome is Outcome.DUPLICATE:
                assert head is not None
                results[index] = Result(seq, Outcome.DUPLICATE, record_name=head.name)
                writes.refusals.append(Refusal(department, v.item_code, "DUPLICATE", "", now))
                continue
            state = RecordState.CURRENT if v.uscc in registered else RecordState.PARKED
            fingerprints = {**(head.fingerprints_by_version if head else {}), v.source_version: v.fingerprint}
            if head is None:
                head = RecordHead(rid, v.uscc, v.item_code, department, v.source_record_id, state, 1,
                                  v.source_version, now, now, fingerprints)  # fmt: skip
                new_ids.add(rid)
                change = ChangeType.CREATED
            else:
                writes.closed.append((rid, head.version, now))
                if rid not in new_ids:
                    writes.read_versions.setdefault(rid, head.version)
                head = replace(
                    head,
                    uscc=v.uscc,
                    state=state,
                    version=head.version + 1,
                    latest_source_version=max(head.latest_source_version, v.source_version),
                    updated_at=now,
                    fingerprints_by_version=fingerprints,
                )
                change = ChangeType.VERSION_ADDED if head.state is not RecordState.PARKED else ChangeType.CREATED
                if rid not in new_ids:
                    updated[rid] = head
            heads[rid] = head
            writes.versions.append(_version_of(v, head, batch, now))
            if state is RecordState.CURRENT:
                writes.changes.append(RecordChange(0, rid, v.item_code, change))
            if v.counts_for_timeliness:
                timeliness.append(v)
            results[index] = Result(
                seq,
                Outcome.ACCEPTED if state is RecordState.CURRENT else Outcome.PARKED,
                record_name=head.name,
                on_time=v.timeliness.on_time,
                due_time=v.timeliness.due_before,
            )
        writes.new_heads = [heads[rid] for rid in sorted(new_ids)]
        writes.updated_heads = list(updated.values())
        if writes.changes:
            revision = uow.events.next_revision()
            writes.changes = [replace(c, revision=revision) for c in writes.changes]
        uow.records.write(writes)
        if stream_id is not None and items:
            position = max(i.sequence for i in items)
            uow.records.set_stream_position(department, stream_id, position, now)
        ordered = [results[i] for i in range(len(items))]
        if answer is not None:
            text = json.dumps([r.to_json() for r in ordered])
            uow.records.add_batch_result(answer[0], department, answer[1], text, now)
        uow.commit()
    # Counted once committed: a chunk that fails and is sent again is counted once.
    for v in timeliness:
        _lag_of(v.department).observe(max(0.0, (now - v.event_time).total_seconds()))
        if not v.timeliness.on_time:
            _late_of(v.department, v.item_code).inc()  # what the "department late" alert watches
    return ChunkOutcome(ordered, position, bool(writes.changes))


def _refused_item(code: str) -> str:
    """The item a refusal counts against: the sender's code when shaped like one, else none. The figures show only
    the list's items, and any other text (a NUL, which PostgreSQL cannot store) would fail the whole chunk."""
    return code if is_item_code(code) else ""


# Metric children per label set, looked up once: labels() costs more than the observation. Bounded: only validated
# records reach them, so only the sharing list's departments and items.
@functools.cache
def _lag_of(department: str) -> Any:
    return INGEST_LAG.labels(department)


@functools.cache
def _late_of(department: str, item_code: str) -> Any:
    return INGEST_LATE.labels(department, item_code)


def _count_lateness_of(catalogue: SharingListCatalogue) -> None:
    """Export the late-records counter at 0 for every listed item: the "department late" alert reads its increase,
    and a series that first appears already counting (the first late batch of an item since the process started)
    shows none."""
    if catalogue.current is not None:
        for item in catalogue.current.sharing_list.items:
            _late_of(item.department, item.code)


def _version_of(v: ValidatedRecord, head: RecordHead, batch: str, now: datetime) -> StoredVersion:
    return StoredVersion(
        record_id=head.record_id,
        version=head.version,
        uscc=v.uscc,
        item_code=v.item_code,
        department=v.department,
        state=RecordState.CURRENT,
        kind=ProvenanceKind.DEPARTMENT,
        source_version=v.source_version,
        idempotency_key=v.key.digest,
        list_version=v.list_version,
        fingerprint=v.fingerprint,
        fields=v.fields,
        event_time=v.event_time,
        received_at=now,
        due_time=v.timeliness.due_before,
        on_time=v.timeliness.on_time,
        batch=batch[:160],
        objection="",
        valid_from=now,
    )


def ingest_batch(
    writer: UowFactory,
    cache: CatalogueCache,
    *,
    department: str,
    request_id: str,
    fingerprint: str,
    items: Sequence[Submitted],
    now: datetime,
    calendar: WorkingDays,
) -> tuple[list[Result], bool]:
    """IngestBatch: one transaction; a retry with the same request_id returns the first results unchanged."""
    if len(items) > MAX_BATCH:
        raise InvalidArgument(
            "ERROR_REASON_INVALID_FIELD", f"at most {MAX_BATCH} records per batch", {"field": "records"}
        )
    if request_id and (done := _batch_answer(writer, request_id, department, fingerprint)) is not None:
        return done, False
    try:
        # The answer commits with the records: stored after them, a crash in between left records without an
        # answer, and the retry was told its own records were duplicates (and counted them as such).
        outcome = ingest_chunk(
            writer(),
            cache,
            department=department,
            items=items,
            batch=f"batches/{request_id}",
            stream_id=None,
            now=now,
            calendar=calendar,
            answer=(request_id, fingerprint) if request_id else None,
        )
    except IntegrityError:
        # A concurrent try of this request committed first (its answer, or on PostgreSQL a record's head): this
        # chunk rolled back whole, and the first try's answer is this one's.
        if request_id and (done := _batch_answer(writer, request_id, department, fingerprint)) is not None:
            return done, False
        raise
    return outcome.results, outcome.changed


def _batch_answer(writer: UowFactory, request_id: str, department: str, fingerprint: str) -> list[Result] | None:
    """The results stored for this batch's first try; REQUEST_ID_REUSED when the id was used for another batch."""
    with writer() as uow:
        done = uow.records.batch_result(request_id)
    if done is None:
        return None
    if done[0] != department or done[1] != fingerprint:
        raise InvalidArgument(
            "ERROR_REASON_REQUEST_ID_REUSED",
            "request_id was already used for a different request",
            {"field": "request_id"},
        )
    return [Result.from_json(r) for r in json.loads(done[2])]


# ------------------------------------------------------------------------------------------------------ reads


@dataclass(frozen=True)
class RecordView:
    """A record as of a moment: head, the version in force, its disputes and the list entry it was validated under."""

    head: RecordHead
    version: StoredVersion
    disputes: list[Dispute]
    sharing_list: SharingList

    @property
    def category(self) -> str | None:
        """The item's category in the list version the record was validated under (a later version may move it)."""
        item = self.sharing_list.item(self.version.item_code)
        return item.category if item else None

    @property
    def open_disputes(self) -> list[Dispute]:
        return [d for d in self.disputes if d.cleared_at is None]

    @property
    def statements(self) -> list[str]:
        return [d.statement for d in self.disputes if d.statement]


def _views(
    uow: RegistryUnitOfWork, catalogue: SharingListCatalogue, rows: list[tuple[RecordHead, StoredVersion]]
) -> list[RecordView]:
    disputes = uow.records.disputes([h.record_id for h, _ in rows])
    return [
        RecordView(h, v, disputes.get(h.record_id, []), catalogue.get(v.list_version).sharing_list) for h, v in rows
    ]


def list_enterprise_records(
    uow: RegistryUnitOfWork,
    cache: CatalogueCache,
    *,
    uscc: str,
    item_codes: list[str] | None,
    as_of: datetime | None,
    include_removed: bool,
    after: str | None,
    limit: int,
    categories: set[str] | None = None,
) -> tuple[list[RecordView], int, str | None]:
    """(records, revision, last key or None); removed records are skipped unless asked for. With ``categories``,
    only records whose own list version puts their item in one of them (``item_codes`` should already narrow the
    read to items in one of them under some version)."""
    with uow:
        revision = uow.events.current_revision()
        catalogue = cache.get(uow)
        views: list[RecordView] = []
        last: str | None = None
        while len(views) < limit:
            rows = uow.records.enterprise_versions(
                uscc, item_codes=item_codes, at=as_of, after=last or after, limit=limit
            )
            if not rows:
                break
            last = page_key(*rows[-1])
            kept = [(h, v) for h, v in rows if include_removed or v.state is not RecordState.REMOVED]
            views += [w for w in _views(uow, catalogue, kept) if categories is None or w.category in categories]
            if len(rows) < limit:
                last = None
                break
        if len(views) > limit:
            views = views[:limit]
            last = page_key(views[-1].head, views[-1].version)
        return views, revision, last


def get_record(
    uow: RegistryUnitOfWork, cache: CatalogueCache, record_id: str, uscc: str
) -> tuple[RecordView, list[tuple[StoredVersion, SharingList]]]:
    """The record and its versions, oldest first, each with the list version it was validated under (its masks:
    an older version is masked as its own list says, not as the current version's does)."""
    with uow:
        catalogue = cache.get(uow)
        view, versions = _get(uow, catalogue, record_id, uscc)
        return view, [(v, catalogue.get(v.list_version).sharing_list) for v in versions]


def _get(
    uow: RegistryUnitOfWork, catalogue: SharingListCatalogue, record_id: str, uscc: str | None = None
) -> tuple[RecordView, list[StoredVersion]]:
    """The record, NOT_FOUND when parked or (given ``uscc``, from its name) not the enterprise's: a record has one
    name, so another spelling of it never finds it (objections key their disputes by the name)."""
    head = uow.records.head(record_id)
    if head is None or head.state is RecordState.PARKED or (uscc is not None and head.uscc != uscc):
        raise NotFound("ERROR_REASON_RECORD_NOT_FOUND", "no such record")
    versions = uow.records.versions(record_id)
    return _views(uow, catalogue, [(head, versions[-1])])[0], versions


def record_views(uow: RegistryUnitOfWork, cache: CatalogueCache, record_ids: list[str]) -> dict[str, RecordView]:
    """Current views of several records (the watch), skipping any that are gone or parked."""
    catalogue = cache.get(uow)
    current = uow.records.current_versions(record_ids)
    rows = []
    for rid in record_ids:
        head = uow.records.head(rid)
        if head is not None and rid in current and head.state is not RecordState.PARKED:
            rows.append((head, current[rid]))
    return {v.head.record_id: v for v in _views(uow, catalogue, rows)}


def set_dispute(
    uow: RegistryUnitOfWork,
    cache: CatalogueCache,
    *,
    record_id: str,
    uscc: str,
    objection: str,
    now: datetime,
) -> RecordView:
    """Flag a record for an objection; setting the same objection's flag again changes nothing."""
    with uow:
        catalogue = cache.get(uow)
        view, _ = _get(uow, catalogue, record_id, uscc)
        if any(d.objection == objection for d in view.disputes):
            return view
        uow.records.add_dispute(Dispute(record_id, objection, now))
        revision = uow.events.next_revision()
        uow.records.add_changes([RecordChange(revision, record_id, view.head.item_code, ChangeType.DISPUTE_SET)])
        uow.commit()
        return _get(uow, catalogue, record_id)[0]


def attach_statement(
    uow: RegistryUnitOfWork,
    cache: CatalogueCache,
    *,
    record_id: str,
    uscc: str,
    objection: str,
    statement: str,
) -> RecordView:
    """Show the enterprise's statement with a record whose objection ended UPHELD or UNVERIFIABLE."""
    with uow:
        # Locked before it is read, as clear_dispute does: a second delivery of the statement waits for the first's
        # commit and answers as its retry, rather than setting it again with a second change for the watches.
        uow.records.lock_dispute(record_id, objection)
        catalogue = cache.get(uow)
        view, _ = _get(uow, catalogue, record_id, uscc)
        dispute = next((d for d in view.disputes if d.objection == objection), None)
        if dispute is None:
            raise NotFound("ERROR_REASON_DISPUTE_NOT_FOUND", "that objection has no flag on the record")
        if dispute.cleared_at is None or dispute.outcome not in (
            DisputeOutcome.UPHELD.value,
            DisputeOutcome.UNVERIFIABLE.value,
        ):
            raise FailedPrecondition(
                "ERROR_REASON_ILLEGAL_TRANSITION",
                "a statement is attached once the objection ended upheld or unverifiable",
                {"from": dispute.outcome or "OPEN", "to": "STATEMENT_ATTACHED"},
            )
        if dispute.statement == statement:
            return view  # a retry
        uow.records.set_statement(record_id, objection, statement)
        revision = uow.events.next_revision()
        uow.records.add_changes([RecordChange(revision, record_id, view.head.item_code, ChangeType.DISPUTE_CLEARED)])
        uow.commit()
        return _get(uow, catalogue, record_id)[0]


def clear_dispute(
    uow: RegistryUnitOfWork,
    cache: CatalogueCache,
    *,
    record_id: str,
    uscc: str,
    objection: str,
    outcome: DisputeOutcome,
    corrected_fields: Mapping[str, object],
    statement: str,
    now: datetime,
    disputed_version: int = 0,
) -> RecordView:
    """End an objection's flag. CORRECTED and REMOVED bar the disputed content from coming back; they add a version
    unless the department already delivered the correction (CORRECTED with no fields: the current version is newer)."""
    with uow:
        # The flag is locked before it is read (PostgreSQL): a second delivery of this outcome (the outbox delivers at
        # least once, from any objection replica) waits for the first's commit, then reads the flag cleared and
        # answers as its retry. Read unlocked, both cleared it, each with its own time and DISPUTE_CLEARED change.
        uow.records.lock_dispute(record_id, objection)
        catalogue = cache.get(uow)
        view, versions = _get(uow, catalogue, record_id, uscc)
        dispute = next((d for d in view.disputes if d.objection == objection), None)
        if dispute is None:
            raise NotFound("ERROR_REASON_DISPUTE_NOT_FOUND", "that objection has no flag on the record")
        if dispute.cleared_at is not None:
            _check_same_clearing(catalogue, versions, dispute, outcome, corrected_fields)
            return view  # a retry of the same clearing
        revision = uow.events.next_revision()
        changes = []
        old = view.version
        disputed = next((v for v in versions if v.version == (disputed_version or old.version)), None)
        if disputed is None:
            raise InvalidArgument(
                "ERROR_REASON_INVALID_FIELD",
                "disputed_version is not a version of this record",
                {"field": "disputed_version"},
            )
        already_corrected = outcome is DisputeOutcome.CORRECTED and not corrected_fields
        if already_corrected:
            if old.version <= disputed.version:
                raise FailedPrecondition(
                    "ERROR_REASON_CORRECTION_NOT_DELIVERED",
                    "no corrected version was delivered after the disputed one; send corrected_fields or ingest it",
                )
            uow.records.add_superseded(disputed.fingerprint, record_id, now)
        elif outcome in (DisputeOutcome.CORRECTED, DisputeOutcome.REMOVED):
            item = view.sharing_list.item(old.item_code)
            assert item is not None
            fields = old.fields
            state = RecordState.CURRENT
            if outcome is DisputeOutcome.CORRECTED:
                try:
                    fields = validate_fields(item, corrected_fields)
                except RecordRejected as exc:
                    raise InvalidArgument(exc.reason, exc.message, {"field": f"corrected_fields.{exc.field}"}) from None
            else:
                state = RecordState.REMOVED
            new = replace(
                old,
                version=old.version + 1,
                state=state,
                kind=ProvenanceKind.OBJECTION_CORRECTION,
                source_version=0,
                idempotency_key=None,
                fingerprint=content_fingerprint(old.department, old.item_code, old.uscc, fields),
                fields=fields,
                received_at=now,
                batch=objection,
                objection=objection,
                valid_from=now,
                valid_to=None,
            )
            head = replace(view.head, state=state, version=new.version, updated_at=now)
            uow.records.write(
                ChunkWrites(
                    updated_heads=[head],
                    read_versions={record_id: view.head.version},
                    versions=[new],
                    closed=[(record_id, old.version, now)],
                )
            )
            uow.records.add_superseded(disputed.fingerprint, record_id, now)
            kind = ChangeType.REMOVED if state is RecordState.REMOVED else ChangeType.VERSION_ADDED
            changes.append(RecordChange(revision, record_id, old.item_code, kind))
        uow.records.clear_dispute(
            record_id, objection, now, outcome.value, statement if outcome is DisputeOutcome.UNVERIFIABLE else ""
        )
        changes.append(RecordChange(revision, record_id, old.item_code, ChangeType.DISPUTE_CLEARED))
        uow.records.add_changes(changes)
        uow.commit()
        return _get(uow, catalogue, record_id)[0]


def _check_same_clearing(
    catalogue: SharingListCatalogue,
    versions: list[StoredVersion],
    dispute: Dispute,
    outcome: DisputeOutcome,
    corrected_fields: Mapping[str, object],
) -> None:
    """A second ClearRecordDispute for an ended flag is a retry only if it asks for what was done: another outcome,
    or corrected fields other than the correction this objection made, would otherwise be answered OK and never
    happen (the objection service would record an outcome the registry does not hold)."""
    if outcome.value != dispute.outcome:
        raise FailedPrecondition(
            "ERROR_REASON_ILLEGAL_TRANSITION",
            "the objection's flag was already cleared with another outcome",
            {"from": dispute.outcome, "to": outcome.value},
        )
    if outcome is not DisputeOutcome.CORRECTED or not corrected_fields:
        return
    made = next(
        (v for v in versions if v.objection == dispute.objection and v.kind is ProvenanceKind.OBJECTION_CORRECTION),
        None,
    )
    same = False
    if made is not None:
        item = catalogue.get(made.list_version).sharing_list.item(made.item_code)
        try:
            fields = validate_fields(item, corrected_fields) if item is not None else None
        except RecordRejected:
            fields = None
        same = fields is not None and (
            content_fingerprint(made.department, made.item_code, made.uscc, fields) == made.fingerprint
        )
    if not same:
        raise FailedPrecondition(
            "ERROR_REASON_ILLEGAL_TRANSITION",
            "the objection's flag was already cleared with another correction",
            {"from": dispute.outcome, "to": outcome.value, "field": "corrected_fields"},
        )


@dataclass(frozen=True)
class ItemTimeliness:
    department: str
    item_code: str
    figures: DeliveryFigures

    @property
    def late(self) -> int:
        return self.figures.first_deliveries - self.figures.on_time

    @property
    def on_time_share(self) -> float:
        f = self.figures
        return f.on_time / f.first_deliveries if f.first_deliveries else 0.0

    @property
    def no_data(self) -> bool:
        return self.figures.delivered == 0 and self.figures.duplicates == 0


SCHEMA_REASONS = frozenset(
    {
        "ERROR_REASON_FIELD_REQUIRED",
        "ERROR_REASON_FIELD_UNKNOWN",
        "ERROR_REASON_FIELD_WRONG_TYPE",
        "ERROR_REASON_FIELD_TOO_LONG",
        "ERROR_REASON_FIELD_OUT_OF_RANGE",
        "ERROR_REASON_FIELD_TOO_PRECISE",
        "ERROR_REASON_FIELD_NOT_IN_ENUM",
        "ERROR_REASON_FIELD_MALFORMED",
        "ERROR_REASON_RECORD_TOO_LARGE",
    }
)


def timeliness(
    uow: RegistryUnitOfWork,
    cache: CatalogueCache,
    *,
    departments: set[str],
    item_codes: set[str],
    start: datetime | None,
    end: datetime | None,
    now: datetime,
) -> tuple[list[ItemTimeliness], datetime, datetime]:
    """One row per (department, item) of the current list that the filters keep, over [start, end)."""
    end = end or now
    start = start or end - timedelta(days=30)
    with uow:
        catalogue = cache.get(uow)
        figures = uow.records.delivery_figures(start.astimezone(UTC), end.astimezone(UTC))
    current = catalogue.current
    rows = []
    for item in current.sharing_list.items if current else ():
        if departments and item.department not in departments:
            continue
        if item_codes and item.code not in item_codes:
            continue
        rows.append(
            ItemTimeliness(item.department, item.code, figures.get((item.department, item.code), DeliveryFigures()))
        )
    rows.sort(key=lambda r: (r.department, r.item_code))
    return rows, start, end
