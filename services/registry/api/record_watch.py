"""WatchRecordChanges: resumable by revision, whole revisions per batch, heartbeats, woken by CommitNotifier."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import grpc

from creditnode.registry.v1 import records_pb2 as pb
from creditnode.registry.v1 import sharing_list_pb2 as sl_pb
from services.kit.errors import FailedPrecondition
from services.kit.notify import CommitNotifier
from services.kit.protos import to_proto_enum
from services.kit.validation import invalid
from services.registry import record_usecases as uc
from services.registry.api import checks

MAX_REVISIONS_PER_BATCH = 50


def categories_named(categories: Iterable[int]) -> set[str]:
    """The category codes of a request's ItemCategory values; UNSPECIFIED or an unknown number is INVALID_ARGUMENT."""
    named = set()
    for c in categories:
        if c == sl_pb.ITEM_CATEGORY_UNSPECIFIED or c not in sl_pb.ItemCategory.values():
            raise invalid("categories", "holds a value that is not an item category")
        named.add(sl_pb.ItemCategory.Name(c).removeprefix("ITEM_CATEGORY_"))
    return named


class RecordWatch:
    """Serves one WatchRecordChanges call. Start from 0 means "from now": list first for a consistent start."""

    def __init__(
        self,
        reader: uc.UowFactory,
        cache: uc.CatalogueCache,
        notifier: CommitNotifier,
        *,
        poll_seconds: float = 0.2,
        heartbeat_seconds: float = 2.0,
    ) -> None:
        self.reader, self.cache, self.notifier = reader, cache, notifier
        self.poll_seconds, self.heartbeat_seconds = poll_seconds, heartbeat_seconds

    def __call__(
        self, request: pb.WatchRecordChangesRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.WatchRecordChangesResponse]:
        if request.start_revision < 0:
            raise invalid("start_revision", "must not be negative")
        items = set(checks.item_codes(request.item_codes))
        wanted = categories_named(request.categories) if request.categories else None
        with self.reader() as uow:
            current = uow.events.current_revision()
            catalogue = self.cache.get(uow)
        if request.start_revision > current:
            raise FailedPrecondition(
                "ERROR_REASON_WATCH_REVISION_COMPACTED",
                "start_revision is ahead of this registry; list again",
                {"current_revision": str(current)},
            )
        if wanted is not None:
            by_category = {i.code for v in catalogue.versions for i in v.sharing_list.items if i.category in wanted}
            items = items & by_category if items else by_category | {"\x00"}  # never empty: empty means all
        raw = request.view == pb.PERSONAL_DATA_VIEW_RAW
        revision = request.start_revision or current
        yield pb.WatchRecordChangesResponse(revision=revision)  # the watch is established from here
        seen = self.notifier.generation
        since_heartbeat = 0.0
        from services.registry.api.records import credit_record

        while context.is_active():
            out: list[pb.RecordChange] = []
            with self.reader() as uow:
                changes = uow.records.changes_after(revision, MAX_REVISIONS_PER_BATCH)
                if changes:
                    kept = [c for c in changes if not items or c.item_code in items]
                    views = uc.record_views(uow, self.cache, sorted({c.record_id for c in kept}))
                    for c in kept:
                        view = views.get(c.record_id)
                        if view is not None and (wanted is None or view.category in wanted):
                            out.append(
                                pb.RecordChange(
                                    revision=c.revision,
                                    type=to_proto_enum(pb.RecordChangeType, "RECORD_CHANGE_TYPE", c.type),
                                    record=credit_record(view, raw),
                                )
                            )
                    revision = changes[-1].revision
            if changes:
                yield pb.WatchRecordChangesResponse(changes=out, revision=revision)
                since_heartbeat = 0.0
                continue
            seen = self.notifier.wait(seen, self.poll_seconds)
            since_heartbeat += self.poll_seconds
            if since_heartbeat >= self.heartbeat_seconds:
                yield pb.WatchRecordChangesResponse(revision=revision)
                since_heartbeat = 0.0
