"""Supervision findings in the gateway's database: one per fingerprint (grown, never shrunk, by a later run), never
deleted, reported at most once."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.gateway.domain.supervision import Finding, Rule
from services.gateway.store.models import FindingRow
from services.kit.db import translate_db_errors


@dataclass(frozen=True)
class StoredFinding:
    id: int
    finding: Finding
    created_at: datetime
    reported_at: datetime | None

    @property
    def name(self) -> str:
        return f"findings/{self.id}"


def _stored(row: FindingRow) -> StoredFinding:
    finding = Finding(
        Rule(row.rule), row.platform, row.subject, row.day, row.count, row.detail, tuple(json.loads(row.leaves))
    )
    return StoredFinding(row.finding_id, finding, row.created_at, row.reported_at)


class SqlFindings:
    def __init__(self, writer: sessionmaker[Session], reader: sessionmaker[Session]) -> None:
        self._writer = writer
        self._reader = reader

    def keep(self, finding: Finding, now: datetime) -> StoredFinding:
        """The stored finding of this fingerprint, adding it first when new (a concurrent run may win the race), or
        grown to this run's count and leaves when it counts more: a day run while still in progress is run again."""
        with translate_db_errors():
            stored = self._by_fingerprint(finding.fingerprint) or self._adopted(finding)
            if stored is None:
                try:
                    with self._writer() as s:
                        s.add(
                            FindingRow(
                                fingerprint=finding.fingerprint,
                                rule=finding.rule.value,
                                platform=finding.platform[:80],
                                subject=finding.subject[:80],
                                day=finding.day,
                                count=finding.count,
                                detail=finding.detail[:500],
                                leaves=json.dumps(list(finding.leaves)),
                                created_at=now,
                            )
                        )
                        s.commit()
                except IntegrityError:
                    pass  # another replica's run stored it first: it may have counted less, so it is grown below
                stored = self._by_fingerprint(finding.fingerprint)
                assert stored is not None
            if finding.count > stored.finding.count:
                self._grow(finding)
                stored = self._by_fingerprint(finding.fingerprint)
                assert stored is not None
            return stored

    def _adopted(self, finding: Finding) -> StoredFinding | None:
        """A finding the previous release stored under its fingerprint (rule, subject, day), now under this one's.

        gateway_0006 moved the rows stored before it, but during a rolling upgrade the previous release's pods still
        run the rules after it and store findings under their fingerprint: read again here, each would be stored a
        second time (and could be reported twice). Only the row of this finding's platform is taken."""
        legacy = hashlib.sha256(f"{finding.rule}|{finding.subject}|{finding.day}".encode()).hexdigest()[:32]
        try:
            with self._writer() as s:
                s.execute(
                    update(FindingRow)
                    .where(FindingRow.fingerprint == legacy, FindingRow.platform == finding.platform[:80])
                    .where(FindingRow.rule == finding.rule.value, FindingRow.day == finding.day)
                    .values(fingerprint=finding.fingerprint)
                )
                s.commit()
        except IntegrityError:
            pass  # another replica's run stored or adopted this fingerprint first: read below
        return self._by_fingerprint(finding.fingerprint)

    def _grow(self, finding: Finding) -> None:
        # Only ever upwards: of two replicas' runs over one day, the one that saw more leaves wins whatever the order.
        with self._writer() as s:
            s.execute(
                update(FindingRow)
                .where(FindingRow.fingerprint == finding.fingerprint, FindingRow.count < finding.count)
                .values(count=finding.count, detail=finding.detail[:500], leaves=json.dumps(list(finding.leaves)))
            )
            s.commit()

    def _by_fingerprint(self, fingerprint: str) -> StoredFinding | None:
        with self._reader() as s:
            row = s.scalars(select(FindingRow).where(FindingRow.fingerprint == fingerprint)).first()
            return None if row is None else _stored(row)

    def get(self, finding_id: int) -> StoredFinding | None:
        with translate_db_errors(), self._reader() as s:
            row = s.get(FindingRow, finding_id)
            return None if row is None else _stored(row)

    def page(self, before: int | None, limit: int, platform: str = "", rule: Rule | None = None) -> list[StoredFinding]:
        """Newest first, ids below ``before``."""
        stmt = select(FindingRow).order_by(FindingRow.finding_id.desc()).limit(limit)
        if before is not None:
            stmt = stmt.where(FindingRow.finding_id < before)
        if platform:
            stmt = stmt.where(FindingRow.platform == platform)
        if rule is not None:
            stmt = stmt.where(FindingRow.rule == rule.value)
        with translate_db_errors(), self._reader() as s:
            return [_stored(row) for row in s.scalars(stmt)]

    def mark_reported(self, finding_id: int, now: datetime) -> StoredFinding:
        """Sets report time once; a later report keeps the first time."""
        with translate_db_errors(), self._writer() as s:
            s.execute(
                update(FindingRow)
                .where(FindingRow.finding_id == finding_id, FindingRow.reported_at.is_(None))
                .values(reported_at=now)
            )
            s.commit()
        stored = self.get(finding_id)
        assert stored is not None
        return stored
