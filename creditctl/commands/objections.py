"""``creditctl objections overdue``: open objections past their handling period (R6)."""

from __future__ import annotations

import click

from creditctl.context import Ctl, pass_ctl
from creditctl.output import enum_short, message_dict, timestamp_text
from creditnode.objection.v1 import objection_service_pb2 as ob_pb
from creditnode.objection.v1 import objection_service_pb2_grpc as ob_grpc


@click.group()
def objections() -> None:
    """Supervise objection handling."""


@objections.command("overdue")
@click.option("--department", default="", help="Only objections routed to this department code.")
@pass_ctl
def overdue(ctl: Ctl, department: str) -> None:
    """Open objections past their handling due time, oldest first as the node lists them."""
    stub = ctl.stub("objection", ob_grpc.ObjectionServiceStub)
    dept = department if not department or department.startswith("departments/") else f"departments/{department}"
    found: list[ob_pb.Objection] = []
    token = ""
    while True:
        request = ob_pb.ListOverdueObjectionsRequest(department=dept, page_size=1000, page_token=token)
        response = ctl.call("objection", stub.ListOverdueObjections, request)
        found.extend(response.objections)
        token = response.next_page_token
        if not token:
            break
    rows = [
        (
            o.name,
            o.platform,
            enum_short(ob_pb.ObjectionStatus.Name(o.status), "OBJECTION_STATUS_"),
            timestamp_text(o.forward_time),
            timestamp_text(o.handling_due_time),
            len(o.extensions),
            len(o.lines),
        )
        for o in found
    ]
    ctl.out.emit(
        {"objections": [message_dict(o) for o in found]},
        lambda: ctl.out.table(
            f"overdue objections ({len(found)})",
            ["objection", "platform", "status", "forwarded", "handling due", "extensions", "targets"],
            rows,
        ),
    )
