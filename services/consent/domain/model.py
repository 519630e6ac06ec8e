"""The authorization aggregate: scope, validity, use limit, lifecycle and the check decision, with no I/O."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from services.kit import uscc as uscc_rules
from services.kit.errors import FailedPrecondition, InvalidArgument

AUTHORIZATION_ID = re.compile(r"^[0-9a-f]{32}$")
REQUESTER = re.compile(r"^(platforms|institutions)/[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$")
CODE = re.compile(r"^[A-Z][A-Z0-9_]{0,63}$")
ZERO_DIGEST = bytes(32)
_MICROSECOND = timedelta(microseconds=1)
_MICROSECONDS_PER_DAY = 86_400_000_000


class State(StrEnum):
    """Lifecycle states; REVOKED and EXPIRED are final."""

    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"


class UseLimitKind(StrEnum):
    """How uses are limited: once, N times, or N times per period."""

    ONE_TIME = "ONE_TIME"
    MAX_USES = "MAX_USES"
    FREQUENCY = "FREQUENCY"


class EventType(StrEnum):
    """What a history event did; each one yields a receipt."""

    GRANTED = "GRANTED"
    PAUSED = "PAUSED"
    RESUMED = "RESUMED"
    REVOKED = "REVOKED"
    REVOKED_REQUESTER_REMOVED = "REVOKED_REQUESTER_REMOVED"
    EXPIRED = "EXPIRED"


class DecisionReason(StrEnum):
    """Why a check allowed or denied."""

    AUTHORIZED = "AUTHORIZED"
    NO_AUTHORIZATION = "NO_AUTHORIZATION"
    PAUSED = "PAUSED"
    REVOKED = "REVOKED"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    OUT_OF_SCOPE = "OUT_OF_SCOPE"
    USE_LIMIT_REACHED = "USE_LIMIT_REACHED"


# When nothing allows, the denial names the candidate that came closest to allowing.
_CLOSENESS = {
    DecisionReason.NO_AUTHORIZATION: 0,
    DecisionReason.REVOKED: 1,
    DecisionReason.EXPIRED: 2,
    DecisionReason.PAUSED: 3,
    DecisionReason.NOT_YET_VALID: 4,
    DecisionReason.OUT_OF_SCOPE: 5,
    DecisionReason.USE_LIMIT_REACHED: 6,
    DecisionReason.AUTHORIZED: 7,
}


def invalid_field(field_name: str, problem: str) -> InvalidArgument:
    return InvalidArgument(
        "ERROR_REASON_INVALID_FIELD", f"{field_name}: {problem}", {"field": field_name, "problem": problem}
    )


def parse_enterprise(name: str, field_name: str = "enterprise") -> str:
    """The USCC in ``enterprises/{uscc}``; only its shape is checked here (the registry knows who exists)."""
    uscc = name.removeprefix("enterprises/")
    if uscc == name or not uscc_rules.SHAPE.fullmatch(uscc):
        raise InvalidArgument(
            "ERROR_REASON_INVALID_USCC",
            f"{field_name} must be enterprises/{{uscc}} with an 18-character code",
            {"field": field_name, "problem": "shape"},
        )
    return uscc


def parse_authorization(name: str, field_name: str = "authorization") -> str:
    auth_id = name.removeprefix("authorizations/")
    if auth_id == name or not AUTHORIZATION_ID.fullmatch(auth_id):
        raise invalid_field(field_name, "must be authorizations/{32 hex digits}")
    return auth_id


def parse_requester(name: str, field_name: str = "requester") -> str:
    if not REQUESTER.fullmatch(name):
        raise invalid_field(field_name, "must be platforms/{id} or institutions/{id}")
    return name


def parse_codes(values: Iterable[str], field_name: str) -> tuple[str, ...]:
    """Sorted, duplicate-free upper-case codes (the canonical order of the signed lines)."""
    codes = list(values)
    for code in codes:
        if not CODE.fullmatch(code):
            raise invalid_field(field_name, "codes are upper-case letters, digits and underscores")
    if len(set(codes)) != len(codes):
        raise invalid_field(field_name, "contains duplicates")
    if len(codes) > 200:
        raise invalid_field(field_name, "names more than 200 codes")
    return tuple(sorted(codes))


def authorization_name(auth_id: str) -> str:
    return f"authorizations/{auth_id}"


@dataclass(frozen=True)
class UseLimit:
    """At most ``max_uses`` uses in total (ONE_TIME, MAX_USES) or per period of ``period_days`` (FREQUENCY)."""

    kind: UseLimitKind
    max_uses: int
    period_days: int = 0

    def __post_init__(self) -> None:
        if self.kind is UseLimitKind.ONE_TIME and self.max_uses != 1:
            raise invalid_field("use_limit.max_uses", "must be 1 for ONE_TIME")
        if self.max_uses < 1:
            raise invalid_field("use_limit.max_uses", "must be at least 1")
        if self.kind is UseLimitKind.FREQUENCY and self.period_days < 1:
            raise invalid_field("use_limit.period_days", "must be at least 1 for FREQUENCY")
        if self.kind is not UseLimitKind.FREQUENCY and self.period_days != 0:
            raise invalid_field("use_limit.period_days", "is only for FREQUENCY")

    def period_index(self, valid_from: datetime, at: datetime) -> int:
        """Which period ``at`` falls in (always 0 unless FREQUENCY)."""
        if self.kind is not UseLimitKind.FREQUENCY:
            return 0
        # In whole microseconds: period_days is any int32 the enterprise signed, and timedelta(days=...) overflows
        # beyond 999,999,999 days (which would fail every check of the key, and the batches it shares, as INTERNAL).
        return max(0, ((at - valid_from) // _MICROSECOND) // (self.period_days * _MICROSECONDS_PER_DAY))


@dataclass(frozen=True)
class UseCounter:
    """Uses so far: in total, and within the period ``period_index`` (FREQUENCY)."""

    total: int = 0
    period_index: int = 0
    in_period: int = 0
    last_use_at: datetime | None = None

    def has_use_left(self, limit: UseLimit, current_period: int) -> bool:
        if limit.kind is UseLimitKind.FREQUENCY:
            # The clock is read before the row is locked, so uses can reach the counter out of clock order. A use
            # from a period older than the counter's is refused: its period's count is gone (only the newest period
            # is kept), and counting it in the newer one would put it beyond the limit of the period it is stamped
            # in. So no period ever gets more than max_uses and the counter never goes back (the store's
            # ``_spend`` applies this same rule in SQL).
            if self.period_index == current_period:
                return self.in_period < limit.max_uses
            return self.period_index < current_period
        return self.total < limit.max_uses

    def after_use(self, current_period: int, at: datetime) -> UseCounter:
        """The counter after a use that ``has_use_left`` allowed (so ``current_period`` is not older than it)."""
        in_period = self.in_period + 1 if self.period_index == current_period else 1
        return UseCounter(self.total + 1, current_period, in_period, at)


@dataclass
class Authorization:
    """An enterprise's signed authorization of one requester, for one purpose, over fixed items."""

    id: str
    enterprise: str
    requester: str
    purpose: str
    items: tuple[str, ...]
    categories: tuple[str, ...]
    covered_items: frozenset[str]
    valid_from: datetime
    valid_until: datetime
    data_since: datetime
    use_limit: UseLimit
    signing_key_id: str
    created_at: datetime
    state: State = State.ACTIVE
    uses: UseCounter = field(default_factory=UseCounter)
    revision: int = 0
    updated_at: datetime | None = None
    last_receipt_digest: bytes = ZERO_DIGEST

    @property
    def name(self) -> str:
        return authorization_name(self.id)

    @property
    def is_final(self) -> bool:
        return self.state in (State.REVOKED, State.EXPIRED)

    def evaluate(  # noqa: PLR0911 - one return per reason reads as the rule itself
        self, items: Iterable[str], at: datetime, data_since: datetime | None
    ) -> DecisionReason:
        """What this authorization says about a request at ``at`` (no side effect)."""
        if self.state is State.REVOKED:
            return DecisionReason.REVOKED
        if self.state is State.EXPIRED or at >= self.valid_until:
            return DecisionReason.EXPIRED
        if self.state is State.PAUSED:
            return DecisionReason.PAUSED
        if at < self.valid_from:
            return DecisionReason.NOT_YET_VALID
        if not self.covered_items.issuperset(items) or (data_since is not None and data_since < self.data_since):
            return DecisionReason.OUT_OF_SCOPE
        if not self.uses.has_use_left(self.use_limit, self.use_limit.period_index(self.valid_from, at)):
            return DecisionReason.USE_LIMIT_REACHED
        return DecisionReason.AUTHORIZED

    def _transition(self, allowed_from: Sequence[State], to: State, at: datetime, revision: int) -> None:
        if self.state not in allowed_from:
            raise FailedPrecondition(
                "ERROR_REASON_ILLEGAL_TRANSITION",
                f"an authorization cannot go from {self.state.value} to {to.value}",
                {"from": self.state.value, "to": to.value},
            )
        self.state = to
        self.revision = revision
        self.updated_at = at

    def _not_expired(self, at: datetime, to: State) -> None:
        # Past valid_until the authorization is expired whether or not the sweeper has recorded it yet.
        if self.state in (State.ACTIVE, State.PAUSED) and at >= self.valid_until:
            raise FailedPrecondition(
                "ERROR_REASON_ILLEGAL_TRANSITION",
                f"an authorization cannot go from EXPIRED to {to.value}",
                {"from": State.EXPIRED.value, "to": to.value},
            )

    def pause(self, at: datetime, revision: int) -> EventType:
        self._not_expired(at, State.PAUSED)
        self._transition([State.ACTIVE], State.PAUSED, at, revision)
        return EventType.PAUSED

    def resume(self, at: datetime, revision: int) -> EventType:
        self._not_expired(at, State.ACTIVE)
        self._transition([State.PAUSED], State.ACTIVE, at, revision)
        return EventType.RESUMED

    def revoke(self, at: datetime, revision: int, *, requester_removed: bool = False) -> EventType:
        if not requester_removed:
            self._not_expired(at, State.REVOKED)
        self._transition([State.ACTIVE, State.PAUSED], State.REVOKED, at, revision)
        return EventType.REVOKED_REQUESTER_REMOVED if requester_removed else EventType.REVOKED

    def expire(self, at: datetime, revision: int) -> EventType:
        if at < self.valid_until:
            raise FailedPrecondition(
                "ERROR_REASON_ILLEGAL_TRANSITION", "the authorization has not reached valid_until", {"to": "EXPIRED"}
            )
        self._transition([State.ACTIVE, State.PAUSED], State.EXPIRED, at, revision)
        return EventType.EXPIRED

    def copy(self) -> Authorization:
        return replace(self)


@dataclass(frozen=True)
class Decision:
    """A check's answer: allowed or not, why, and the authorization it is about (if any)."""

    reason: DecisionReason
    authorization: Authorization | None = None

    @property
    def allowed(self) -> bool:
        return self.reason is DecisionReason.AUTHORIZED


def decide(
    candidates: Iterable[Authorization], items: Iterable[str], at: datetime, data_since: datetime | None
) -> Decision:
    """The ALLOW that ends soonest, else the denial of the candidate that came closest to allowing."""
    wanted = frozenset(items)
    best: Decision = Decision(DecisionReason.NO_AUTHORIZATION)
    for auth in candidates:
        reason = auth.evaluate(wanted, at, data_since)
        closer = _CLOSENESS[reason] > _CLOSENESS[best.reason]
        tie = reason is best.reason and best.authorization is not None and _preferred(auth, best.authorization)
        if closer or tie:
            best = Decision(reason, auth)
    return best


# A consuming check that names a request id already used is a retry (its answer was lost) only shortly after the use,
# for the same items or fewer. Later, or for other items, the id is being reused, which would turn one use into many.
RETRY_WINDOW = timedelta(minutes=10)


def answer_retry(
    auth: Authorization, used_at: datetime, used_items: Iterable[str], items: Iterable[str], at: datetime,
    data_since: datetime | None,
) -> Decision:  # fmt: skip
    """The answer to a retry of a consuming check whose use is already recorded on ``auth``: nothing is spent again,
    but the release must still be allowed now (not revoked, paused or expired since, and in scope), bar the use limit,
    which the retried use itself may have reached. Raises REQUEST_ID_REUSED when it is not a retry."""
    wanted = frozenset(items)
    if at - used_at > RETRY_WINDOW or not wanted <= frozenset(used_items):
        raise InvalidArgument(
            "ERROR_REASON_REQUEST_ID_REUSED",
            "request_id was already used for another check; a retry comes within 10 minutes for the same items",
            {"field": "request_id"},
        )
    reason = auth.evaluate(wanted, at, data_since)
    return Decision(DecisionReason.AUTHORIZED if reason is DecisionReason.USE_LIMIT_REACHED else reason, auth)


def _preferred(a: Authorization, b: Authorization) -> bool:
    """Among equals, use what ends first (leaves the longer authorizations for later); then the newest."""
    return (a.valid_until, -a.created_at.timestamp()) < (b.valid_until, -b.created_at.timestamp())
