"""Consent use cases against in-memory fakes: signatures, replay, scope and caps, lifecycle, checks and uses."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from creditnode.consent.v1 import consent_service_pb2 as pb
from services.consent.api import convert
from services.consent.clients.files import load_purposes
from services.consent.domain.model import Authorization, Decision, DecisionReason, EventType, State
from services.consent.domain.ports import EnterpriseKey, Requester, Use
from services.consent.domain.signing import MAX_SIGNATURE_WINDOW, Action
from services.consent.usecases import CheckQuery, Consent, Outcome
from services.kit.errors import DomainError
from tests.consent_support.fakes import (
    FakeRegistry,
    FakeSharingList,
    MemoryAuthorizations,
    MemoryStore,
    RecordingBarrier,
)
from tests.consent_support.signing import Enterprise, make_uscc, now_s

PURPOSES = Path(__file__).resolve().parents[3] / "services" / "consent" / "data" / "purposes.yaml"
BANK = "institutions/boc-xian"
PLATFORM = "platforms/xian"


class Clock:
    def __init__(self) -> None:
        self.at = now_s()

    def __call__(self) -> datetime:
        return self.at


class World:
    """The use cases wired to fakes, with two registered enterprises and two requesters."""

    def __init__(self) -> None:
        self.clock = Clock()
        self.registry = FakeRegistry()
        self.store = MemoryStore()
        self.barrier = RecordingBarrier()
        self.consent = self.started()
        self.alice = Enterprise(make_uscc(1))
        self.bob = Enterprise(make_uscc(2))
        for e in (self.alice, self.bob):
            self.registry.add_enterprise(e)
        self.registry.add_requester(BANK)
        self.registry.add_requester(PLATFORM)

    def started(self, window: timedelta = timedelta(minutes=5)) -> Consent:
        """The use cases on this world's store and fakes, as a (re)started process has them."""
        return Consent(
            writer=self.store.unit_of_work,
            reader=self.store.unit_of_work,
            registry=self.registry,
            sharing=FakeSharingList(),
            purposes=load_purposes(PURPOSES),
            barrier=self.barrier,
            clock=self.clock,
            window=window,
        )

    def grant(self, request: pb.GrantAuthorizationRequest) -> Outcome:
        return self.consent.grant(convert.grant_request(request))

    def change(self, action: Action, request: Any) -> Outcome:
        return self.consent.change(convert.lifecycle_request(action, request))

    def check(self, who: Enterprise, items: tuple[str, ...] = ("TAX_PAYMENT",), **kw: Any) -> Any:
        q = CheckQuery(
            requester=kw.pop("requester", BANK),
            enterprise=who.uscc,
            purpose=kw.pop("purpose", "PRE_LOAN"),
            items=items,
            **kw,
        )
        return self.consent.check(q)


@pytest.fixture
def w() -> World:
    return World()


def reason_of(call: Callable[[], object]) -> tuple[str, str]:
    with pytest.raises(DomainError) as err:
        call()
    return err.value.kind, err.value.reason


def test_grant_covers_named_items_and_the_open_part_of_categories(w: World) -> None:
    out = w.grant(w.alice.grant(BANK, items=("TAX_INVOICE",), categories=("TAX",)))
    assert out.authorization.covered_items == {"TAX_CREDIT_GRADE", "TAX_PAYMENT", "TAX_INVOICE"}
    assert out.authorization.state is State.ACTIVE
    assert out.receipt.event_type is EventType.GRANTED
    assert out.receipt.signed_payload.startswith(b"creditnode.consent.v1.GrantAuthorization\n")
    assert w.check(w.alice, ("TAX_INVOICE", "TAX_PAYMENT")).allowed


def test_category_never_covers_opt_in_items_that_were_not_named(w: World) -> None:
    out = w.grant(w.alice.grant(BANK, items=(), categories=("TAX", "CUSTOMS")))
    assert "TAX_INVOICE" not in out.authorization.covered_items
    assert "CUSTOMS_TRADE" not in out.authorization.covered_items
    assert w.check(w.alice, ("TAX_INVOICE",)).reason is DecisionReason.OUT_OF_SCOPE


def test_commercial_secret_can_never_be_authorized(w: World) -> None:
    req = w.alice.grant(BANK, items=("TAX_PAYMENT", "TAX_FINANCIAL_STATEMENT"))
    assert reason_of(lambda: w.grant(req)) == ("INVALID_ARGUMENT", "ERROR_REASON_COMMERCIAL_SECRET")


def test_a_category_with_only_secrets_and_opt_ins_covers_nothing(w: World) -> None:
    # CUSTOMS holds one opt-in and one secret item: naming it alone authorizes no data at all.
    req = w.alice.grant(BANK, items=(), categories=("CUSTOMS",))
    assert reason_of(lambda: w.grant(req)) == ("INVALID_ARGUMENT", "ERROR_REASON_INVALID_FIELD")


def test_unknown_item_category_and_purpose_are_refused(w: World) -> None:
    assert reason_of(lambda: w.grant(w.alice.grant(BANK, items=("TAX_NOPE",)))) == (
        "INVALID_ARGUMENT",
        "ERROR_REASON_UNKNOWN_DATA_ITEM",
    )
    assert reason_of(lambda: w.grant(w.alice.grant(BANK, categories=("NOPE",)))) == (
        "INVALID_ARGUMENT",
        "ERROR_REASON_UNKNOWN_DATA_ITEM",
    )
    assert reason_of(lambda: w.grant(w.alice.grant(BANK, purpose="GAMBLING"))) == (
        "INVALID_ARGUMENT",
        "ERROR_REASON_UNKNOWN_PURPOSE",
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"validity": timedelta(days=91)}, "valid_until"),
        ({"lookback": timedelta(days=1096)}, "data_since"),
        ({"max_uses": 11}, "use_limit.max_uses"),
        ({"kind": pb.USE_LIMIT_KIND_FREQUENCY, "period_days": 1}, "use_limit.kind"),
        (
            {"purpose": "CREDIT_EVALUATION", "kind": pb.USE_LIMIT_KIND_FREQUENCY, "period_days": 7},
            "use_limit.period_days",
        ),
    ],
)
def test_grant_beyond_the_purpose_caps_is_refused(w: World, changes: dict[str, Any], field: str) -> None:
    with pytest.raises(DomainError) as err:
        w.grant(w.alice.grant(BANK, **changes))
    assert (err.value.reason, err.value.metadata["field"]) == ("ERROR_REASON_EXCEEDS_PURPOSE_CAP", field)


def test_bad_signature_is_unauthenticated(w: World) -> None:
    req = w.alice.grant(BANK)
    req.signature.signature = bytes(64)
    assert reason_of(lambda: w.grant(req)) == ("UNAUTHENTICATED", "ERROR_REASON_SIGNATURE_INVALID")


def test_altered_request_no_longer_verifies(w: World) -> None:
    req = w.alice.grant(BANK, max_uses=1)
    req.use_limit.max_uses = 5  # the platform relays, it cannot change what was signed
    assert reason_of(lambda: w.grant(req)) == ("UNAUTHENTICATED", "ERROR_REASON_SIGNATURE_INVALID")


def test_signature_by_another_enterprises_key_is_refused(w: World) -> None:
    # Bob signs Alice's grant with his own (registered) key, naming it as his key id.
    forged = Enterprise(w.alice.uscc, key=w.bob.key).grant(BANK)
    assert reason_of(lambda: w.grant(forged)) == ("UNAUTHENTICATED", "ERROR_REASON_SIGNATURE_INVALID")


def test_unknown_enterprise_looks_like_a_bad_signature(w: World) -> None:
    stranger = Enterprise(make_uscc(99))
    assert reason_of(lambda: w.grant(stranger.grant(BANK))) == ("UNAUTHENTICATED", "ERROR_REASON_SIGNATURE_INVALID")


# The neutral point, and (R = 1·B, s = 1): a signature made without any private key that verifies for it over any
# message. Registration refuses such a key now; one registered before it did is still in the registry.
_P = 2**255 - 19
_IDENTITY = (1).to_bytes(32, "little")
_FORGED = (4 * pow(5, _P - 2, _P) % _P).to_bytes(32, "little") + (1).to_bytes(32, "little")


def test_a_key_anyone_can_sign_for_is_refused_when_it_signs(w: World) -> None:
    dave = Enterprise(make_uscc(4))
    weak_id = hashlib.sha256(_IDENTITY).hexdigest()[:16]
    w.registry.keys[dave.uscc] = [EnterpriseKey(weak_id, _IDENTITY, True)]
    forged = dave.grant(BANK)  # signed with dave's own key, then its signature swapped for the keyless forgery
    forged.signature.key_id = weak_id
    forged.signature.signature = _FORGED
    with pytest.raises(DomainError) as err:
        w.grant(forged)
    assert (err.value.kind, err.value.reason) == ("FAILED_PRECONDITION", "ERROR_REASON_KEY_NOT_ACTIVE")
    assert "anyone can sign" in err.value.message


def test_retired_key_cannot_sign(w: World) -> None:
    carol = Enterprise(make_uscc(3))
    w.registry.add_enterprise(carol, active=False)
    assert reason_of(lambda: w.grant(carol.grant(BANK))) == ("FAILED_PRECONDITION", "ERROR_REASON_KEY_NOT_ACTIVE")


@pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_stale_or_future_signature_is_refused(w: World, skew: timedelta) -> None:
    req = w.alice.grant(BANK, signed_at=w.clock.at + skew)
    assert reason_of(lambda: w.grant(req)) == ("UNAUTHENTICATED", "ERROR_REASON_SIGNATURE_STALE")


def test_replayed_grant_returns_the_first_result_without_a_second_authorization(w: World) -> None:
    req = w.alice.grant(BANK)
    first, again = w.grant(req), w.grant(req)
    assert again.authorization.id == first.authorization.id
    assert again.receipt.digest == first.receipt.digest
    assert len(w.store.data.authorizations) == 1
    assert len(w.store.data.events) == 1


def test_a_grant_retried_after_its_requester_lost_access_gets_its_first_result(w: World) -> None:
    # The first try was recorded but its answer lost; meanwhile the bank was suspended. The retry is not a new grant.
    req = w.alice.grant(BANK)
    first = w.grant(req)
    w.registry.add_requester(BANK, has_access=False)
    again = w.grant(req)
    assert again.receipt.digest == first.receipt.digest
    assert reason_of(lambda: w.grant(w.alice.grant(BANK))) == (
        "FAILED_PRECONDITION",
        "ERROR_REASON_REQUESTER_NO_ACCESS",
    )


def test_replayed_pause_after_resume_does_not_pause_again(w: World) -> None:
    name = w.grant(w.alice.grant(BANK)).authorization.name
    pause = w.alice.pause(name)
    first = w.change(Action.PAUSE, pause)
    w.change(Action.RESUME, w.alice.resume(name))
    replay = w.change(Action.PAUSE, pause)
    assert replay.receipt.digest == first.receipt.digest
    assert replay.authorization.state is State.ACTIVE
    assert w.check(w.alice).allowed


def test_a_replay_whose_nonce_is_swept_while_it_is_handled_is_stale_not_new(w: World) -> None:
    name = w.grant(w.alice.grant(BANK)).authorization.name
    signed_at = w.clock.at
    pause = w.alice.pause(name, signed_at=signed_at)
    w.change(Action.PAUSE, pause)
    w.change(Action.RESUME, w.alice.resume(name))
    # The replay passes the window check on arrival, a moment before the window ends; the sweeper then purges its
    # nonce (the window has ended) before the replay looks it up. It must not pause a second time.
    edge = signed_at + timedelta(minutes=5) - timedelta(seconds=1)
    readings = iter([edge])
    w.consent._clock = lambda: next(readings, edge + timedelta(seconds=2))
    w.store.data.nonces.clear()
    assert reason_of(lambda: w.change(Action.PAUSE, pause)) == ("UNAUTHENTICATED", "ERROR_REASON_SIGNATURE_STALE")
    assert w.consent.get(name.rsplit("/", 1)[-1]).state is State.ACTIVE


def test_a_replay_after_the_signature_window_was_raised_is_not_new(w: World) -> None:
    name = w.grant(w.alice.grant(BANK)).authorization.name
    pause = w.alice.pause(name, signed_at=w.clock.at)
    first = w.change(Action.PAUSE, pause)
    w.change(Action.RESUME, w.alice.resume(name, signed_at=w.clock.at))
    w.clock.at += timedelta(minutes=10)  # past the 5-minute window the pause was accepted under
    w.consent.expire_due()  # the sweeper purges what may go
    # The operator raises SIGNATURE_WINDOW_SECONDS to its maximum and restarts: the old pause is inside it again.
    w.consent = w.started(window=MAX_SIGNATURE_WINDOW)
    replay = w.change(Action.PAUSE, pause)
    assert replay.receipt.digest == first.receipt.digest  # the first answer, not a second pause
    assert w.consent.get(name.rsplit("/", 1)[-1]).state is State.ACTIVE


def test_nonce_reused_for_another_request_is_refused(w: World) -> None:
    w.grant(w.alice.grant(BANK, nonce="n" * 20))
    again = w.alice.grant(PLATFORM, nonce="n" * 20)
    assert reason_of(lambda: w.grant(again)) == ("UNAUTHENTICATED", "ERROR_REASON_NONCE_REUSED")


def test_unknown_removed_or_barred_requester_is_refused(w: World) -> None:
    assert reason_of(lambda: w.grant(w.alice.grant("platforms/nowhere"))) == (
        "NOT_FOUND",
        "ERROR_REASON_PLATFORM_NOT_FOUND",
    )
    assert reason_of(lambda: w.grant(w.alice.grant("institutions/nobody"))) == (
        "NOT_FOUND",
        "ERROR_REASON_INSTITUTION_NOT_FOUND",
    )
    w.registry.add_requester("platforms/gone", removed=True)
    assert reason_of(lambda: w.grant(w.alice.grant("platforms/gone"))) == (
        "NOT_FOUND",
        "ERROR_REASON_PLATFORM_NOT_FOUND",
    )
    w.registry.add_requester("platforms/suspended", has_access=False)
    assert reason_of(lambda: w.grant(w.alice.grant("platforms/suspended"))) == (
        "FAILED_PRECONDITION",
        "ERROR_REASON_REQUESTER_NO_ACCESS",
    )


def test_pause_resume_revoke_and_receipts_chain(w: World) -> None:
    grant = w.grant(w.alice.grant(BANK))
    name = grant.authorization.name
    paused = w.change(Action.PAUSE, w.alice.pause(name))
    assert w.check(w.alice).reason is DecisionReason.PAUSED
    resumed = w.change(Action.RESUME, w.alice.resume(name))
    assert w.check(w.alice).allowed
    revoked = w.change(Action.REVOKE, w.alice.revoke(name))
    assert w.check(w.alice).reason is DecisionReason.REVOKED
    chain = [grant.receipt, paused.receipt, resumed.receipt, revoked.receipt]
    assert [r.event_type for r in chain] == [EventType.GRANTED, EventType.PAUSED, EventType.RESUMED, EventType.REVOKED]
    for before, after in itertools.pairwise(chain):
        assert after.previous_digest == before.digest
    assert [r.revision for r in chain] == sorted({r.revision for r in chain})


def test_pause_and_revoke_wait_for_enforcement_but_grant_and_resume_do_not(w: World) -> None:
    name = w.grant(w.alice.grant(BANK)).authorization.name
    assert w.barrier.waited == []
    p = w.change(Action.PAUSE, w.alice.pause(name))
    r = w.change(Action.RESUME, w.alice.resume(name))
    v = w.change(Action.REVOKE, w.alice.revoke(name))
    assert w.barrier.waited == [p.receipt.revision, v.receipt.revision]
    assert r.receipt.revision in w.barrier.committed_revisions


def test_revoking_twice_is_idempotent_and_still_waits_for_enforcement(w: World) -> None:
    name = w.grant(w.alice.grant(BANK)).authorization.name
    first = w.change(Action.REVOKE, w.alice.revoke(name))
    second = w.change(Action.REVOKE, w.alice.revoke(name))
    assert second.receipt.digest == first.receipt.digest
    assert second.authorization.state is State.REVOKED
    assert w.barrier.waited == [first.receipt.revision, first.receipt.revision]
    assert len(w.store.data.events) == 2


def test_revoking_someone_elses_or_a_missing_authorization_is_the_same_permission_denied(w: World) -> None:
    name = w.grant(w.alice.grant(BANK)).authorization.name
    theirs = reason_of(lambda: w.change(Action.REVOKE, w.bob.revoke(name)))
    missing = reason_of(lambda: w.change(Action.REVOKE, w.bob.revoke("authorizations/" + "0" * 32)))
    assert theirs == missing == ("PERMISSION_DENIED", "ERROR_REASON_PERMISSION_DENIED")
    assert w.check(w.alice).allowed


def test_illegal_transitions_are_refused(w: World) -> None:
    name = w.grant(w.alice.grant(BANK)).authorization.name
    assert reason_of(lambda: w.change(Action.RESUME, w.alice.resume(name))) == (
        "FAILED_PRECONDITION",
        "ERROR_REASON_ILLEGAL_TRANSITION",
    )
    w.change(Action.REVOKE, w.alice.revoke(name))
    assert reason_of(lambda: w.change(Action.PAUSE, w.alice.pause(name))) == (
        "FAILED_PRECONDITION",
        "ERROR_REASON_ILLEGAL_TRANSITION",
    )


def test_check_reasons(w: World) -> None:
    assert w.check(w.alice).reason is DecisionReason.NO_AUTHORIZATION
    auth = w.grant(w.alice.grant(BANK, items=("TAX_PAYMENT",), lookback=timedelta(days=30))).authorization
    assert w.check(w.alice).reason is DecisionReason.AUTHORIZED
    assert w.check(w.alice, ("SI_HEADCOUNT",)).reason is DecisionReason.OUT_OF_SCOPE
    too_old = auth.data_since - timedelta(days=1)
    assert w.check(w.alice, data_since=too_old).reason is DecisionReason.OUT_OF_SCOPE
    assert w.check(w.alice, purpose="IN_LOAN").reason is DecisionReason.NO_AUTHORIZATION
    assert w.check(w.alice, requester=PLATFORM).reason is DecisionReason.NO_AUTHORIZATION
    w.clock.at = auth.valid_until
    assert w.check(w.alice).reason is DecisionReason.EXPIRED


def test_not_yet_valid_authorization_denies_until_it_starts(w: World) -> None:
    start = w.clock.at + timedelta(days=1)
    w.grant(w.alice.grant(BANK, valid_from=start))
    assert w.check(w.alice).reason is DecisionReason.NOT_YET_VALID
    w.clock.at = start
    assert w.check(w.alice).allowed


def test_one_time_authorization_serves_once(w: World) -> None:
    w.grant(w.alice.grant(BANK, kind=pb.USE_LIMIT_KIND_ONE_TIME, max_uses=1))
    assert w.check(w.alice).allowed  # a check without consume uses nothing
    assert w.check(w.alice, consume=True).allowed
    denied = w.check(w.alice, consume=True)
    assert denied.reason is DecisionReason.USE_LIMIT_REACHED
    assert w.check(w.alice).reason is DecisionReason.USE_LIMIT_REACHED


def test_frequency_limit_renews_each_period(w: World) -> None:
    w.grant(
        w.alice.grant(BANK, purpose="POST_LOAN_MONITORING", kind=pb.USE_LIMIT_KIND_FREQUENCY, max_uses=2, period_days=1)
    )
    q: dict[str, Any] = {"purpose": "POST_LOAN_MONITORING", "consume": True}
    assert [w.check(w.alice, **q).allowed for _ in range(3)] == [True, True, False]
    w.clock.at += timedelta(days=1)
    assert [w.check(w.alice, **q).allowed for _ in range(3)] == [True, True, False]


def test_a_frequency_use_from_an_older_period_than_the_counters_is_refused(w: World) -> None:
    # The use time is read before the row is locked, so a use stamped just before a period boundary can reach the
    # counter after one stamped just after it. Resetting the counter to the older period would give both periods a
    # use too many; the late use is refused, even with uses left in the newer period (it does not belong there).
    auth = w.grant(
        w.alice.grant(BANK, purpose="POST_LOAN_MONITORING", kind=pb.USE_LIMIT_KIND_FREQUENCY, max_uses=2, period_days=1)
    ).authorization
    boundary = auth.valid_from + timedelta(days=1)

    def use(at: datetime) -> DecisionReason:
        w.clock.at = at
        return w.check(w.alice, purpose="POST_LOAN_MONITORING", consume=True).reason  # type: ignore[no-any-return]

    allowed, refused = DecisionReason.AUTHORIZED, DecisionReason.USE_LIMIT_REACHED
    assert [use(boundary - timedelta(hours=1)) for _ in range(2)] == [allowed, allowed]  # period 0: 2 of 2
    assert use(boundary + timedelta(milliseconds=100)) is allowed  # period 1: 1 of 2
    assert use(boundary - timedelta(milliseconds=100)) is refused  # stamped in period 0, arriving late
    assert [use(boundary + timedelta(seconds=5)) for _ in range(2)] == [allowed, refused]  # period 1: 2 of 2
    uses = w.consent.get(auth.id).uses
    assert (uses.total, uses.period_index, uses.in_period) == (4, 1, 2)


def test_consuming_retry_with_the_same_request_id_uses_nothing_more(w: World) -> None:
    auth = w.grant(w.alice.grant(BANK, max_uses=2)).authorization
    assert w.check(w.alice, consume=True, request_id="d-1").allowed
    assert w.check(w.alice, consume=True, request_id="d-1").allowed
    assert w.consent.get(auth.id).uses.total == 1
    uses = w.consent.list_uses(auth.id, None, 10).items
    assert [(u.request_id, u.items) for u in uses] == [("d-1", ("TAX_PAYMENT",))]


@pytest.mark.parametrize("longer", [False, True], ids=["one candidate", "two candidates"])
def test_a_try_whose_use_a_racing_try_of_its_request_spent_is_answered_as_its_retry(
    w: World, monkeypatch: pytest.MonkeyPatch, longer: bool
) -> None:
    # PostgreSQL lets two tries of one request both find no use yet; the first spends the one-time use, so the
    # second's conditional update fails. It must not spend another authorization, nor be denied: it is a retry.
    one_time = w.grant(w.alice.grant(BANK, kind=pb.USE_LIMIT_KIND_ONE_TIME, max_uses=1, validity=timedelta(days=10)))
    if longer:
        w.grant(w.alice.grant(BANK, kind=pb.USE_LIMIT_KIND_MAX_USES, max_uses=5, validity=timedelta(days=30)))
    record_use = MemoryAuthorizations.record_use

    def racing_try_commits_first(self: MemoryAuthorizations, authorization: Authorization, use: Use) -> bool:
        if not self.d.uses:  # the other try commits while this one waits for the row, and this one then sees it
            for data in (w.store.data, self.d):
                assert record_use(MemoryAuthorizations(data), authorization, use)
        return record_use(self, authorization, use)

    monkeypatch.setattr(MemoryAuthorizations, "record_use", racing_try_commits_first)
    decision = w.check(w.alice, consume=True, request_id="d-9")
    assert (decision.reason, decision.authorization.id) == (DecisionReason.AUTHORIZED, one_time.authorization.id)
    assert [(u.authorization_id, u.request_id) for u in w.store.data.uses] == [(one_time.authorization.id, "d-9")]


@pytest.mark.parametrize("batch", [False, True], ids=["check", "batch"])
def test_a_consuming_check_that_never_records_its_use_is_not_allowed(
    w: World, monkeypatch: pytest.MonkeyPatch, batch: bool
) -> None:
    # On PostgreSQL each conditional update can find the row changed by a commit it waited for (a pause) and the
    # re-read find it spendable again (a resume). When the bounded retries run out, the answer must not be an ALLOW
    # with no use recorded: the release would leave uncounted, beyond a one-time limit.
    auth = w.grant(w.alice.grant(BANK, kind=pb.USE_LIMIT_KIND_ONE_TIME, max_uses=1)).authorization
    monkeypatch.setattr(MemoryAuthorizations, "record_use", lambda self, authorization, use: False)
    q = CheckQuery(BANK, w.alice.uscc, "PRE_LOAN", ("TAX_PAYMENT",), consume=True, request_id="d-1")
    if batch:
        answer = w.consent.check_all([q])[0]
        assert isinstance(answer, DomainError)
        assert (answer.kind, answer.reason) == ("ABORTED", "ERROR_REASON_CONCURRENT_MODIFICATION")
    else:
        assert reason_of(lambda: w.consent.check(q)) == ("ABORTED", "ERROR_REASON_CONCURRENT_MODIFICATION")
    assert w.consent.get(auth.id).uses.total == 0


def test_check_prefers_an_allowing_authorization_over_a_revoked_one(w: World) -> None:
    old = w.grant(w.alice.grant(BANK)).authorization
    w.change(Action.REVOKE, w.alice.revoke(old.name))
    new = w.grant(w.alice.grant(BANK)).authorization
    decision = w.check(w.alice)
    assert decision.allowed
    assert decision.authorization is not None
    assert decision.authorization.id == new.id


def test_requester_removal_revokes_its_live_authorizations_once(w: World) -> None:
    a = w.grant(w.alice.grant(BANK)).authorization
    b = w.grant(w.bob.grant(BANK)).authorization
    w.change(Action.PAUSE, w.bob.pause(b.name))
    other = w.grant(w.alice.grant(PLATFORM)).authorization
    assert w.consent.revoke_for_requester(BANK) == 2
    assert w.consent.revoke_for_requester(BANK) == 0
    assert w.consent.get(a.id).state is State.REVOKED
    assert w.consent.get(b.id).state is State.REVOKED
    assert w.consent.get(other.id).state is State.ACTIVE
    events = w.consent.list_events(a.id, None, 10).items
    assert events[-1].event_type is EventType.REVOKED_REQUESTER_REMOVED
    assert events[-1].receipt.signed_payload == b""


def test_requester_removal_records_an_authorization_past_its_validity_as_expired_not_revoked(w: World) -> None:
    """The sweeper had not yet recorded the expiry; the removal must not rewrite an ended authorization as revoked."""
    ended = w.grant(w.alice.grant(BANK, validity=timedelta(days=1))).authorization
    live = w.grant(w.bob.grant(BANK)).authorization
    w.clock.at = ended.valid_until
    w.consent.revoke_for_requester(BANK)
    assert w.consent.get(ended.id).state is State.EXPIRED
    assert w.consent.list_events(ended.id, None, 10).items[-1].event_type is EventType.EXPIRED
    assert w.consent.get(live.id).state is State.REVOKED
    assert w.consent.expire_due() == 0  # one event each: the sweeper finds nothing left to record


def test_an_unknown_requester_is_not_echoed(w: World) -> None:
    # A well-shaped id that names no one is the caller's text (an ID number or a mobile fits the shape); the gateway
    # relays consent's refusal to the platform as it is, so neither the message nor the metadata may repeat it.
    for requester in ("institutions/610113199001011234", "platforms/13912345678"):
        with pytest.raises(DomainError) as refused:
            w.grant(w.alice.grant(requester))
        assert refused.value.kind == "NOT_FOUND"
        said = f"{refused.value.message} {refused.value.metadata}"
        assert requester.split("/")[1] not in said, said


def test_a_grant_whose_requester_is_removed_before_it_commits_is_refused(w: World) -> None:
    # The registry says "present", then the removal watcher handles the removal (nothing committed to revoke yet)
    # before the grant's transaction: the watcher never comes back, so the grant must see the recorded removal.
    present = w.registry.requester

    def removed_after_answering(name: str) -> Requester | None:
        answer = present(name)
        if answer is not None and not answer.removed:
            w.registry.add_requester(name, removed=True)
            assert w.consent.revoke_for_requester(name) == 0
        return answer

    w.registry.requester = removed_after_answering  # type: ignore[method-assign]
    req = w.alice.grant(BANK)
    with pytest.raises(DomainError) as refused:
        w.grant(req)
    assert refused.value.reason == "ERROR_REASON_INSTITUTION_NOT_FOUND"
    assert w.consent.list_authorizations(w.alice.uscc, None, None, None, 10).items == []
    with pytest.raises(DomainError):  # a retry is refused too: nothing was created
        w.grant(req)
    assert w.check(w.alice).reason is DecisionReason.NO_AUTHORIZATION


def test_a_grant_does_not_ask_the_registry_again_after_its_commit(w: World) -> None:
    before = w.registry.calls
    w.grant(w.alice.grant(BANK))
    assert w.registry.calls - before == 2  # the enterprise's keys and the requester, once each


def test_expiry_is_recorded_with_a_receipt(w: World) -> None:
    auth = w.grant(w.alice.grant(BANK, validity=timedelta(days=1))).authorization
    assert w.consent.expire_due() == 0
    w.clock.at = auth.valid_until
    assert w.consent.expire_due() == 1
    assert w.consent.get(auth.id).state is State.EXPIRED
    assert reason_of(lambda: w.change(Action.REVOKE, w.alice.revoke(auth.name, signed_at=w.clock.at))) == (
        "FAILED_PRECONDITION",
        "ERROR_REASON_ILLEGAL_TRANSITION",
    )


def test_enterprise_lists_its_authorizations_with_their_use(w: World) -> None:
    first = w.grant(w.alice.grant(BANK)).authorization
    w.clock.at += timedelta(seconds=1)
    second = w.grant(w.alice.grant(PLATFORM, signed_at=w.clock.at)).authorization
    w.grant(w.bob.grant(BANK))
    w.check(w.alice, consume=True)
    page = w.consent.list_authorizations(w.alice.uscc, None, None, None, 10)
    assert [a.id for a in page.items] == [second.id, first.id]
    assert page.items[1].uses.total == 1


def test_a_batch_answers_each_check_as_alone_with_uses_in_request_order(w: World) -> None:
    auth = w.grant(w.alice.grant(BANK, max_uses=2)).authorization
    w.grant(w.bob.grant(BANK, max_uses=1))

    def q(who: Enterprise, request_id: str, consume: bool = True) -> CheckQuery:
        return CheckQuery(BANK, who.uscc, "PRE_LOAN", ("TAX_PAYMENT",), consume=consume, request_id=request_id)

    batch = [q(w.alice, "a-1"), q(w.bob, "b-1"), q(w.alice, "a-1"), q(w.alice, "a-2"), q(w.alice, "a-3"), q(w.bob, "")]
    batch.append(q(w.alice, "", consume=False))
    decisions = [d for d in w.consent.check_all(batch) if isinstance(d, Decision)]
    answers = [(d.reason, d.authorization.uses.total if d.authorization else None) for d in decisions]
    assert answers == [
        (DecisionReason.AUTHORIZED, 1),
        (DecisionReason.AUTHORIZED, 1),
        (DecisionReason.AUTHORIZED, 1),  # the retry of a-1: no second use
        (DecisionReason.AUTHORIZED, 2),
        (DecisionReason.USE_LIMIT_REACHED, 2),
        (DecisionReason.USE_LIMIT_REACHED, 1),
        (DecisionReason.AUTHORIZED, 0),  # without consume: as of before the batch
    ]
    assert [u.request_id for u in w.consent.list_uses(auth.id, None, 10).items] == ["a-1", "a-2"]
    retry = w.consent.check_all([q(w.alice, "a-2")])[0]
    assert isinstance(retry, Decision)
    assert retry.allowed  # a later retry is still answered
    assert w.consent.get(auth.id).uses.total == 2


def test_a_request_id_answers_a_retry_but_never_becomes_a_second_use(w: World) -> None:
    # A platform repeating one request id must not turn a one-time authorization into an unlimited one.
    auth = w.grant(w.alice.grant(BANK, kind=pb.USE_LIMIT_KIND_ONE_TIME, max_uses=1)).authorization

    def q(request_id: str, items: tuple[str, ...] = ("TAX_PAYMENT",)) -> CheckQuery:
        return CheckQuery(BANK, w.alice.uscc, "PRE_LOAN", items, consume=True, request_id=request_id)

    assert w.consent.check(q("r-1")).allowed
    w.clock.at += timedelta(minutes=5)
    assert w.consent.check(q("r-1")).allowed  # its answer was lost: the same request again, nothing spent
    assert w.consent.check(q("r-2")).reason is DecisionReason.USE_LIMIT_REACHED
    w.clock.at += timedelta(minutes=6)
    assert reason_of(lambda: w.consent.check(q("r-1"))) == ("INVALID_ARGUMENT", "ERROR_REASON_REQUEST_ID_REUSED")
    batch = w.consent.check_all([q("r-1"), q("r-3")])
    assert isinstance(batch[0], DomainError)
    assert batch[0].reason == "ERROR_REASON_REQUEST_ID_REUSED"  # it fails alone
    assert isinstance(batch[1], Decision)
    assert batch[1].reason is DecisionReason.USE_LIMIT_REACHED
    assert w.consent.get(auth.id).uses.total == 1


def test_a_retry_is_refused_once_the_authorization_was_revoked_or_for_other_items(w: World) -> None:
    auth = w.grant(w.alice.grant(BANK, max_uses=5)).authorization
    first = CheckQuery(BANK, w.alice.uscc, "PRE_LOAN", ("TAX_PAYMENT",), consume=True, request_id="r-1")
    assert w.consent.check(first).allowed
    wider = CheckQuery(BANK, w.alice.uscc, "PRE_LOAN", ("TAX_PAYMENT", "SI_HEADCOUNT"), consume=True, request_id="r-1")
    assert reason_of(lambda: w.consent.check(wider)) == ("INVALID_ARGUMENT", "ERROR_REASON_REQUEST_ID_REUSED")
    w.change(Action.REVOKE, w.alice.revoke(auth.name, signed_at=w.clock.at))
    assert w.consent.check(first).reason is DecisionReason.REVOKED


def test_a_frequency_period_longer_than_timedelta_can_hold_still_decides(w: World) -> None:
    # period_days is any int32 the enterprise signs; a period beyond timedelta's range (999,999,999 days) must not
    # turn every check of the key, and every batch it shares with other enterprises' checks, into INTERNAL.
    w.grant(
        w.alice.grant(
            BANK, purpose="CREDIT_EVALUATION", kind=pb.USE_LIMIT_KIND_FREQUENCY, max_uses=1, period_days=2_000_000_000
        )
    )
    w.grant(w.bob.grant(BANK, max_uses=1))
    q: dict[str, Any] = {"purpose": "CREDIT_EVALUATION"}
    assert w.check(w.alice, **q).allowed
    batch = [
        CheckQuery(BANK, w.bob.uscc, "PRE_LOAN", ("TAX_PAYMENT",), consume=True),
        CheckQuery(BANK, w.alice.uscc, "CREDIT_EVALUATION", ("TAX_PAYMENT",), consume=True),
    ]
    answers = w.consent.check_all(batch)
    assert [a.reason if isinstance(a, Decision) else a for a in answers] == [DecisionReason.AUTHORIZED] * 2
    w.clock.at += timedelta(days=20)
    assert w.check(w.alice, **q).reason is DecisionReason.USE_LIMIT_REACHED  # still the first period


def test_a_batch_may_name_the_authorization_in_some_checks_of_a_key_and_not_in_others(w: World) -> None:
    # Checks are ordered by (requester, enterprise, purpose, authorization); an unnamed authorization must not make
    # that order compare None with a name and fail the whole batch.
    auth = w.grant(w.alice.grant(BANK, max_uses=5)).authorization

    def q(authorization_id: str | None) -> CheckQuery:
        return CheckQuery(
            BANK, w.alice.uscc, "PRE_LOAN", ("TAX_PAYMENT",), consume=True, authorization_id=authorization_id
        )

    answers = w.consent.check_all([q(auth.id), q(None), q(auth.id)])
    assert [a.reason if isinstance(a, Decision) else a for a in answers] == [DecisionReason.AUTHORIZED] * 3
    assert w.consent.get(auth.id).uses.total == 3


def test_a_check_whose_request_id_holds_a_control_character_is_refused() -> None:
    # The id keys the recorded use: PostgreSQL cannot store a NUL, so such a check failed INTERNAL there.
    request = pb.CheckAuthorizationRequest(
        requester="platforms/xian",
        enterprise=f"enterprises/{make_uscc(7)}",
        purpose="PRE_LOAN",
        items=["TAX_PAYMENT"],
        consume=True,
        request_id="use\x00-1",
    )
    with pytest.raises(DomainError) as err:
        convert.check_query(request)
    assert err.value.metadata["field"] == "request_id"
