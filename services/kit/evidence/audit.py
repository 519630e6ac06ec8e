"""``verify_log``: recompute the whole evidence log from its stored rows and check it against every signed head.

It trusts nothing stored except the public keys' ability to verify signatures: each leaf's hash is recomputed
from its entry text, every complete subtree and every signed root is recomputed from those, and the state row is
compared with the result. So editing, deleting or reordering any leaf row a signed head covers is reported, as
is an edited subtree hash, a forged head, a stored public key that does not match its key id, a head signed by
a key after its retirement or a truncated log. Leaves appended after the latest head are only self-consistent
until the next head is signed (the publisher's interval bounds that window). A key added outright by whoever can
write the database is beyond it: compare ``evidence_keys`` with the node keys you hold.

Problems name indices and checks, never entry contents (they may identify parties).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import Engine, distinct, func, select
from sqlalchemy.orm import Session

from services.kit import merkle
from services.kit.db import session_factories
from services.kit.evidence.entries import Entry, canonical_json, leaf_subject
from services.kit.evidence.heads import key_id_of, to_ms
from services.kit.evidence.schema import STATE_ROW_ID, EvidenceModels
from services.kit.evidence.store import head_from_row


class Check(StrEnum):
    """Which check a problem failed."""

    ORIGIN_MISMATCH = "ORIGIN_MISMATCH"
    LEAF_OUT_OF_PLACE = "LEAF_OUT_OF_PLACE"
    LEAF_MALFORMED = "LEAF_MALFORMED"
    LEAF_COLUMNS_MISMATCH = "LEAF_COLUMNS_MISMATCH"
    LEAF_HASH_MISMATCH = "LEAF_HASH_MISMATCH"
    NODE_MISSING = "NODE_MISSING"
    NODE_MISMATCH = "NODE_MISMATCH"
    NODE_EXTRA = "NODE_EXTRA"
    KEY_ID_MISMATCH = "KEY_ID_MISMATCH"
    HEAD_KEY_UNKNOWN = "HEAD_KEY_UNKNOWN"
    HEAD_SIGNATURE_INVALID = "HEAD_SIGNATURE_INVALID"
    HEAD_KEY_RETIRED = "HEAD_KEY_RETIRED"
    HEAD_ROOT_MISMATCH = "HEAD_ROOT_MISMATCH"
    HEAD_BEYOND_LOG = "HEAD_BEYOND_LOG"
    STATE_MISMATCH = "STATE_MISMATCH"


@dataclass(frozen=True)
class Problem:
    """One failed check; ``leaf_index`` is the position concerned, when there is one."""

    check: Check
    message: str
    leaf_index: int | None = None


@dataclass
class LogReport:
    """What ``verify_log`` found: the leaves and heads it checked and every problem (up to a limit)."""

    origin: str
    tree_size: int = 0
    heads_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def checks(self) -> set[Check]:
        return {p.check for p in self.problems}


class _Auditor:
    def __init__(self, session: Session, models: EvidenceModels, origin: str, chunk: int, max_problems: int) -> None:
        self.s, self.m, self.chunk, self.max_problems = session, models, chunk, max_problems
        self.report = LogReport(origin=origin)

    def problem(self, check: Check, message: str, leaf_index: int | None = None) -> None:
        if len(self.report.problems) >= self.max_problems:
            self.report.truncated = True
            return
        self.report.problems.append(Problem(check, message, leaf_index))

    def run(self) -> LogReport:
        m, s = self.m, self.s
        state = s.get(m.state, STATE_ROW_ID)
        if state is not None and state.origin != self.report.origin:
            self.problem(Check.ORIGIN_MISMATCH, f"the state row names origin {state.origin}")
        roots = self._check_heads()
        for head_id, root in roots.get(0, []):
            if root != merkle.EMPTY_ROOT:
                self.problem(Check.HEAD_ROOT_MISMATCH, f"head {head_id} of size 0 does not sign the empty root")
        frontier = self._stream_leaves(roots)
        n = self.report.tree_size = frontier.size
        for size, signed in roots.items():
            if size > n:
                for head_id, _ in signed:
                    self.problem(Check.HEAD_BEYOND_LOG, f"head {head_id} signs {size} leaves; only {n} are stored", n)
        self._check_extra_nodes(n)
        if state is None:
            self.problem(Check.STATE_MISMATCH, "the state row is missing")
        elif state.tree_size != n or bytes(state.root_hash) != frontier.root():
            self.problem(Check.STATE_MISMATCH, f"the state row says {state.tree_size} leaves with another root")
        return self.report

    def _check_heads(self) -> dict[int, list[tuple[int, bytes]]]:
        """tree size -> [(head id, signed root)] of the validly signed heads, reporting the others."""
        m, s = self.m, self.s
        rows = list(s.scalars(select(m.key)))
        keys: dict[str, bytes] = {}
        for k in rows:
            # A key id is derived from its public key: a stored key that does not match its id is not that key (one
            # swapped in by whoever rewrote the log and re-signed its heads), so its heads count as by an unknown key.
            if key_id_of(bytes(k.public_key)) == k.key_id:
                keys[k.key_id] = bytes(k.public_key)
            else:
                self.problem(Check.KEY_ID_MISMATCH, f"key {k.key_id} is stored with a public key of another id")
        # A retired key's heads verify only up to its retirement: one signed later (by whoever kept a key rotated
        # out because it leaked, say) is reported, though still used to check the leaves it covers. Millisecond
        # times, as heads carry them.
        retired_ms = {k.key_id: to_ms(k.retired_at) for k in rows if k.retired_at is not None}
        roots: dict[int, list[tuple[int, bytes]]] = defaultdict(list)
        for row in s.scalars(select(m.tree_head).order_by(m.tree_head.id)):
            head = head_from_row(row, self.report.origin)
            self.report.heads_checked += 1
            key = keys.get(head.key_id)
            if key is None:
                self.problem(Check.HEAD_KEY_UNKNOWN, f"head {row.id} names key {head.key_id}, not in evidence_keys")
            elif not head.signature_valid(key):
                self.problem(
                    Check.HEAD_SIGNATURE_INVALID, f"head {row.id} (size {head.tree_size}) is not validly signed"
                )
            else:
                if head.key_id in retired_ms and head.timestamp_ms > retired_ms[head.key_id]:
                    self.problem(
                        Check.HEAD_KEY_RETIRED,
                        f"head {row.id} (size {head.tree_size}) is signed by key {head.key_id} after its retirement",
                    )
                roots[head.tree_size].append((row.id, head.root_hash))
        return roots

    def _stream_leaves(self, roots: dict[int, list[tuple[int, bytes]]]) -> merkle.Frontier:
        lf = self.m.leaf
        frontier = merkle.Frontier()
        # No lower bound at first: a row at a negative index is out of place too (listings would show it).
        after: int | None = None
        shifted = False
        while True:
            stmt = (
                select(lf.leaf_index, lf.kind, lf.created_at, lf.entry, lf.leaf_hash, lf.subject)
                .order_by(lf.leaf_index)
                .limit(self.chunk)
            )
            if after is not None:
                stmt = stmt.where(lf.leaf_index > after)
            rows = self.s.execute(stmt).all()
            if not rows:
                return frontier
            produced: dict[merkle.Node, bytes] = {}
            for stored_index, kind, created_at, text, stored_hash, subject in rows:
                pos = frontier.size
                if stored_index != pos and not shifted:
                    shifted = True  # every later row is shifted too; say it once
                    self.problem(
                        Check.LEAF_OUT_OF_PLACE, f"a leaf is stored at index {stored_index}, expected {pos}", pos
                    )
                computed = merkle.leaf_hash(text.encode())
                self._check_entry(pos, text, kind, created_at, subject)
                if computed != bytes(stored_hash):
                    self.problem(Check.LEAF_HASH_MISMATCH, f"leaf {pos}'s entry does not hash to its leaf_hash", pos)
                for level, index, h in frontier.push(computed):
                    produced[(level, index)] = h
                for head_id, root in roots.get(frontier.size, []):
                    if frontier.root() != root:
                        self.problem(
                            Check.HEAD_ROOT_MISMATCH,
                            f"head {head_id}: the first {frontier.size} stored leaves lead to another root",
                            frontier.size - 1,
                        )
            self._check_nodes(produced)
            after = rows[-1][0]

    def _check_entry(self, pos: int, text: str, kind: str, created_at: object, subject: str | None) -> None:
        try:
            entry = Entry.from_json(text)
        except ValueError:
            self.problem(Check.LEAF_MALFORMED, f"leaf {pos}'s entry is not a valid entry", pos)
            return
        if canonical_json(entry.to_obj()) != text:
            self.problem(Check.LEAF_MALFORMED, f"leaf {pos}'s entry is not in canonical form", pos)
        # The subject column is not hashed: a changed one would hide a leaf from its enterprise's listings.
        if entry.kind.value != kind or entry.created_at != created_at or leaf_subject(entry.payload) != subject:
            self.problem(
                Check.LEAF_COLUMNS_MISMATCH,
                f"leaf {pos}'s kind, created_at or subject column differs from its entry",
                pos,
            )

    def _check_nodes(self, produced: dict[merkle.Node, bytes]) -> None:
        nd = self.m.node
        by_level: dict[int, list[int]] = defaultdict(list)
        for level, index in produced:
            by_level[level].append(index)
        stored: dict[merkle.Node, bytes] = {}
        for level, indices in by_level.items():
            stmt = select(nd.node_index, nd.hash).where(
                nd.level == level, nd.node_index >= min(indices), nd.node_index <= max(indices)
            )
            stored.update({(level, index): bytes(h) for index, h in self.s.execute(stmt)})
        for (level, index), h in sorted(produced.items()):
            first_leaf = index << level
            got = stored.get((level, index))
            if got is None:
                self.problem(Check.NODE_MISSING, f"subtree ({level}, {index}) is not stored", first_leaf)
            elif got != h:
                self.problem(Check.NODE_MISMATCH, f"subtree ({level}, {index}) is stored with another hash", first_leaf)

    def _check_extra_nodes(self, n: int) -> None:
        nd = self.m.node
        for level in self.s.scalars(select(distinct(nd.level))):
            extra = self.s.execute(
                select(func.count()).where(nd.level == level, nd.node_index >= (n >> level))
            ).scalar_one()
            if extra:
                self.problem(Check.NODE_EXTRA, f"{extra} subtrees at level {level} lie beyond the {n} stored leaves")


def verify_log(
    engine: Engine, models: EvidenceModels, *, origin: str, chunk: int = 4096, max_problems: int = 100
) -> LogReport:
    """Check every stored row of the log against the signed heads; read-only, one consistent snapshot."""
    _, reader = session_factories(engine)
    with reader() as s:
        if engine.dialect.name == "postgresql":  # one snapshot for the whole pass, while appends go on
            s.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return _Auditor(s, models, origin, chunk, max_problems).run()
