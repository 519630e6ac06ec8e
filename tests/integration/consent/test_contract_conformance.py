"""The consent service's proto contract at the edges: a page token the server never issued is INVALID_PAGE_TOKEN.

Page tokens are base64 JSON bound to their query, so a client can forge one around any position. Positions out of the
range the lists issue (a number beyond 64 bits, a time beyond year 9999, a NUL in an id) used to reach the query and
fail there as INTERNAL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import grpc
import pytest

from creditnode.consent.v1 import consent_service_pb2 as pb
from creditnode.consent.v1 import consent_service_pb2_grpc as pb_grpc
from services.consent.main import ConsentSettings, build
from services.kit.paging import encode_token
from services.kit.status import error_info
from tests.consent_support.fakes import FakeRegistry, FakeSharingList
from tests.consent_support.signing import Enterprise, make_uscc

BANK = "institutions/boc-xian"


@pytest.fixture
def node(database_url: str) -> Iterator[tuple[pb_grpc.ConsentServiceStub, FakeRegistry]]:
    registry = FakeRegistry()
    registry.add_requester(BANK)
    settings = ConsentSettings(
        listen_addr="127.0.0.1:0",
        database_url=database_url,
        registry_addr="127.0.0.1:9",
        watch_heartbeat_seconds=0.1,
        watch_lease_seconds=0.5,  # Pause waits one lease after start: keep it short
        watch_lease_margin_seconds=0.1,
    )
    server = build(settings, configure_logs=False, registry=registry, sharing=FakeSharingList())
    with grpc.insecure_channel(server.address) as channel:
        yield pb_grpc.ConsentServiceStub(channel), registry
    server.stop(0)


def _fails_with_bad_token(call: Callable[[], object]) -> None:
    with pytest.raises(grpc.RpcError) as err:
        call()
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, err.value.details()
    info = error_info(err.value)
    assert info is not None
    assert info.reason == "ERROR_REASON_INVALID_PAGE_TOKEN"
    assert info.metadata["field"] == "page_token"


@pytest.mark.parametrize(
    "after",
    [
        "99999999999999999999:" + "0" * 32,  # a time far beyond year 9999
        "1:a\x00b",  # a NUL where the authorization id goes
        "1:" + "z" * 32,  # not an authorization id
        "1",  # no id at all
        "١٢:" + "0" * 32,  # digits of another script
    ],
)
def test_a_forged_authorizations_page_token_is_invalid_page_token(
    node: tuple[pb_grpc.ConsentServiceStub, FakeRegistry], after: str
) -> None:
    consent, registry = node
    enterprise = Enterprise(make_uscc(31))
    registry.add_enterprise(enterprise)
    consent.GrantAuthorization(enterprise.grant(BANK), timeout=10)
    token = encode_token(after, ["authorizations", enterprise.uscc, None, None])
    request = pb.ListAuthorizationsRequest(enterprise=enterprise.name, page_token=token)
    _fails_with_bad_token(lambda: consent.ListAuthorizations(request))


@pytest.mark.parametrize("after", ["9" * 20, "١٢", "+1"])
def test_a_forged_events_or_uses_page_token_is_invalid_page_token(
    node: tuple[pb_grpc.ConsentServiceStub, FakeRegistry], after: str
) -> None:
    consent, registry = node
    enterprise = Enterprise(make_uscc(32))
    registry.add_enterprise(enterprise)
    name = consent.GrantAuthorization(enterprise.grant(BANK), timeout=10).authorization.name
    auth_id = name.removeprefix("authorizations/")
    events = pb.ListAuthorizationEventsRequest(authorization=name, page_token=encode_token(after, ["events", auth_id]))
    _fails_with_bad_token(lambda: consent.ListAuthorizationEvents(events))
    uses = pb.ListAuthorizationUsesRequest(authorization=name, page_token=encode_token(after, ["uses", auth_id]))
    _fails_with_bad_token(lambda: consent.ListAuthorizationUses(uses))


def test_issued_page_tokens_still_page_through_every_list(
    node: tuple[pb_grpc.ConsentServiceStub, FakeRegistry],
) -> None:
    consent, registry = node
    enterprise = Enterprise(make_uscc(33))
    registry.add_enterprise(enterprise)
    names = [consent.GrantAuthorization(enterprise.grant(BANK), timeout=10).authorization.name for _ in range(3)]
    seen: list[str] = []
    token = ""
    while True:
        page = consent.ListAuthorizations(
            pb.ListAuthorizationsRequest(enterprise=enterprise.name, page_size=1, page_token=token)
        )
        seen += [a.name for a in page.authorizations]
        token = page.next_page_token
        if not token:
            break
    assert sorted(seen) == sorted(names)
    assert seen == list(reversed(names))  # newest first
    name = names[0]
    consent.PauseAuthorization(enterprise.pause(name), timeout=10)
    consent.ResumeAuthorization(enterprise.resume(name), timeout=10)
    first = consent.ListAuthorizationEvents(pb.ListAuthorizationEventsRequest(authorization=name, page_size=1))
    rest = consent.ListAuthorizationEvents(
        pb.ListAuthorizationEventsRequest(authorization=name, page_size=5, page_token=first.next_page_token)
    )
    assert [e.event_type for e in [*first.events, *rest.events]] == [
        pb.EVENT_TYPE_GRANTED,
        pb.EVENT_TYPE_PAUSED,
        pb.EVENT_TYPE_RESUMED,
    ]
