"""``PlatformClient``: what a city platform (or 秦信融) links to call the node's gateway.

    with PlatformClient.connect("node.example:443", ca_pem, cert_pem, key_pem) as client:  # closed on leaving
        report = client.credit_report("enterprises/9161...", "PRE_LOAN", items=["REG_BASIC", "TAX_PAYMENT"])
        for record in report.released: ...
        # An enterprise's objection, signed with its registry key on its side (an institution's is filed unsigned):
        filed = client.file_objection(ObjectionSigner(enterprise, key_id, key).sign(objection))

Errors come back as ``GatewayError`` with the gRPC code and the creditnode ``ErrorReason`` name.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

import grpc
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from google.protobuf.message import DecodeError
from google.protobuf.timestamp_pb2 import Timestamp

from creditnode.consent.v1 import consent_service_pb2 as cpb
from creditnode.gateway.v1 import gateway_service_pb2 as pb
from creditnode.gateway.v1 import gateway_service_pb2_grpc as pb_grpc
from creditnode.objection.v1 import objection_service_pb2 as opb
from creditnode.registry.v1 import records_pb2 as rec
from services.gateway.domain.objection_signing import SignedObjection
from services.gateway.domain.objection_signing import canonical_lines as canonical_objection_lines
from services.gateway.domain.selfquery import SignedSelfQuery, canonical_lines
from services.kit.status import error_info

T = TypeVar("T")


class GatewayError(Exception):
    """A refused or failed call: ``code`` is the gRPC status, ``reason`` the ErrorReason name, ``metadata`` the
    ErrorInfo's (``field`` names what was wrong; ``receipt_leaf_index`` is a refusal's denial leaf). ``request_id`` is
    the id the call carried (one the library made up included): a retry under it is the same request, so a report
    that failed without an answer spends no second use when asked again with ``request_id=err.request_id``."""

    def __init__(
        self,
        code: grpc.StatusCode,
        reason: str,
        message: str,
        metadata: dict[str, str] | None = None,
        request_id: str = "",
    ) -> None:
        super().__init__(f"{code.name} {reason}: {message}")
        self.code = code
        self.reason = reason
        self.message = message
        self.metadata = metadata or {}
        self.request_id = request_id


@dataclass(frozen=True)
class CreditReport:
    """A credit report as released: records (masked), what was withheld and why, and the disclosure receipt."""

    released: list[rec.CreditRecord]
    in_dispute: list[str]
    withheld: dict[str, str]
    authorization: str
    fully_authorized: bool
    receipt_leaf_index: int
    # The request id the report was asked under (made up when the caller gave none).
    request_id: str = ""


@dataclass(frozen=True)
class SelfQuerySigner:
    """The enterprise's side: signs a self-query with its registry key (it never leaves the enterprise)."""

    enterprise: str
    key_id: str
    key: Ed25519PrivateKey

    def sign(self, item_codes: Sequence[str] = (), *, page_size: int = 0, page_token: str = "") -> pb.SelfQueryRequest:
        """One signed page request: the first without ``page_token``, each next with the previous page's token."""
        signed_at = datetime.now(UTC).replace(microsecond=0)
        nonce = secrets.token_hex(16)
        query = SignedSelfQuery(
            self.enterprise, tuple(item_codes), self.key_id, nonce, signed_at, b"", page_size, page_token
        )
        ts = Timestamp()
        ts.FromDatetime(signed_at)
        return pb.SelfQueryRequest(
            enterprise=self.enterprise,
            item_codes=list(item_codes),
            signature=pb.EnterpriseSignature(
                key_id=self.key_id, nonce=nonce, signed_at=ts, signature=self.key.sign(canonical_lines(query))
            ),
            page_size=page_size,
            page_token=page_token,
        )


class PageSigner(Protocol):
    """Whoever holds the enterprise's key and signs each page request (``SelfQuerySigner``, or a call to the
    enterprise's own signing tool: the platform never holds the key)."""

    def sign(
        self, item_codes: Sequence[str] = (), *, page_size: int = 0, page_token: str = ""
    ) -> pb.SelfQueryRequest: ...


@dataclass(frozen=True)
class ObjectionSigner:
    """The enterprise's side of an objection it files: signs every field the gateway relays (see
    FileObjectionRequest in the proto) with its registry key. A retry is signed again from what was sent,
    ``sign(signed.objection)``: the same request_id and receive_time, a new nonce (signing the original objection again
    makes up both anew: another objection, or, with the request_id copied over, a receive_time the objection service
    refuses as REQUEST_ID_REUSED)."""

    enterprise: str
    key_id: str
    key: Ed25519PrivateKey

    def sign(self, objection: opb.FileObjectionRequest) -> pb.FileObjectionRequest:
        """A copy of ``objection`` filed as this enterprise, signed. ``filer_kind`` is set; filled in when unset:
        ``filer``, ``enterprise``, ``receive_time`` (now; a zero Timestamp counts as unset) and ``request_id`` (random);
        ``receive_time`` is kept to whole seconds, as signed."""
        signed_at = datetime.now(UTC).replace(microsecond=0)
        nonce = secrets.token_hex(16)
        o = opb.FileObjectionRequest()
        o.CopyFrom(objection)
        o.filer_kind = opb.FILER_KIND_ENTERPRISE
        o.filer = o.filer or self.enterprise
        o.enterprise = o.enterprise or self.enterprise.removeprefix("enterprises/")
        o.request_id = o.request_id or secrets.token_hex(16)
        o.receive_time.nanos = 0
        if o.receive_time.seconds == 0:
            # The gateway reads a zero Timestamp as none (kit/protos.from_timestamp) and verifies "receive_time=":
            # signing it as 1970-01-01 would never verify, so it is filled in as an unset one.
            o.receive_time.FromDatetime(signed_at)
        lines = canonical_objection_lines(
            SignedObjection(
                enterprise=o.enterprise,
                filer=o.filer,
                records=tuple((r.record, r.version) for r in o.records),
                evaluation=o.evaluation,
                reasons=o.reasons,
                attachment_sha256=tuple(o.attachment_sha256),
                statement=o.statement,
                receive_time=o.receive_time.ToDatetime(UTC),
                request_id=o.request_id,
                key_id=self.key_id,
                nonce=nonce,
                signed_at=signed_at,
                signature=b"",
            )
        )
        ts = Timestamp()
        ts.FromDatetime(signed_at)
        return pb.FileObjectionRequest(
            objection=o,
            signature=pb.EnterpriseSignature(
                key_id=self.key_id, nonce=nonce, signed_at=ts, signature=self.key.sign(lines)
            ),
        )


class PlatformClient:
    """One channel to the gateway, authenticated by the platform's certificate from the registry."""

    def __init__(self, channel: grpc.Channel, *, on_behalf_of: str = "", timeout: float = 10.0) -> None:
        self.channel = channel
        self.stub = pb_grpc.GatewayServiceStub(channel)
        self.on_behalf_of = on_behalf_of
        self.timeout = timeout

    @classmethod
    def connect(
        cls,
        address: str,
        ca_pem: bytes,
        cert_pem: bytes,
        key_pem: bytes,
        *,
        on_behalf_of: str = "",
        server_name: str = "",
    ) -> PlatformClient:
        creds = grpc.ssl_channel_credentials(root_certificates=ca_pem, private_key=key_pem, certificate_chain=cert_pem)
        options = [("grpc.ssl_target_name_override", server_name)] if server_name else []
        return cls(grpc.secure_channel(address, creds, options=options), on_behalf_of=on_behalf_of)

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> PlatformClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: Any, request: Any, request_id: str = "") -> Any:
        try:
            return method(request, timeout=self.timeout)
        except grpc.RpcError as exc:
            try:
                info = error_info(exc)
            except (ValueError, AttributeError, DecodeError):
                # A status trailer that is no google.rpc.Status (a broken proxy, another server): the code still holds.
                info = None
            reason, metadata = (info.reason, dict(info.metadata)) if info else ("", {})
            raise GatewayError(exc.code(), reason, exc.details() or "", metadata, request_id) from None

    def credit_report(
        self,
        enterprise: str,
        purpose: str,
        *,
        items: Sequence[str] = (),
        categories: Sequence[int] = (),
        institution: str = "",
        request_id: str = "",
    ) -> CreditReport:
        """The report; without ``request_id`` one is made up, and kept on the report or the ``GatewayError`` so a
        retry can repeat it (a use of a limited authorization is recorded once per request id)."""
        request_id = request_id or secrets.token_hex(16)
        resp: pb.GetCreditReportResponse = self._call(
            self.stub.GetCreditReport,
            pb.GetCreditReportRequest(
                enterprise=enterprise,
                purpose=purpose,
                item_codes=list(items),
                categories=list(categories),  # type: ignore[arg-type]
                institution=institution,
                on_behalf_of=self.on_behalf_of,
                request_id=request_id,
            ),
            request_id,
        )
        return CreditReport(
            released=[r.record for r in resp.records],
            in_dispute=[r.record.name for r in resp.records if r.in_dispute],
            withheld={
                d.item_code: pb.WithheldReason.Name(d.withheld_reason)
                for d in resp.items
                if d.decision == pb.DECISION_DENY
            },
            authorization=resp.authorization,
            fully_authorized=resp.decision == pb.DECISION_ALLOW,
            receipt_leaf_index=resp.receipt.leaf_index,
            request_id=request_id,
        )

    def self_query(self, request: pb.SelfQueryRequest) -> pb.SelfQueryResponse:
        request.on_behalf_of = self.on_behalf_of
        result: pb.SelfQueryResponse = self._call(self.stub.SelfQuery, request)
        return result

    def self_query_pages(
        self, signer: PageSigner, item_codes: Sequence[str] = (), *, page_size: int = 0
    ) -> Iterator[pb.SelfQueryResponse]:
        """Every page of a self-query, each signed afresh with the previous page's token: the first carries the
        records, all together the whole disclosure history, oldest first, each entry once."""
        token = ""
        while True:
            page = self.self_query(signer.sign(item_codes, page_size=page_size, page_token=token))
            yield page
            token = page.next_page_token
            if not token:
                return

    def self_query_history(
        self, signer: PageSigner, item_codes: Sequence[str] = (), *, page_size: int = 0
    ) -> tuple[list[rec.CreditRecord], list[pb.Disclosure]]:
        """The enterprise's records (raw) and its whole disclosure history, read page by page."""
        records: list[rec.CreditRecord] = []
        history: list[pb.Disclosure] = []
        for page in self.self_query_pages(signer, item_codes, page_size=page_size):
            records.extend(r.record for r in page.records)
            history.extend(page.disclosures)
        return records, history

    def file_objection(self, request: pb.FileObjectionRequest | opb.FileObjectionRequest) -> opb.Objection:
        """Files an objection the platform received: an enterprise's as ``ObjectionSigner(...).sign(...)`` made it
        (the gateway refuses it unsigned), an institution's (one of this platform's) as it is, with a random
        ``request_id`` when it has none. A retry repeats the request id (``GatewayError.request_id``): the objection
        service answers it with the first result."""
        if isinstance(request, opb.FileObjectionRequest):
            request = pb.FileObjectionRequest(objection=request)
            # Without one the objection service makes up the objection's id, and a retry would file a second: this
            # one goes back on the GatewayError for the retry to repeat (an enterprise's got one when signed).
            request.objection.request_id = request.objection.request_id or secrets.token_hex(16)
        request.on_behalf_of = self.on_behalf_of
        resp = self._call(self.stub.FileObjection, request, request.objection.request_id)
        return resp.result.objection  # type: ignore[no-any-return]

    def get_objection(self, name: str) -> opb.Objection:
        resp = self._call(self.stub.GetObjection, pb.GetObjectionRequest(name=name, on_behalf_of=self.on_behalf_of))
        return resp.result.objection  # type: ignore[no-any-return]

    def grant(self, grant: cpb.GrantAuthorizationRequest) -> cpb.Authorization:
        resp = self._call(
            self.stub.GrantAuthorization, pb.GrantAuthorizationRequest(grant=grant, on_behalf_of=self.on_behalf_of)
        )
        return resp.result.authorization  # type: ignore[no-any-return]

    def pause(self, pause: cpb.PauseAuthorizationRequest) -> cpb.Authorization:
        resp = self._call(
            self.stub.PauseAuthorization, pb.PauseAuthorizationRequest(pause=pause, on_behalf_of=self.on_behalf_of)
        )
        return resp.result.authorization  # type: ignore[no-any-return]

    def resume(self, resume: cpb.ResumeAuthorizationRequest) -> cpb.Authorization:
        resp = self._call(
            self.stub.ResumeAuthorization, pb.ResumeAuthorizationRequest(resume=resume, on_behalf_of=self.on_behalf_of)
        )
        return resp.result.authorization  # type: ignore[no-any-return]

    def revoke(self, revoke: cpb.RevokeAuthorizationRequest) -> cpb.Authorization:
        """Returns once no gateway replica can release under the authorization any more."""
        resp = self._call(
            self.stub.RevokeAuthorization, pb.RevokeAuthorizationRequest(revoke=revoke, on_behalf_of=self.on_behalf_of)
        )
        return resp.result.authorization  # type: ignore[no-any-return]
