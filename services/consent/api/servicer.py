"""gRPC servicer of ConsentService: thin translation between the wire and the use cases."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc
import structlog

from creditnode.consent.v1 import consent_service_pb2 as pb
from creditnode.consent.v1 import consent_service_pb2_grpc as pb_grpc
from services.consent.api import convert
from services.consent.domain.model import invalid_field, parse_authorization, parse_enterprise, parse_requester
from services.consent.domain.signing import Action
from services.consent.usecases import CheckQuery, Consent
from services.consent.watch import Session, WatchHub
from services.kit.errors import DomainError
from services.kit.paging import decode_token, encode_token, page_size

log = structlog.get_logger("consent.api")

# The most checks one BatchCheckAuthorizations call may hold (as the proto says).
MAX_BATCH_CHECKS = 100


class ConsentServicer(pb_grpc.ConsentServiceServicer):
    """ConsentService over the use cases and the watch hub."""

    def __init__(self, consent: Consent, hub: WatchHub) -> None:
        self._consent = consent
        self._hub = hub

    def GrantAuthorization(
        self, request: pb.GrantAuthorizationRequest, context: grpc.ServicerContext
    ) -> pb.GrantAuthorizationResponse:
        outcome = self._consent.grant(convert.grant_request(request))
        return pb.GrantAuthorizationResponse(
            authorization=convert.authorization(outcome.authorization), receipt=convert.receipt(outcome.receipt)
        )

    def PauseAuthorization(
        self, request: pb.PauseAuthorizationRequest, context: grpc.ServicerContext
    ) -> pb.PauseAuthorizationResponse:
        outcome = self._consent.change(convert.lifecycle_request(Action.PAUSE, request))
        return pb.PauseAuthorizationResponse(
            authorization=convert.authorization(outcome.authorization), receipt=convert.receipt(outcome.receipt)
        )

    def ResumeAuthorization(
        self, request: pb.ResumeAuthorizationRequest, context: grpc.ServicerContext
    ) -> pb.ResumeAuthorizationResponse:
        outcome = self._consent.change(convert.lifecycle_request(Action.RESUME, request))
        return pb.ResumeAuthorizationResponse(
            authorization=convert.authorization(outcome.authorization), receipt=convert.receipt(outcome.receipt)
        )

    def RevokeAuthorization(
        self, request: pb.RevokeAuthorizationRequest, context: grpc.ServicerContext
    ) -> pb.RevokeAuthorizationResponse:
        outcome = self._consent.change(convert.lifecycle_request(Action.REVOKE, request))
        return pb.RevokeAuthorizationResponse(
            authorization=convert.authorization(outcome.authorization), receipt=convert.receipt(outcome.receipt)
        )

    def GetAuthorization(
        self, request: pb.GetAuthorizationRequest, context: grpc.ServicerContext
    ) -> pb.GetAuthorizationResponse:
        auth = self._consent.get(parse_authorization(request.name, "name"))
        return pb.GetAuthorizationResponse(authorization=convert.authorization(auth))

    def ListAuthorizations(
        self, request: pb.ListAuthorizationsRequest, context: grpc.ServicerContext
    ) -> pb.ListAuthorizationsResponse:
        enterprise = parse_enterprise(request.enterprise)
        requester = parse_requester(request.requester) if request.requester else None
        state = convert.state_filter(request.state)
        query = ["authorizations", enterprise, requester, state]
        after = decode_token(request.page_token, query)
        page = self._consent.list_authorizations(enterprise, requester, state, after, page_size(request.page_size))
        return pb.ListAuthorizationsResponse(
            authorizations=[convert.authorization(a) for a in page.items],
            next_page_token=encode_token(page.next_after, query) if page.next_after else "",
        )

    def ListAuthorizationEvents(
        self, request: pb.ListAuthorizationEventsRequest, context: grpc.ServicerContext
    ) -> pb.ListAuthorizationEventsResponse:
        auth_id = parse_authorization(request.authorization)
        query = ["events", auth_id]
        after = decode_token(request.page_token, query)
        page = self._consent.list_events(auth_id, after, page_size(request.page_size))
        auth = self._consent.get(auth_id)
        events = []
        for e in page.items:
            as_of = auth.copy()
            as_of.state, as_of.revision, as_of.updated_at = e.state_after, e.revision, e.receipt.recorded_at
            events.append(convert.event(e, as_of))
        return pb.ListAuthorizationEventsResponse(
            events=events, next_page_token=encode_token(page.next_after, query) if page.next_after else ""
        )

    def ListAuthorizationUses(
        self, request: pb.ListAuthorizationUsesRequest, context: grpc.ServicerContext
    ) -> pb.ListAuthorizationUsesResponse:
        auth_id = parse_authorization(request.authorization)
        query = ["uses", auth_id]
        after = decode_token(request.page_token, query)
        page = self._consent.list_uses(auth_id, after, page_size(request.page_size))
        return pb.ListAuthorizationUsesResponse(
            uses=[convert.use(u) for u in page.items],
            next_page_token=encode_token(page.next_after, query) if page.next_after else "",
        )

    def CheckAuthorization(
        self, request: pb.CheckAuthorizationRequest, context: grpc.ServicerContext
    ) -> pb.CheckAuthorizationResponse:
        return convert.decision(self._consent.check(convert.check_query(request)))

    def BatchCheckAuthorizations(
        self, request: pb.BatchCheckAuthorizationsRequest, context: grpc.ServicerContext
    ) -> pb.BatchCheckAuthorizationsResponse:
        if not 1 <= len(request.requests) <= MAX_BATCH_CHECKS:
            raise invalid_field("requests", f"must hold 1-{MAX_BATCH_CHECKS} checks")
        results: list[pb.CheckAuthorizationResult] = []
        queries: list[CheckQuery] = []
        for check in request.requests:
            try:
                queries.append(convert.check_query(check))
                results.append(pb.CheckAuthorizationResult())  # answered below
            except DomainError as exc:  # a malformed check fails alone
                results.append(pb.CheckAuthorizationResult(error=convert.check_error(exc)))
        answers = iter(self._consent.check_all(queries))
        for result in results:
            if not result.HasField("error"):
                answer = next(answers)
                if isinstance(answer, DomainError):  # this check alone fails
                    result.error.CopyFrom(convert.check_error(answer))
                else:
                    result.response.CopyFrom(convert.decision(answer))
        return pb.BatchCheckAuthorizationsResponse(results=results)

    def ListPurposes(self, request: pb.ListPurposesRequest, context: grpc.ServicerContext) -> pb.ListPurposesResponse:
        query = ["purposes"]
        after = decode_token(request.page_token, query)
        size = page_size(request.page_size)
        rest = [p for p in self._consent.list_purposes() if after is None or p.code > after]
        page = rest[:size]
        more = len(rest) > size
        return pb.ListPurposesResponse(
            purposes=[convert.purpose(p) for p in page],
            next_page_token=encode_token(page[-1].code, query) if more else "",
        )

    def WatchAuthorizations(
        self, request_iterator: Iterator[pb.WatchAuthorizationsRequest], context: grpc.ServicerContext
    ) -> Iterator[pb.WatchAuthorizationsResponse]:
        first = next(request_iterator, None)
        if first is None or first.WhichOneof("kind") != "start":
            raise invalid_field("start", "the first message of a watch must be a start")
        start = first.start
        if not 1 <= len(start.replica) <= 100:
            raise invalid_field("start.replica", "must be 1-100 characters")
        session = self._hub.open(start.replica)
        context.add_callback(lambda: self._hub.disconnect(session))
        reader = threading.Thread(
            target=self._read_acks, args=(request_iterator, session), name="consent-watch-acks", daemon=True
        )
        reader.start()
        timing = self._hub.timing
        lease, heartbeat = convert.duration(timing.lease), convert.duration(timing.heartbeat)
        for message in self._hub.messages(session, start.start_revision):
            yield pb.WatchAuthorizationsResponse(
                events=[
                    pb.AuthorizationEvent(event_type=pb.EVENT_TYPE_GRANTED, authorization=convert.authorization(auth))
                    if e is None
                    else convert.event(e, auth, with_receipt=False)
                    for e, auth in message.changes
                ],
                revision=message.revision,
                snapshot_complete=message.snapshot_complete,
                reset=message.reset,
                acknowledged=message.acknowledged,
                lease=lease,
                heartbeat_interval=heartbeat,
            )

    def _read_acks(self, requests: Iterator[pb.WatchAuthorizationsRequest], session: Session) -> None:
        try:
            for request in requests:
                if request.WhichOneof("kind") == "ack":
                    self._hub.ack(session, request.ack.ack_id, request.ack.revision)
        except grpc.RpcError:
            pass  # the stream ended; the session stays until its lease lapses
        except Exception:  # an ack reader must never take the stream down with an unhandled error
            log.warning("watch_ack_reader_failed", replica=session.replica, exc_info=True)
        finally:
            self._hub.disconnect(session)


def register(server: grpc.Server, servicer: ConsentServicer) -> list[str]:
    pb_grpc.add_ConsentServiceServicer_to_server(servicer, server)
    return [pb.DESCRIPTOR.services_by_name["ConsentService"].full_name]
