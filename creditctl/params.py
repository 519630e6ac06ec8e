"""Shared option types and decorators: times, platform names, and the ``change`` every mutation carries."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import click
from google.protobuf.timestamp_pb2 import Timestamp

from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from services.kit.workdays import SHANGHAI

F = TypeVar("F", bound=Callable[..., Any])


class MomentType(click.ParamType[datetime]):
    """A date (``2026-03-31``: 00:00 that day in Xi'an) or an ISO 8601 time; one without an offset is Beijing time.

    The node's days are Asia/Shanghai days (deadlines, quotas, supervision's daily rules): a date read as UTC
    midnight began at 08:00 in Xi'an, so ``findings run --since D --until D+1`` covered two of the node's days and
    ``log --since D`` missed that day's first eight hours. A time given with an offset (``Z``, ``+08:00``) is kept.
    """

    name = "TIME"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            self.fail(f"{value!r} is not a date (YYYY-MM-DD) or an ISO 8601 time", param, ctx)
        moment = parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)
        try:
            moment.astimezone(UTC)  # what a protobuf Timestamp holds: years 1 to 9999 in UTC
        except OverflowError:
            self.fail(f"{value!r} is outside the years 0001-9999 in UTC", param, ctx)
        return moment


MOMENT = MomentType()


def timestamp(moment: datetime) -> Timestamp:
    ts = Timestamp()
    ts.FromDatetime(moment)
    return ts


def platform_name(platform: str) -> str:
    """Accept ``xian`` or ``platforms/xian``."""
    return platform if platform.startswith("platforms/") else f"platforms/{platform}"


def change_options(func: F) -> F:
    """The who/why of a mutation: --actor (or CREDITCTL_ACTOR), --reason, --evidence, --etag, --request-id."""
    decorators = [
        click.option(
            "--actor",
            envvar="CREDITCTL_ACTOR",
            required=True,
            help="Operator account making the change (not a personal name); env CREDITCTL_ACTOR.",
        ),
        click.option("--reason", required=True, help="Why, in words."),
        click.option("--evidence", multiple=True, help="A ticket or document reference (repeatable)."),
        click.option("--etag", default="", help="Make the change conditional on this etag."),
        click.option("--request-id", default="", help="Idempotency key; a fresh UUID when omitted."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def make_change(actor: str, reason: str, evidence: tuple[str, ...], etag: str, request_id: str) -> admin_pb.Change:
    return admin_pb.Change(
        actor=actor,
        reason=reason,
        evidence=list(evidence),
        etag=etag,
        request_id=request_id or str(uuid.uuid4()),
    )


def env_default(name: str, fallback: str) -> str:
    return os.environ.get(name, fallback)
