"""The evidence log's storage: batched appends in one transaction, proofs from stored subtree hashes, heads, leaves.

Appends lock the single ``evidence_state`` row (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite writers already take
the database lock with ``BEGIN IMMEDIATE``), so several replicas of a service append to one log in turn. The
right edge of the tree (the "frontier", O(log n) hashes) is cached between appends and trusted only while it
still matches the size and root in the state row; otherwise it is reloaded from ``evidence_nodes``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Engine, Table, and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.kit import merkle
from services.kit.db import DriverStatement, session_factories, translate_db_errors
from services.kit.errors import FailedPrecondition, InvalidArgument, NotFound
from services.kit.evidence.entries import SUBJECT_KEY, Entry, LeafKind, canonical_json, leaf_subject
from services.kit.evidence.heads import NodeKey, SignedTreeHead, check_origin, from_ms
from services.kit.evidence.schema import STATE_ROW_ID, EvidenceModels, LeafColumns, TreeHeadColumns

# Subtree hashes fetched per query; a proof in a tree of up to 2**32 leaves needs at most 64.
_SLOTS = 64


def _table(model: type) -> Table:
    return cast(Table, model.__table__)  # type: ignore[attr-defined]


class EvidenceCorrupted(RuntimeError):
    """Stored hashes disagree with each other; the log must be audited (``audit.verify_log``) before more signing."""


class KeyRetired(RuntimeError):
    """The key asked to sign, or to be made active, was retired (another replica activated a newer one): a head it
    signed now would be one signed by a rotated-out key after its retirement, what the audit reports as a leaked key
    in use."""


@dataclass(frozen=True)
class StoredLeaf:
    """A leaf as stored: the entry text is exactly what its hash covers."""

    index: int
    kind: LeafKind
    created_at: datetime
    entry_json: str
    leaf_hash: bytes

    @property
    def entry(self) -> Entry:
        return Entry.from_json(self.entry_json)

    @property
    def payload_json(self) -> str:
        return canonical_json(self.entry.payload)


@dataclass(frozen=True)
class LeafFilter:
    """Which leaves a listing keeps: one kind (or all), created in [start, end), with these top-level payload values."""

    kind: LeafKind | None = None
    start: datetime | None = None
    end: datetime | None = None
    payload: tuple[tuple[str, str], ...] = ()

    def keeps(self, leaf: StoredLeaf) -> bool:
        """The exact kind and payload check (the SQL pattern can also match a nested object)."""
        if self.kind is not None and leaf.kind != self.kind:
            return False
        if not self.payload:
            return True
        payload = json.loads(leaf.entry_json)["payload"]
        return all(payload.get(k) == v for k, v in self.payload)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@dataclass(frozen=True)
class PublicKeyRecord:
    """A key that signs or signed heads of this log."""

    key_id: str
    public_key: bytes
    added_at: datetime
    retired_at: datetime | None


def _leaf(row: LeafColumns) -> StoredLeaf:
    return StoredLeaf(row.leaf_index, LeafKind(row.kind), row.created_at, row.entry, bytes(row.leaf_hash))


def head_from_row(row: TreeHeadColumns, origin: str) -> SignedTreeHead:
    return SignedTreeHead(
        origin, row.tree_size, bytes(row.root_hash), row.timestamp_ms, row.key_id, bytes(row.signature)
    )


def _out_of_range(message: str, field: str, tree_size: int) -> InvalidArgument:
    return InvalidArgument(
        "ERROR_REASON_EVIDENCE_TREE_SIZE_OUT_OF_RANGE", message, {"field": field, "tree_size": str(tree_size)}
    )


class EvidenceStore:
    """All database access of one evidence log; every method opens its own short transaction unless given one."""

    def __init__(self, engine: Engine, models: EvidenceModels, origin: str) -> None:
        self.models = models
        self.origin = check_origin(origin)
        self.writer: sessionmaker[Session]
        self.reader: sessionmaker[Session]
        self.writer, self.reader = session_factories(engine)
        self._lock = threading.Lock()
        # The right edge after the last append, with its root (computed once, for the state row, and compared here).
        self._frontier: tuple[merkle.Frontier, bytes] | None = None
        # Built once: composing SQL expressions per proof cost more than running them.
        lf, nd = models.leaf, models.node
        self._leaf_hashes = select(lf.leaf_index, lf.leaf_hash).where(
            lf.leaf_index.in_(bindparam("indices", expanding=True))
        )
        # An OR of (level, index) pairs, not a row-value IN, which SQLite answers with a full scan.
        self._node_hashes = select(nd.level, nd.node_index, nd.hash).where(
            or_(*(and_(nd.level == bindparam(f"l{i}"), nd.node_index == bindparam(f"i{i}")) for i in range(_SLOTS)))
        )
        # The append statements, compiled once and run on the driver: a batch of the log's writer then costs four
        # driver executions and none of SQLAlchemy's per-execution work, which cost more than the writes themselves.
        st, dialect = _table(models.state), engine.dialect
        self._lock_state = DriverStatement(
            select(st.c.tree_size, st.c.root_hash).where(st.c.id == STATE_ROW_ID).with_for_update(), dialect
        )
        leaf_keys = ["leaf_index", "kind", "created_at", "entry", "leaf_hash", "subject"]
        self._insert_leaves = DriverStatement(insert(_table(models.leaf)), dialect, leaf_keys)
        self._insert_nodes = DriverStatement(insert(_table(models.node)), dialect, ["level", "node_index", "hash"])
        self._update_state = DriverStatement(
            update(st)
            .where(st.c.id == STATE_ROW_ID)
            .values(tree_size=bindparam("new_size"), root_hash=bindparam("new_root")),
            dialect,
        )

    # ---- set-up -------------------------------------------------------------------------------------------------

    def open(self) -> None:
        """Create the state row on first use; refuse a database that holds another origin's log."""
        m = self.models
        with translate_db_errors(), self.writer() as s:
            state = s.get(m.state, STATE_ROW_ID)
            if state is None:
                row = {"id": STATE_ROW_ID, "origin": self.origin, "tree_size": 0, "root_hash": merkle.EMPTY_ROOT}
                try:
                    s.execute(insert(m.state).values(row))
                    s.commit()
                except IntegrityError:  # another replica created it first
                    s.rollback()
                state = s.get(m.state, STATE_ROW_ID)
            assert state is not None
            if state.origin != self.origin:
                raise FailedPrecondition(
                    "ERROR_REASON_EVIDENCE_ORIGIN_MISMATCH",
                    "this database holds the evidence log of another origin",
                    {"origin": state.origin},
                )

    def activate_key(self, session: Session, key: NodeKey, now: datetime) -> list[str]:
        """Make ``key`` the active signing key; returns the key ids it retired (empty if it was already active).
        KeyRetired for a key once retired: a rotated-out key is never used again."""
        m = self.models
        row = session.get(m.key, key.key_id)
        if row is None:
            session.execute(
                insert(m.key).values(key_id=key.key_id, public_key=key.public_bytes, added_at=now, retired_at=None)
            )
        elif bytes(row.public_key) != key.public_bytes:
            raise EvidenceCorrupted(f"key id {key.key_id} is stored with another public key")
        elif row.retired_at is not None:
            # Never made active again: clearing retired_at would erase the retirement the audit checks heads
            # against (a leaked key's heads would pass from then on) and retire the newer key.
            raise KeyRetired(f"key {key.key_id} was retired at {row.retired_at.isoformat()}; use the current key")
        active = session.scalars(select(m.key.key_id).where(m.key.retired_at.is_(None), m.key.key_id != key.key_id))
        retired = sorted(active)
        if retired:
            # The update first: it waits for a head being signed with one of these keys (``publish_head`` holds its
            # key row), so the heads read next include every head they will ever sign.
            session.execute(update(m.key).where(m.key.key_id.in_(retired)).values(retired_at=now))
            th = m.tree_head
            latest = session.execute(
                select(th.key_id, func.max(th.timestamp_ms)).where(th.key_id.in_(retired)).group_by(th.key_id)
            ).all()
            # A head signed before this retirement may carry a later time than ``now`` (the signer's clock runs a
            # little ahead, or it signed while this replica waited for the log): retire the key no earlier than
            # it, or the audit reports that honest head as signed after the retirement.
            for key_id, timestamp_ms in latest:
                signed_at = from_ms(timestamp_ms)
                if signed_at > now:
                    session.execute(update(m.key).where(m.key.key_id == key_id).values(retired_at=signed_at))
        session.flush()
        return retired

    # ---- appends ------------------------------------------------------------------------------------------------

    def append_in(
        self, session: Session | Connection, items: Sequence[tuple[LeafKind, dict[str, Any]]], now: datetime
    ) -> list[StoredLeaf]:
        """Append leaves inside the transaction of ``session`` (a writer session or connection); durable when the
        caller commits. Payloads must already have passed ``entries.check_payload``. All leaves share ``now``."""
        conn = session.connection() if isinstance(session, Session) else session
        ((size, root),) = self._lock_state.execute(conn)
        frontier = self._frontier_for(conn, size, bytes(root))
        leaf_rows: list[dict[str, Any]] = []
        node_rows: list[dict[str, Any]] = []
        out: list[StoredLeaf] = []
        for kind, payload in items:
            text = Entry(kind, now, payload).to_json()
            leaf = merkle.leaf_hash(text.encode())
            index = frontier.size
            for level, node_index, node in frontier.push(leaf):
                node_rows.append({"level": level, "node_index": node_index, "hash": node})
            leaf_rows.append(
                {
                    "leaf_index": index,
                    "kind": kind.value,
                    "created_at": now,
                    "entry": text,
                    "leaf_hash": leaf,
                    "subject": leaf_subject(payload),
                }
            )
            out.append(StoredLeaf(index, kind, now, text, leaf))
        if leaf_rows:
            self._insert_leaves.execute(conn, leaf_rows)
        if node_rows:
            self._insert_nodes.execute(conn, node_rows)
        new_root = frontier.root()
        self._update_state.execute(conn, [{"new_size": frontier.size, "new_root": new_root}])
        with self._lock:  # trusted next time only if the state row (committed or not) still agrees
            self._frontier = (frontier, new_root)
        return out

    def _frontier_for(self, session: Session | Connection, size: int, root: bytes) -> merkle.Frontier:
        """The right edge of the tree the state row describes (its tree_size and root_hash)."""
        with self._lock:
            cached = self._frontier
        if cached is not None and cached[0].size == size and cached[1] == root:
            return merkle.Frontier(size, cached[0].levels)
        nodes = merkle.frontier_nodes(size)
        found = self.read_nodes(session, nodes)
        frontier = merkle.Frontier(size, {level: found[(level, index)] for level, index in nodes})
        if frontier.root() != root:
            raise EvidenceCorrupted("the stored right edge of the tree does not lead to the stored root")
        return frontier

    # ---- tree heads ---------------------------------------------------------------------------------------------

    def publish_head(self, key: NodeKey, timestamp_ms: int) -> SignedTreeHead:
        """Sign and store a head for the current tree; the root is recomputed from stored subtrees before signing."""
        m = self.models
        with translate_db_errors(), self.writer() as s:
            state = s.get(m.state, STATE_ROW_ID)
            if state is None:
                raise FailedPrecondition("ERROR_REASON_EVIDENCE_ORIGIN_MISMATCH", "the evidence log was not opened")
            root = merkle.root_at(state.tree_size, lambda nodes: self.read_nodes(s, nodes))
            if root != bytes(state.root_hash):
                raise EvidenceCorrupted("the stored subtrees do not lead to the stored root; refusing to sign")
            # In the signing transaction, holding the key row (FOR SHARE on PostgreSQL; SQLite writers take turns): a
            # replica that activates a newer key commits either before this (and the head is refused) or after, once
            # this head is stored (and retires the key no earlier than this head's time, see ``activate_key``).
            stored = s.get(m.key, key.key_id, with_for_update={"read": True})
            if stored is None or stored.retired_at is not None:
                raise KeyRetired(f"key {key.key_id} is not this log's active key")
            head = SignedTreeHead.sign(key, self.origin, state.tree_size, root, timestamp_ms)
            s.execute(
                insert(m.tree_head).values(
                    tree_size=head.tree_size,
                    root_hash=head.root_hash,
                    timestamp_ms=head.timestamp_ms,
                    key_id=head.key_id,
                    signature=head.signature,
                )
            )
            s.commit()
        return head

    def latest_head(self) -> SignedTreeHead | None:
        """The head of the largest tree (the most recent of those), if any was signed."""
        th = self.models.tree_head
        with translate_db_errors(), self.reader() as s:
            row = s.scalars(select(th).order_by(th.tree_size.desc(), th.id.desc()).limit(1)).first()
            return None if row is None else head_from_row(row, self.origin)

    def head_of_size(self, tree_size: int) -> SignedTreeHead | None:
        th = self.models.tree_head
        with translate_db_errors(), self.reader() as s:
            stmt = select(th).where(th.tree_size == tree_size).order_by(th.id.desc()).limit(1)
            row = s.scalars(stmt).first()
            return None if row is None else head_from_row(row, self.origin)

    def public_keys(self) -> list[PublicKeyRecord]:
        k = self.models.key
        with translate_db_errors(), self.reader() as s:
            rows = s.scalars(select(k).order_by(k.added_at, k.key_id)).all()
            return [PublicKeyRecord(r.key_id, bytes(r.public_key), r.added_at, r.retired_at) for r in rows]

    # ---- reads and proofs ---------------------------------------------------------------------------------------

    def tree_size(self) -> int:
        with translate_db_errors(), self.reader() as s:
            return int(s.execute(select(self.models.state.tree_size)).scalar_one())

    def read_nodes(self, session: Session | Connection, nodes: Sequence[merkle.Node]) -> dict[merkle.Node, bytes]:
        """Hashes of perfect subtrees: level 0 from leaves, the rest from nodes (two queries for any real tree)."""
        found: dict[merkle.Node, bytes] = {}
        leaves = [index for level, index in nodes if level == 0]
        inner = [(level, index) for level, index in nodes if level > 0]
        if leaves:
            rows = session.execute(self._leaf_hashes, {"indices": leaves})
            found.update({(0, index): bytes(h) for index, h in rows})
        for start in range(0, len(inner), _SLOTS):
            part = inner[start : start + _SLOTS]
            params: dict[str, int] = {}
            for i in range(_SLOTS):  # unused slots ask for (-1, -1), which never exists
                level, index = part[i] if i < len(part) else (-1, -1)
                params[f"l{i}"], params[f"i{i}"] = level, index
            found.update({(level, index): bytes(h) for level, index, h in session.execute(self._node_hashes, params)})
        if len(found) != len(set(nodes)):
            raise EvidenceCorrupted(f"{len(set(nodes)) - len(found)} stored subtree hashes are missing")
        return found

    def leaf(self, index: int) -> StoredLeaf:
        with translate_db_errors(), self.reader() as s:
            row = s.get(self.models.leaf, index)
            if row is None:
                raise NotFound(
                    "ERROR_REASON_EVIDENCE_LEAF_NOT_FOUND", "no leaf has that index", {"leaf_index": str(index)}
                )
            return _leaf(row)

    def inclusion_proof(self, index: int, tree_size: int) -> list[bytes]:
        """The audit path of leaf ``index`` in the tree of ``tree_size`` leaves (O(log n) reads)."""
        with translate_db_errors(), self.reader() as s:
            size = int(s.execute(select(self.models.state.tree_size)).scalar_one())
            if index >= size:
                raise NotFound(
                    "ERROR_REASON_EVIDENCE_LEAF_NOT_FOUND",
                    "no leaf has that index",
                    {"leaf_index": str(index), "tree_size": str(size)},
                )
            if tree_size > size:
                raise _out_of_range(f"the log has only {size} leaves", "tree_size", tree_size)
            if index >= tree_size:
                raise _out_of_range("the tree of that size does not contain the leaf", "tree_size", tree_size)
            return merkle.inclusion_proof(index, tree_size, lambda nodes: self.read_nodes(s, nodes))

    def consistency_proof(self, first: int, second: int) -> list[bytes]:
        """The proof that the tree of ``first`` leaves is a prefix of the tree of ``second`` leaves."""
        with translate_db_errors(), self.reader() as s:
            size = int(s.execute(select(self.models.state.tree_size)).scalar_one())
            if first < 1:
                raise _out_of_range("from_tree_size must be at least 1", "from_tree_size", first)
            if second > size:
                raise _out_of_range(f"the log has only {size} leaves", "to_tree_size", second)
            if first > second:
                raise _out_of_range("from_tree_size is larger than to_tree_size", "from_tree_size", first)
            return merkle.consistency_proof(first, second, lambda nodes: self.read_nodes(s, nodes))

    def root_at(self, tree_size: int) -> bytes:
        with translate_db_errors(), self.reader() as s:
            return merkle.root_at(tree_size, lambda nodes: self.read_nodes(s, nodes))

    def list_leaves(self, where: LeafFilter, after: int | None, limit: int) -> list[StoredLeaf]:
        """Up to ``limit`` leaves matching ``where`` with an index above ``after``, in log order."""
        lf = self.models.leaf
        stmt = select(lf).order_by(lf.leaf_index).limit(limit)
        by_subject = any(k == SUBJECT_KEY and leaf_subject({k: v}) is not None for k, v in where.payload)
        if where.kind is not None and not by_subject:
            # With a subject the kind is checked in ``keeps``: offered both, SQLite (no statistics) walks the
            # (kind, leaf_index) index, i.e. the whole log from ``after``, instead of the enterprise's own leaves.
            stmt = stmt.where(lf.kind == where.kind.value)
        if where.start is not None:
            stmt = stmt.where(lf.created_at >= where.start)
        if where.end is not None:
            stmt = stmt.where(lf.created_at < where.end)
        for key, value in where.payload:
            if key == SUBJECT_KEY and leaf_subject({key: value}) is not None:
                stmt = stmt.where(lf.subject == value)  # indexed; ``keeps`` still checks the entry itself
                continue
            # Entries are canonical JSON (sorted keys, no spaces), so a field reads exactly "key":"value".
            pattern = _like_escape(f"{canonical_json(key)}:{canonical_json(value)}")
            stmt = stmt.where(lf.entry.like(f"%{pattern}%", escape="\\"))
        out: list[StoredLeaf] = []
        with translate_db_errors(), self.reader() as s:
            while len(out) < limit:
                rows = [_leaf(row) for row in s.scalars(stmt if after is None else stmt.where(lf.leaf_index > after))]
                out.extend(leaf for leaf in rows if where.keeps(leaf))
                if len(rows) < limit:
                    break
                after = rows[-1].index
        return out[:limit]
