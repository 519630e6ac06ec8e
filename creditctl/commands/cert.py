"""``creditctl cert``: platform client certificates: issue (rotate), revoke (= suspend) and the CRL."""

from __future__ import annotations

from pathlib import Path

import click

from creditctl.commands.platform import admin, credential_options
from creditctl.commands.render import save_credential, show_platform
from creditctl.context import Ctl, pass_ctl
from creditctl.errors import EXIT_USAGE, CtlError
from creditctl.keys import check_writable, csr_for
from creditctl.params import change_options, make_change, platform_name
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from creditnode.registry.v1 import registry_service_pb2_grpc as rs_grpc


@click.group()
def cert() -> None:
    """Issue and revoke platform certificates; fetch the certificate revocation list."""


@cert.command("issue")
@click.argument("platform_id")
@credential_options
@change_options
@pass_ctl
def issue(
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
    """Issue a new certificate to an admitted platform (rotation); the previous one is revoked."""
    name = platform_name(platform_id)
    check_writable(cert_out, ca_out)  # before the key is made and the node issues (and revokes)
    csr_pem = csr_for(name.removeprefix("platforms/"), key_out, csr)
    request = admin_pb.IssuePlatformCertificateRequest(
        name=name, csr_pem=csr_pem, change=make_change(actor, reason, evidence, etag, request_id)
    )
    response = ctl.issue(admin(ctl).IssuePlatformCertificate, request, key_out)
    written = save_credential(ctl, response.credential, cert_out, ca_out)
    if key_out is not None:
        written["key_file"] = str(key_out)
        ctl.out.note(f"private key written to {key_out}: hand it to the platform over a secure channel")
    ctl.out.emit(
        {"platform": name, "credential": written},
        lambda: ctl.out.fields(name, [("certificate serial", response.credential.serial)]),
    )


@cert.command("revoke")
@click.argument("platform_id")
@change_options
@pass_ctl
def revoke(
    ctl: Ctl, platform_id: str, actor: str, reason: str, evidence: tuple[str, ...], etag: str, request_id: str
) -> None:
    """Revoke a platform's certificate. The node revokes only by suspending: this is ``platform suspend``."""
    request = admin_pb.SuspendPlatformRequest(
        name=platform_name(platform_id), change=make_change(actor, reason, evidence, etag, request_id)
    )
    ctl.out.note("revoking by suspending the platform (readmit it to issue a new certificate)")
    show_platform(ctl, ctl.call("registry", admin(ctl).SuspendPlatform, request).platform)


@cert.command("crl")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), help="Write the DER CRL to this file.")
@pass_ctl
def crl(ctl: Ctl, out: Path | None) -> None:
    """The node CA's certificate revocation list: revoked serials (and the DER file with --out)."""
    stub = ctl.stub("registry", rs_grpc.RegistryServiceStub)
    response = ctl.call("registry", stub.GetCertificateRevocationList, rs_pb.GetCertificateRevocationListRequest())
    if out is not None:
        try:
            out.write_bytes(response.crl_der)
        except OSError as exc:
            # Not click.FileError: it exits 1, which scripts read as the node refusing.
            raise CtlError(f"cannot write {out}: {exc}", EXIT_USAGE) from exc
        ctl.out.note(f"CRL ({len(response.crl_der)} bytes DER) written to {out}")
    serials = list(response.revoked_serials)
    ctl.out.emit(
        {"revoked_serials": serials, "crl_file": str(out) if out else None},
        lambda: ctl.out.table(f"revoked certificates ({len(serials)})", ["serial"], [(s,) for s in serials]),
    )
