"""The evidence log's tables, added to a service's own MetaData so they live in (and migrate with) its database.

Five tables, all prefixed ``evidence_``:

- ``evidence_leaves``: one row per leaf: index, kind, created_at, the canonical entry text hashed, the leaf hash, and
  its subject (the enterprise it is about, copied from the entry for an index; ``audit.verify_log`` checks the copy).
- ``evidence_nodes``: the hash of every complete subtree above the leaves, as (level >= 1, index), so any proof
  takes O(log n) reads.
- ``evidence_state``: one row: origin, tree size and root; appenders lock it, so replicas append in turn.
- ``evidence_tree_heads``: every signed tree head published.
- ``evidence_keys``: every public key that signed heads (never the private key), retired ones kept for verifying.

Rows are only ever inserted (the state row is updated); ``audit.verify_log`` detects any other change.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, MetaData, SmallInteger, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from services.kit.db import UtcDateTime

STATE_ROW_ID = 1


class LeafColumns:
    """Columns of ``evidence_leaves``."""

    __tablename__ = "evidence_leaves"

    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # entry is the canonical JSON whose UTF-8 bytes the leaf hash covers, kept verbatim.
    entry: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    # subject is entries.leaf_subject of the payload (version 2): an enterprise's leaves without a scan of the log.
    subject: Mapped[str | None] = mapped_column(String(200), nullable=True)

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:  # noqa: N805 (declared_attr passes the class)
        # New Index objects per table: a service's metadata and a test's may both hold the log.
        return (
            Index("ix_evidence_leaves_kind_leaf_index", "kind", "leaf_index"),
            Index("ix_evidence_leaves_created_at", "created_at"),
            Index("ix_evidence_leaves_subject_leaf_index", "subject", "leaf_index"),
        )


class NodeColumns:
    """Columns of ``evidence_nodes``: complete subtrees of 2**level leaves starting at leaf node_index * 2**level."""

    __tablename__ = "evidence_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class StateColumns:
    """Columns of ``evidence_state`` (a single row)."""

    __tablename__ = "evidence_state"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    origin: Mapped[str] = mapped_column(String(200))
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class TreeHeadColumns:
    """Columns of ``evidence_tree_heads``."""

    __tablename__ = "evidence_tree_heads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    timestamp_ms: Mapped[int] = mapped_column(BigInteger)
    key_id: Mapped[str] = mapped_column(String(32))
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:  # noqa: N805 (declared_attr passes the class)
        return (Index("ix_evidence_tree_heads_tree_size", "tree_size"),)


class KeyColumns:
    """Columns of ``evidence_keys``."""

    __tablename__ = "evidence_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    added_at: Mapped[datetime] = mapped_column(UtcDateTime())
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


@dataclass(frozen=True)
class EvidenceModels:
    """The mapped classes of one service's evidence log."""

    metadata: MetaData
    leaf: type[LeafColumns]
    node: type[NodeColumns]
    state: type[StateColumns]
    tree_head: type[TreeHeadColumns]
    key: type[KeyColumns]


_MOUNTED: weakref.WeakKeyDictionary[MetaData, EvidenceModels] = weakref.WeakKeyDictionary()


def add_evidence_tables(metadata: MetaData) -> EvidenceModels:
    """Add the log's tables to ``metadata`` (a service's own) and return their mapped classes; idempotent."""
    mounted = _MOUNTED.get(metadata)
    if mounted is not None:
        return mounted
    target = metadata

    class Base(DeclarativeBase):
        metadata = target

    class EvidenceLeaf(LeafColumns, Base):
        pass

    class EvidenceNode(NodeColumns, Base):
        pass

    class EvidenceState(StateColumns, Base):
        pass

    class EvidenceTreeHead(TreeHeadColumns, Base):
        pass

    class EvidenceKey(KeyColumns, Base):
        pass

    mounted = EvidenceModels(metadata, EvidenceLeaf, EvidenceNode, EvidenceState, EvidenceTreeHead, EvidenceKey)
    _MOUNTED[metadata] = mounted
    return mounted
