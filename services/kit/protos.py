"""Helpers at the proto boundary: enum name mapping, timestamps, and request fingerprints for idempotency."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp

from services.kit.validation import invalid

E = TypeVar("E", bound=StrEnum)


def to_proto_enum(enum_type: Any, prefix: str, value: StrEnum) -> Any:
    """Domain ``PlatformStatus.ADMITTED`` -> proto ``PLATFORM_STATUS_ADMITTED`` (Any: stubs type enums as classes)."""
    return enum_type.Value(f"{prefix}_{value.value}")


def from_proto_enum(enum_type: Any, prefix: str, number: int, domain: type[E], field: str) -> E:
    """Proto enum number -> domain enum; UNSPECIFIED or unknown numbers are INVALID_ARGUMENT naming ``field``."""
    try:
        name = enum_type.Name(number)
    except ValueError:
        raise invalid(field, "unknown value") from None
    short = name.removeprefix(f"{prefix}_")
    if short == "UNSPECIFIED" or short not in domain.__members__:
        raise invalid(field, "is required")
    return domain(short)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def timestamp(dt: datetime | None) -> Timestamp | None:
    """Exact to the microsecond, in integer arithmetic (on every response path, so kept cheap)."""
    if dt is None:
        return None
    if dt.utcoffset() is None:
        # A naive value is no instant: astimezone() would read it as the host's local time (eight hours off under
        # TZ=Asia/Shanghai), protobuf as UTC. Times are aware from the store down (kit.db.UtcDateTime).
        raise ValueError("a Timestamp is made from a timezone-aware datetime")
    delta = dt - _EPOCH
    return Timestamp(seconds=delta.days * 86_400 + delta.seconds, nanos=delta.microseconds * 1000)


def from_timestamp(ts: Timestamp, field: str, *, required: bool = True) -> datetime | None:
    if ts.seconds == 0 and ts.nanos == 0:
        if required:
            raise invalid(field, "is required")
        return None
    try:
        return ts.ToDatetime(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise invalid(field, "is out of range") from None


def fingerprint(message: Message, *clear: str) -> str:
    """SHA-256 of the message with the named (dotted) fields cleared: what a retry must repeat exactly."""
    copy = type(message)()
    copy.CopyFrom(message)
    for path in clear:
        *parents, leaf = path.split(".")
        target: Any = copy
        for p in parents:
            target = getattr(target, p)
        target.ClearField(leaf)
    return hashlib.sha256(copy.SerializeToString(deterministic=True)).hexdigest()
