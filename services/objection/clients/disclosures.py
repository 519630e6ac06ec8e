"""DisclosureLog over the gateway's evidence log (``creditnode.evidence.v1.EvidenceLogService``, DISCLOSURE leaves).

Leaf payloads read, as the gateway writes them for a credit report (keys this adapter relies on)::

    {"type": "credit_report", "requester": "platforms/xian" | "institutions/bank-a",
     "enterprise": "enterprises/<uscc>", "released": ["TAX_PAYMENT", ...], ...}

``released`` names the sharing-list items released ("evaluation" for an evaluation); a leaf that released nothing
(a denial, or a report answered with nothing in it) is not a disclosure. ``recipient`` / ``items`` are accepted as
synonyms. Leaves of other types (an enterprise's self-query) are ignored. Only the enterprise's DISCLOSURE leaves are
read: the gateway's log finds them by its subject index (``payload_equals`` on ``enterprise``), so every leaf read is
about the enterprise.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp

from creditnode.evidence.v1 import evidence_log_service_pb2 as ev
from creditnode.evidence.v1 import evidence_log_service_pb2_grpc as ev_grpc
from services.kit.errors import Unavailable
from services.objection.domain import Recipient, RecipientKind

_PAGE = 1000


def _ts(at: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(at)
    return ts


def _recipient(name: object) -> Recipient | None:
    if not isinstance(name, str):
        return None
    if name.startswith("platforms/"):
        return Recipient(RecipientKind.PLATFORM, name)
    if name.startswith("institutions/"):
        return Recipient(RecipientKind.INSTITUTION, name)
    return None


def _requester(payload: dict[str, Any]) -> object:
    return payload.get("requester", payload.get("recipient"))


def _items(payload: dict[str, Any]) -> list[str]:
    items = payload.get("released", payload.get("items"))
    return [i for i in items if isinstance(i, str)] if isinstance(items, list) else []


def _released_record(payload: dict[str, Any], record_id: str) -> bool:
    """Whether the release included the record. A leaf lists at most RECORDS_LISTED record ids: past that, every
    release of the item counts (a notice too many rather than one missing)."""
    records = payload.get("records")
    if not isinstance(records, list):
        return True
    # The leaf names records by id; an objection by name ("enterprises/{uscc}/records/{id}").
    return record_id.rsplit("/", 1)[-1] in records or len(records) >= RECORDS_LISTED


class GrpcDisclosureLog:
    """Reads who received what from the gateway's evidence log."""

    def __init__(self, channel: grpc.Channel) -> None:
        self._stub = ev_grpc.EvidenceLogServiceStub(channel)

    def _payloads(self, enterprise: str, start: datetime | None, end: datetime) -> Iterator[dict[str, Any]]:
        """The enterprise's credit-report leaves (the gateway names it "enterprises/{uscc}"; its log finds them by
        an index, not by reading the whole log)."""
        name = enterprise if enterprise.startswith("enterprises/") else f"enterprises/{enterprise}"
        token = ""
        while True:
            request = ev.ListLeavesRequest(
                page_size=_PAGE, page_token=token, kind=ev.LEAF_KIND_DISCLOSURE, payload_equals={"enterprise": name}
            )
            request.end_time.CopyFrom(_ts(end))
            if start is not None:
                request.start_time.CopyFrom(_ts(start))
            try:
                response = self._stub.ListLeaves(request)
            except grpc.RpcError as exc:
                raise Unavailable(
                    "ERROR_REASON_DEPENDENCY_UNAVAILABLE",
                    "the gateway's disclosure log is unavailable",
                    {"code": exc.code().name},
                ) from None
            for leaf in response.leaves:
                try:
                    payload = json.loads(leaf.payload_json)
                except ValueError:
                    continue
                if isinstance(payload, dict) and payload.get("type", "credit_report") == "credit_report":
                    yield payload
            token = response.next_page_token
            if not token:
                return

    def has_received(self, recipient: Recipient, enterprise: str, before: datetime) -> bool:
        return any(_requester(p) == recipient.id and _items(p) for p in self._payloads(enterprise, None, before))

    def recipients(self, enterprise: str, item: str, until: datetime, record_id: str | None = None) -> list[Recipient]:
        seen: dict[Recipient, None] = {}
        # end_time is exclusive at the log; the domain's window is inclusive of ``until``.
        for p in self._payloads(enterprise, None, until + _EPSILON):
            if item not in _items(p):
                continue
            if record_id is not None and not _released_record(p, record_id):
                continue
            recipient = _recipient(_requester(p))
            if recipient is not None:
                seen.setdefault(recipient, None)
        return list(seen)


_EPSILON = timedelta(microseconds=1)
# The gateway lists at most this many record ids in one disclosure leaf.
RECORDS_LISTED = 200
