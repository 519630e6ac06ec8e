"""WatchParticipants says when a resumed watcher has caught up: a heartbeat right after the batch that ends the
backlog, so a gateway that fell behind knows when its view is current again (without waiting for an idle spell)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine

from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from services.kit.db import session_factories
from services.kit.notify import CommitNotifier
from services.registry.api.watch import MAX_REVISIONS_PER_BATCH, ParticipantWatch
from services.registry.domain.participants import DepartmentKind
from services.registry.store.repositories import SqlRegistryUnitOfWork
from services.registry.usecases import Idempotency, create_department


class _Context:
    """Active until the test has read what it needs, or for a bounded number of polls (so the stream ends, rather
    than polling for ever, should the caught-up heartbeat never come)."""

    def __init__(self, polls: int = 50) -> None:
        self.active = True
        self.polls = polls

    def is_active(self) -> bool:
        self.polls -= 1
        return self.active and self.polls >= 0


@pytest.mark.parametrize("backlog", [MAX_REVISIONS_PER_BATCH + 30, 3])
def test_a_resumed_watch_hears_it_is_caught_up_right_after_the_backlog(engine: Engine, backlog: int) -> None:
    writer, reader = session_factories(engine)
    now = datetime.now(UTC)
    for n in range(backlog + 1):
        create_department(
            SqlRegistryUnitOfWork(writer),
            code=f"D{n:04d}",
            display_name="部门",
            kind=DepartmentKind.GOVERNMENT,
            idem=Idempotency(),
            now=now,
        )
    with SqlRegistryUnitOfWork(reader) as uow:
        revision = uow.events.current_revision()
    start = revision - backlog
    # No idle spell ever lasts long enough for a timed heartbeat here: only the caught-up one can come.
    watch = ParticipantWatch(
        lambda: SqlRegistryUnitOfWork(reader),
        CommitNotifier(),
        lambda: datetime.now(UTC),
        poll_seconds=0.01,
        heartbeat_seconds=3600,
    )
    context = _Context()
    stream = watch(rs_pb.WatchParticipantsRequest(start_revision=start), context)  # type: ignore[arg-type]
    seen: list[tuple[int, int]] = []  # (events, revision)
    for response in stream:
        seen.append((len(response.events), response.revision))
        if not response.events:
            break
    context.active = False
    assert seen[-1] == (0, revision)  # "nothing new up to here", at the last revision
    assert sum(n for n, _ in seen) == backlog  # every event of the backlog came before it
    assert all(n for n, _ in seen[:-1])  # and no earlier "caught up" while the backlog was not through
