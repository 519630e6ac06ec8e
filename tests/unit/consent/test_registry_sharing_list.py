"""Consent's sharing list read from the registry: category codes, refresh, a stale list's grace, then UNAVAILABLE."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent import futures

import grpc
import pytest

from creditnode.registry.v1 import sharing_list_pb2 as sl
from creditnode.registry.v1 import sharing_list_pb2_grpc as sl_grpc
from services.consent.clients.sharing_list import RegistrySharingList
from services.consent.domain.catalogue import DataItem, Openness, resolve_scope
from services.kit.errors import InvalidArgument, Unavailable
from services.registry.domain.sharing_list import Category


def _item(code: str, category: int, openness: int) -> sl.SharingListItem:
    return sl.SharingListItem(code=code, category=category, openness=openness)  # type: ignore[arg-type]


class _Lists(sl_grpc.SharingListServiceServicer):
    """A registry's SharingListService whose current list (or outage) the test sets."""

    def __init__(self) -> None:
        self.items = [
            _item("TAX_PAYMENT", sl.ITEM_CATEGORY_TAX, sl.OPENNESS_NON_PUBLIC),
            _item("SI_ARREARS", sl.ITEM_CATEGORY_SOCIAL_INSURANCE, sl.OPENNESS_NON_PUBLIC),
        ]
        self.down = False
        self.calls = 0
        self.before_answer: Callable[[], None] = lambda: None

    def GetSharingList(self, request: sl.GetSharingListRequest, context: grpc.ServicerContext) -> object:
        self.calls += 1
        self.before_answer()
        if self.down:
            context.abort(grpc.StatusCode.UNAVAILABLE, "the registry is restarting")
        return sl.GetSharingListResponse(sharing_list=sl.SharingList(version=1, items=self.items))


@pytest.fixture
def lists() -> Iterator[tuple[_Lists, grpc.Channel]]:
    servicer = _Lists()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    sl_grpc.add_SharingListServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    try:
        yield servicer, channel
    finally:
        channel.close()
        server.stop(0)


def _unavailable(call: object) -> Unavailable:
    with pytest.raises(Unavailable) as err:
        call()  # type: ignore[operator]
    assert err.value.reason == "ERROR_REASON_DEPENDENCY_UNAVAILABLE"
    return err.value


def test_registry_categories_and_openness_become_consents_codes(lists: tuple[_Lists, grpc.Channel]) -> None:
    servicer, channel = lists
    named = [c for c in sl.ItemCategory.values() if c != sl.ITEM_CATEGORY_UNSPECIFIED]
    classes = [sl.OPENNESS_PUBLIC, sl.OPENNESS_NON_PUBLIC, sl.OPENNESS_OPERATING_OPT_IN, sl.OPENNESS_COMMERCIAL_SECRET]
    servicer.items = [_item(f"ITEM_{c}_{o}", c, o) for c in named for o in classes]
    sharing = RegistrySharingList(channel, refresh_seconds=60, clock=lambda: 0.0)
    # Consent's category codes are the sharing list YAML's (the registry's Category), what grants name.
    assert {sharing.item(f"ITEM_{c}_1").category for c in named} == {c.value for c in Category}  # type: ignore[union-attr]
    assert sharing.item(f"ITEM_{sl.ITEM_CATEGORY_TAX}_1") == DataItem(
        f"ITEM_{sl.ITEM_CATEGORY_TAX}_1", "TAX", Openness.PUBLIC
    )
    assert [sharing.item(f"ITEM_{sl.ITEM_CATEGORY_TAX}_{o}").openness for o in classes] == [  # type: ignore[union-attr]
        Openness.PUBLIC,
        Openness.NON_PUBLIC,
        Openness.OPERATING_OPT_IN,
        Openness.COMMERCIAL_SECRET,
    ]
    customs = sharing.category("CUSTOMS")
    assert customs is not None
    assert sorted(i.code for i in customs) == [f"ITEM_{sl.ITEM_CATEGORY_CUSTOMS}_{o}" for o in classes]
    assert sharing.item("NOT_LISTED") is None
    assert sharing.category("NOT_A_CATEGORY") is None
    assert sharing.category("UNSPECIFIED") is None


def test_an_item_of_a_class_consent_does_not_know_is_never_authorized(lists: tuple[_Lists, grpc.Channel]) -> None:
    # A newer registry may send an openness (or a category) this consent has no name for: the item must not slip
    # into an authorization, named or through its category.
    servicer, channel = lists
    servicer.items = [
        _item("TAX_PAYMENT", sl.ITEM_CATEGORY_TAX, sl.OPENNESS_NON_PUBLIC),
        _item("TAX_NEW_CLASS", sl.ITEM_CATEGORY_TAX, 99),
        _item("NEW_CATEGORY_ITEM", 99, sl.OPENNESS_PUBLIC),
    ]
    sharing = RegistrySharingList(channel, refresh_seconds=60, clock=lambda: 0.0)
    with pytest.raises(InvalidArgument) as err:
        resolve_scope(["TAX_NEW_CLASS"], [], sharing)
    assert err.value.reason == "ERROR_REASON_COMMERCIAL_SECRET"
    assert resolve_scope([], ["TAX"], sharing) == {"TAX_PAYMENT"}
    assert resolve_scope(["NEW_CATEGORY_ITEM"], [], sharing) == {"NEW_CATEGORY_ITEM"}


def test_a_published_version_is_seen_after_the_refresh_period(lists: tuple[_Lists, grpc.Channel]) -> None:
    servicer, channel = lists
    now = [0.0]
    sharing = RegistrySharingList(channel, refresh_seconds=60, clock=lambda: now[0])
    assert resolve_scope(["SI_ARREARS"], [], sharing) == {"SI_ARREARS"}
    servicer.items = [
        _item("TAX_PAYMENT", sl.ITEM_CATEGORY_TAX, sl.OPENNESS_NON_PUBLIC),
        _item("SI_ARREARS", sl.ITEM_CATEGORY_SOCIAL_INSURANCE, sl.OPENNESS_COMMERCIAL_SECRET),
        _item("TAX_QUARTERLY", sl.ITEM_CATEGORY_TAX, sl.OPENNESS_NON_PUBLIC),
    ]
    now[0] = 59.0
    assert sharing.item("TAX_QUARTERLY") is None  # within the period: the list read before
    assert servicer.calls == 1
    now[0] = 60.0
    assert sharing.item("TAX_QUARTERLY") == DataItem("TAX_QUARTERLY", "TAX", Openness.NON_PUBLIC)
    assert sharing.item("SI_ARREARS").openness is Openness.COMMERCIAL_SECRET  # type: ignore[union-attr]
    with pytest.raises(InvalidArgument) as err:
        resolve_scope(["SI_ARREARS"], [], sharing)
    assert err.value.reason == "ERROR_REASON_COMMERCIAL_SECRET"
    assert resolve_scope([], ["TAX", "SOCIAL_INSURANCE"], sharing) == {"TAX_PAYMENT", "TAX_QUARTERLY"}
    assert servicer.calls == 2


def test_a_stale_list_classifies_for_five_periods_then_consent_fails_closed(
    lists: tuple[_Lists, grpc.Channel],
) -> None:
    servicer, channel = lists
    now = [0.0]
    sharing = RegistrySharingList(channel, refresh_seconds=60, clock=lambda: now[0])
    assert sharing.item("TAX_PAYMENT") is not None
    servicer.down = True
    now[0] = 61.0
    assert sharing.item("TAX_PAYMENT") is not None  # the registry is away: the last list still classifies
    calls = servicer.calls
    assert sharing.category("TAX") is not None
    assert servicer.calls == calls  # a failed refresh is retried a second later, not by every grant
    now[0] = 301.0
    # Five periods without an answer: never "not on the list", which would be a wrong, final answer.
    _unavailable(lambda: sharing.item("TAX_PAYMENT"))
    _unavailable(lambda: sharing.item("NOT_LISTED"))
    _unavailable(lambda: sharing.category("TAX"))
    _unavailable(lambda: resolve_scope(["TAX_PAYMENT"], [], sharing))
    servicer.down = False
    now[0] = 302.5
    assert sharing.item("TAX_PAYMENT") is not None


def test_with_no_list_read_yet_nothing_is_classified(lists: tuple[_Lists, grpc.Channel]) -> None:
    servicer, channel = lists
    servicer.down = True
    sharing = RegistrySharingList(channel, refresh_seconds=60, clock=lambda: 0.0)
    _unavailable(lambda: sharing.item("TAX_PAYMENT"))
    _unavailable(lambda: sharing.category("TAX"))


def test_a_refresh_in_flight_holds_up_no_grant_while_a_list_is_held(lists: tuple[_Lists, grpc.Channel]) -> None:
    servicer, channel = lists
    now = [0.0]
    sharing = RegistrySharingList(channel, refresh_seconds=60, clock=lambda: now[0])
    assert sharing.item("TAX_PAYMENT") is not None
    now[0] = 61.0  # a refresh is due
    refreshing, other_answered = threading.Event(), threading.Event()
    answered_during_refresh: list[bool] = []

    def slow() -> None:
        refreshing.set()
        # The registry answers only once the other look-up was answered; the wait's bound only keeps a regression
        # from hanging the suite (it then fails below).
        answered_during_refresh.append(other_answered.wait(timeout=4))

    servicer.before_answer = slow
    refresher = threading.Thread(target=sharing.item, args=("TAX_PAYMENT",))
    refresher.start()
    refreshing.wait()
    other: list[DataItem | None] = []

    def ask() -> None:
        other.append(sharing.item("TAX_PAYMENT"))
        other_answered.set()

    asker = threading.Thread(target=ask)
    asker.start()
    asker.join()
    refresher.join()
    assert answered_during_refresh == [True]  # answered from the list held, not after the registry's call
    assert other == [DataItem("TAX_PAYMENT", "TAX", Openness.NON_PUBLIC)]


def test_a_refresh_that_failed_slowly_is_retried_a_second_after_it_ended(lists: tuple[_Lists, grpc.Channel]) -> None:
    servicer, channel = lists
    now = [0.0]
    sharing = RegistrySharingList(channel, refresh_seconds=60, clock=lambda: now[0])
    assert sharing.item("TAX_PAYMENT") is not None
    servicer.down = True

    def hanging() -> None:
        now[0] += 5.0  # the registry never answers: the call ends at its deadline

    servicer.before_answer = hanging
    now[0] = 61.0
    assert sharing.item("TAX_PAYMENT") is not None
    calls = servicer.calls
    now[0] += 0.5
    assert sharing.item("TAX_PAYMENT") is not None
    assert servicer.calls == calls  # not called again at once, the moment the last call gave up
