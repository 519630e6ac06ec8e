"""Renderers shared by the registry commands: a platform, a credential, a history."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path

from google.protobuf.timestamp_pb2 import Timestamp

from creditctl.context import Ctl
from creditctl.errors import CtlError
from creditctl.keys import write_text
from creditctl.output import enum_short, message_dict, timestamp_text
from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from services.kit.workdays import SHANGHAI


def _xian_time(ts: Timestamp) -> str:
    """A time as Xi'an reads it: the UTC timestamp cut to its date named the day before for anything that lapses at
    midnight there (the days the node counts, and what a date given to creditctl means)."""
    try:
        return ts.ToDatetime(tzinfo=UTC).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M +08:00")
    except OverflowError:  # late on 31 December 9999 UTC: no such day in Xi'an
        return timestamp_text(ts)


def platform_pairs(p: pb.Platform) -> list[tuple[str, object]]:
    assessments = ", ".join(
        f"{enum_short(pb.AssessmentKind.Name(a.kind), 'ASSESSMENT_KIND_')}="
        f"{enum_short(pb.AssessmentResult.Name(a.result), 'ASSESSMENT_RESULT_')}"
        f" until {_xian_time(a.expires_on)}"
        for a in p.assessments
    )
    return [
        ("name", p.name),
        ("display name", p.display_name),
        ("kind", enum_short(pb.PlatformKind.Name(p.kind), "PLATFORM_KIND_")),
        ("region", p.region_code),
        ("docking", enum_short(pb.Docking.Name(p.docking), "DOCKING_") + (f" via {p.proxy}" if p.proxy else "")),
        ("status", enum_short(pb.PlatformStatus.Name(p.status), "PLATFORM_STATUS_")),
        ("access", enum_short(pb.Access.Name(p.access), "ACCESS_")),
        ("assessments", assessments or "-"),
        ("due for review", "yes" if p.due_for_review else "no"),
        ("certificate serial", p.certificate_serial or "-"),
        ("updated", timestamp_text(p.update_time)),
    ]


def show_platform(ctl: Ctl, p: pb.Platform, extra: dict[str, object] | None = None) -> None:
    data: dict[str, object] = {"platform": message_dict(p), **(extra or {})}
    ctl.out.emit(data, lambda: ctl.out.fields(p.name, platform_pairs(p)))


def save_credential(
    ctl: Ctl, credential: admin_pb.Credential, cert_out: Path | None, ca_out: Path | None
) -> dict[str, object]:
    """Write the issued certificate (and CA) where the operator asked; return what JSON output reports."""
    written: dict[str, object] = {"serial": credential.serial}
    if not credential.certificate_pem:
        ctl.out.note("no certificate issued (a proxied platform docks through 秦信融's connection)")
        return written
    if cert_out is not None:
        try:
            write_text(cert_out, credential.certificate_pem)
        except CtlError as exc:
            # The node has issued it (and revoked the previous one): stdout is the only place it can still go.
            if ctl.out.as_json:
                ctl.out.json({**written, "certificate_pem": credential.certificate_pem})
            else:
                ctl.out.stdout.file.write(credential.certificate_pem)
            message = f"{exc.message}; the certificate was issued (serial {credential.serial}): it is on stdout"
            raise CtlError(message, exc.exit_code) from exc
        written["certificate_file"] = str(cert_out)
        ctl.out.note(f"certificate written to {cert_out}")
    if ca_out is not None:
        try:
            write_text(ca_out, credential.ca_certificate_pem)
        except CtlError as exc:
            issued = f"the certificate was issued (serial {credential.serial})"
            raise CtlError(f"{exc.message}; {issued}", exc.exit_code) from exc
        written["ca_certificate_file"] = str(ca_out)
        ctl.out.note(f"node CA certificate written to {ca_out}")
    if cert_out is None and not ctl.out.as_json:
        ctl.out.stdout.file.write(credential.certificate_pem)
    if cert_out is None:
        written["certificate_pem"] = credential.certificate_pem
    ctl.out.note(f"certificate serial {credential.serial}")
    return written
