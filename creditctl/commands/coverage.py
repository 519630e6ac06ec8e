"""``creditctl coverage``: the "three full coverages" counts (R9) at one moment."""

from __future__ import annotations

from datetime import datetime

import click

from creditctl.context import Ctl, pass_ctl
from creditctl.output import message_dict, timestamp_text
from creditctl.params import MOMENT, timestamp
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from creditnode.registry.v1 import registry_service_pb2_grpc as rs_grpc


@click.command()
@click.option("--as-of", type=MOMENT, help="Count as of this date or time (default: now).")
@pass_ctl
def coverage(ctl: Ctl, as_of: datetime | None) -> None:
    """Admitted platforms per region, connected institutions, registered enterprises and departments."""
    request = rs_pb.GetCoverageRequest(as_of=timestamp(as_of)) if as_of else rs_pb.GetCoverageRequest()
    stub = ctl.stub("registry", rs_grpc.RegistryServiceStub)
    response = ctl.call("registry", stub.GetCoverage, request)

    def human() -> None:
        ctl.out.fields(
            f"coverage as of {timestamp_text(response.as_of)}",
            [
                ("platforms admitted", response.platforms_admitted),
                ("institutions connected", response.institutions_connected),
                ("enterprises registered", response.enterprises_registered),
                ("departments registered", response.departments_registered),
            ],
        )
        rows = [(r.region_code, r.platforms_admitted) for r in response.regions]
        ctl.out.table("admitted platforms by region", ["region", "platforms"], rows)

    ctl.out.emit(message_dict(response), human)
