"""``creditctl platform``: the onboarding lifecycle (有进有出) of financing credit service platforms."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from creditctl.commands.render import platform_pairs, save_credential, show_platform
from creditctl.context import Ctl, pass_ctl
from creditctl.errors import EXIT_USAGE, CtlError
from creditctl.keys import check_writable, csr_for
from creditctl.output import enum_short, message_dict, now, timestamp_text
from creditctl.params import MOMENT, change_options, make_change, platform_name, timestamp
from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_admin_service_pb2_grpc as admin_grpc
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from creditnode.registry.v1 import registry_service_pb2_grpc as rs_grpc
from services.kit.workdays import SHANGHAI

KINDS = {"city": pb.PLATFORM_KIND_CITY, "county": pb.PLATFORM_KIND_COUNTY, "aggregator": pb.PLATFORM_KIND_AGGREGATOR}
DOCKINGS = {"direct": pb.DOCKING_DIRECT, "proxied": pb.DOCKING_PROXIED}
ASSESSMENTS = {"security": pb.ASSESSMENT_KIND_SECURITY, "authorization": pb.ASSESSMENT_KIND_AUTHORIZATION}
RESULTS = {"passed": pb.ASSESSMENT_RESULT_PASSED, "failed": pb.ASSESSMENT_RESULT_FAILED}


def admin(ctl: Ctl) -> admin_grpc.RegistryAdminServiceStub:
    return ctl.stub("registry", admin_grpc.RegistryAdminServiceStub)


def credential_options(func: click.decorators.FC) -> click.decorators.FC:
    """Where the platform's key, CSR, certificate and CA go."""
    path = click.Path(path_type=Path, dir_okay=False)
    for decorator in reversed(
        [
            click.option("--key-out", type=path, help="Generate a P-256 key here (mode 0600) and a CSR for it."),
            click.option("--csr", type=path, help="Use this PEM CSR made by the platform instead."),
            click.option("--cert-out", type=path, help="Write the issued certificate here (default: stdout)."),
            click.option("--ca-out", type=path, help="Write the node CA certificate here."),
        ]
    ):
        func = decorator(func)
    return func


@click.group()
def platform() -> None:
    """Onboard, review, admit, suspend, readmit and remove platforms."""


@platform.command("onboard")
@click.argument("platform_id")
@click.option("--display-name", required=True, help="Official name, e.g. 西安市融资信用服务平台.")
@click.option("--kind", type=click.Choice(sorted(KINDS)), required=True)
@click.option("--region", "region_code", required=True, help="Six-digit administrative division code.")
@click.option("--docking", type=click.Choice(sorted(DOCKINGS)), default="direct", show_default=True)
@click.option("--proxy", default="", help="The aggregator of a proxied platform, e.g. qinxinrong.")
@change_options
@pass_ctl
def onboard(
    ctl: Ctl,
    platform_id: str,
    display_name: str,
    kind: str,
    region_code: str,
    docking: str,
    proxy: str,
    actor: str,
    reason: str,
    evidence: tuple[str, ...],
    etag: str,
    request_id: str,
) -> None:
    """Record PLATFORM_ID's application to dock (status APPLIED)."""
    request = admin_pb.CreatePlatformRequest(
        platform_id=platform_id.removeprefix("platforms/"),
        display_name=display_name,
        kind=KINDS[kind],
        region_code=region_code,
        docking=DOCKINGS[docking],
        proxy=platform_name(proxy) if proxy else "",
        change=make_change(actor, reason, evidence, etag, request_id),
    )
    show_platform(ctl, ctl.call("registry", admin(ctl).CreatePlatform, request).platform)


@platform.command("start-review")
@click.argument("platform_id")
@change_options
@pass_ctl
def start_review(
    ctl: Ctl, platform_id: str, actor: str, reason: str, evidence: tuple[str, ...], etag: str, request_id: str
) -> None:
    """Move an applied platform under review."""
    request = admin_pb.StartPlatformReviewRequest(
        name=platform_name(platform_id), change=make_change(actor, reason, evidence, etag, request_id)
    )
    show_platform(ctl, ctl.call("registry", admin(ctl).StartPlatformReview, request).platform)


@platform.command("assess")
@click.argument("platform_id")
@click.option("--kind", type=click.Choice(sorted(ASSESSMENTS)), required=True, help="Which assessment.")
@click.option("--result", type=click.Choice(sorted(RESULTS)), required=True)
@click.option("--assessor", required=True, help="Assessing organization or team (not a person).")
@click.option("--findings", default="", help="What the assessor found.")
@click.option("--assessed-on", type=MOMENT, help="When it concluded (default: now).")
@click.option("--expires-on", type=MOMENT, help="When a pass stops counting (default: one year after assessed-on).")
@change_options
@pass_ctl
def assess(
    ctl: Ctl,
    platform_id: str,
    kind: str,
    result: str,
    assessor: str,
    findings: str,
    assessed_on: datetime | None,
    expires_on: datetime | None,
    actor: str,
    reason: str,
    evidence: tuple[str, ...],
    etag: str,
    request_id: str,
) -> None:
    """Record a security or authorization assessment of a platform under review (or suspended, before readmission)."""
    assessed = assessed_on or now()
    expires = expires_on or _a_year_after(assessed)
    request = admin_pb.RecordAssessmentRequest(
        name=platform_name(platform_id),
        assessment=pb.Assessment(
            kind=ASSESSMENTS[kind],
            assessor=assessor,
            assessed_on=timestamp(assessed),
            result=RESULTS[result],
            findings=findings,
            expires_on=timestamp(expires),
        ),
        change=make_change(actor, reason, evidence, etag, request_id),
    )
    show_platform(ctl, ctl.call("registry", admin(ctl).RecordAssessment, request).platform)


def _a_year_after(at: datetime) -> datetime:
    """The same time on the same day a calendar year later in Xi'an (365 days fell a day short across a 29 February);
    from 29 February, the 28th (民法典 第二百零二条: no such day, the month's last)."""
    try:
        local = at.astimezone(SHANGHAI)
        if local.year >= 9999:
            raise OverflowError
    except OverflowError:
        raise CtlError("--assessed-on is too late for a year's validity; give --expires-on", EXIT_USAGE) from None
    try:
        return local.replace(year=local.year + 1)
    except ValueError:  # 29 February
        return local.replace(year=local.year + 1, day=28)


@platform.command("admit")
@click.argument("platform_id")
@credential_options
@change_options
@pass_ctl
def admit(
    ctl: Ctl,
    platform_id: str,
    key_out: Path | None,
    csr: Path | None,
    cert_out: Path | None,
    ca_out: Path | None,
    actor: str,
    reason: str,
    evidence: tuple[str, ...],
    etag: str,
    request_id: str,
) -> None:
    """Admit a reviewed platform with both assessments passed, and issue its client certificate."""
    name = platform_name(platform_id)
    check_writable(cert_out, ca_out)  # before the key is made and the node issues (and revokes)
    csr_pem = csr_for(name.removeprefix("platforms/"), key_out, csr)
    request = admin_pb.AdmitPlatformRequest(
        name=name, csr_pem=csr_pem, change=make_change(actor, reason, evidence, etag, request_id)
    )
    response = ctl.issue(admin(ctl).AdmitPlatform, request, key_out)
    _show_with_credential(ctl, response.platform, response.credential, key_out, cert_out, ca_out)


def _show_with_credential(
    ctl: Ctl,
    p: pb.Platform,
    credential: admin_pb.Credential,
    key_out: Path | None,
    cert_out: Path | None,
    ca_out: Path | None,
) -> None:
    written = save_credential(ctl, credential, cert_out, ca_out)
    if key_out is not None:
        written["key_file"] = str(key_out)
        ctl.out.note(f"private key written to {key_out}: hand it to the platform over a secure channel")
    show_platform(ctl, p, {"credential": written})


def _simple_change(
    command: str,
    rpc_name: str,
    request_class: type[admin_pb.SuspendPlatformRequest]
    | type[admin_pb.RemovePlatformRequest]
    | type[admin_pb.RejectPlatformRequest]
    | type[admin_pb.ExitPlatformRequest],
    doc: str,
) -> click.Command:
    @click.argument("platform_id")
    @change_options
    @pass_ctl
    def command_fn(
        ctl: Ctl, platform_id: str, actor: str, reason: str, evidence: tuple[str, ...], etag: str, request_id: str
    ) -> None:
        request = request_class(
            name=platform_name(platform_id), change=make_change(actor, reason, evidence, etag, request_id)
        )
        show_platform(ctl, ctl.call("registry", getattr(admin(ctl), rpc_name), request).platform)

    command_fn.__doc__ = doc
    return click.command(command)(command_fn)


platform.add_command(
    _simple_change(
        "suspend",
        "SuspendPlatform",
        admin_pb.SuspendPlatformRequest,
        "Suspend an admitted platform (and everything behind it); its certificate is revoked.",
    )
)
platform.add_command(
    _simple_change(
        "remove",
        "RemovePlatform",
        admin_pb.RemovePlatformRequest,
        "Remove an admitted or suspended platform for good; its certificate is revoked.",
    )
)
platform.add_command(
    _simple_change("reject", "RejectPlatform", admin_pb.RejectPlatformRequest, "End a review with rejection.")
)
platform.add_command(
    _simple_change(
        "exit", "ExitPlatform", admin_pb.ExitPlatformRequest, "Record a platform leaving on its own request."
    )
)


@platform.command("readmit")
@click.argument("platform_id")
@credential_options
@change_options
@pass_ctl
def readmit(
    ctl: Ctl,
    platform_id: str,
    key_out: Path | None,
    csr: Path | None,
    cert_out: Path | None,
    ca_out: Path | None,
    actor: str,
    reason: str,
    evidence: tuple[str, ...],
    etag: str,
    request_id: str,
) -> None:
    """Readmit a suspended platform after rectification, with a new certificate."""
    name = platform_name(platform_id)
    check_writable(cert_out, ca_out)  # before the key is made and the node issues (and revokes)
    csr_pem = csr_for(name.removeprefix("platforms/"), key_out, csr)
    request = admin_pb.ReadmitPlatformRequest(
        name=name, csr_pem=csr_pem, change=make_change(actor, reason, evidence, etag, request_id)
    )
    response = ctl.issue(admin(ctl).ReadmitPlatform, request, key_out)
    _show_with_credential(ctl, response.platform, response.credential, key_out, cert_out, ca_out)


@platform.command("show")
@click.argument("platform_id")
@pass_ctl
def show(ctl: Ctl, platform_id: str) -> None:
    """Show one platform."""
    stub = ctl.stub("registry", rs_grpc.RegistryServiceStub)
    response = ctl.call("registry", stub.GetPlatform, rs_pb.GetPlatformRequest(name=platform_name(platform_id)))
    show_platform(ctl, response.platform)


@platform.command("history")
@click.argument("platform_id")
@pass_ctl
def history(ctl: Ctl, platform_id: str) -> None:
    """A platform's append-only status history, oldest first."""
    name = platform_name(platform_id)
    changes: list[pb.StatusChange] = []
    token = ""
    while True:
        request = admin_pb.ListPlatformHistoryRequest(name=name, page_size=1000, page_token=token)
        response = ctl.call("registry", admin(ctl).ListPlatformHistory, request)
        changes.extend(response.changes)
        token = response.next_page_token
        if not token:
            break
    rows = [
        (
            timestamp_text(c.change_time),
            enum_short(c.from_status, "PLATFORM_STATUS_") or "-",
            enum_short(c.to_status, "PLATFORM_STATUS_"),
            c.actor,
            c.reason,
            ", ".join(c.evidence),
            c.revision,
        )
        for c in changes
    ]
    ctl.out.emit(
        {"platform": name, "changes": [message_dict(c) for c in changes]},
        lambda: ctl.out.table(
            f"history of {name}", ["time", "from", "to", "actor", "reason", "evidence", "revision"], rows
        ),
    )


@platform.command("due")
@pass_ctl
def due(ctl: Ctl) -> None:
    """Admitted platforms with an expired assessment (due for re-review)."""
    response = ctl.call("registry", admin(ctl).ListPlatformsDueForReview, admin_pb.ListPlatformsDueForReviewRequest())
    rows = [
        (p.name, p.display_name, dict(platform_pairs(p))["assessments"], timestamp_text(p.update_time))
        for p in response.platforms
    ]
    ctl.out.emit(
        {"platforms": [message_dict(p) for p in response.platforms]},
        lambda: ctl.out.table("platforms due for review", ["platform", "name", "assessments", "updated"], rows),
    )
