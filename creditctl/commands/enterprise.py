"""``creditctl enterprise``: an operator's changes to a registered enterprise (a lost or refused key replaced)."""

from __future__ import annotations

import re
from pathlib import Path

import click
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from creditctl.commands.platform import admin
from creditctl.context import Ctl, pass_ctl
from creditctl.errors import EXIT_USAGE, CtlError
from creditctl.output import enum_short, message_dict, timestamp_text
from creditctl.params import change_options, make_change
from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb

_HEX_KEY = re.compile(rb"\s*([0-9a-fA-F]{64})\s*")


def enterprise_name(uscc: str) -> str:
    """Accept ``{uscc}`` or ``enterprises/{uscc}``."""
    return uscc if uscc.startswith("enterprises/") else f"enterprises/{uscc}"


def read_public_key(path: Path) -> bytes:
    """The raw 32-byte Ed25519 key in ``path``: a PEM public key, the 32 bytes themselves, or 64 hex digits.

    A PEM private key is refused, so that it never leaves the enterprise by mistake; 32 raw bytes or 64 hex digits
    cannot be told from a private key's seed, so those are sent as they are."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise CtlError(f"cannot read {path}: {exc}", EXIT_USAGE) from exc
    if b"-----BEGIN" in content:
        try:
            key = serialization.load_pem_public_key(content)
        except ValueError:
            raise CtlError(f"{path} holds no PEM public key (a private key is never sent)", EXIT_USAGE) from None
        if not isinstance(key, Ed25519PublicKey):
            raise CtlError(f"{path} holds a public key that is not Ed25519", EXIT_USAGE)
        return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    if (match := _HEX_KEY.fullmatch(content)) is not None:
        return bytes.fromhex(match.group(1).decode())
    if len(content) == 32:
        return content
    raise CtlError(f"{path} is no Ed25519 public key (a PEM public key, 32 raw bytes or 64 hex digits)", EXIT_USAGE)


def key_rows(e: pb.Enterprise) -> list[tuple[object, ...]]:
    return [
        (
            k.key_id,
            enum_short(pb.KeyState.Name(k.state), "KEY_STATE_"),
            timestamp_text(k.create_time),
            timestamp_text(k.retire_time) or "-",
        )
        for k in e.keys
    ]


@click.group()
def enterprise() -> None:
    """Operator changes to registered enterprises."""


@enterprise.command("replace-key")
@click.argument("uscc")
@click.option(
    "--public-key-file",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The enterprise's new Ed25519 public key: PEM, 32 raw bytes or 64 hex digits.",
)
@change_options
@pass_ctl
def replace_key(
    ctl: Ctl,
    uscc: str,
    public_key_file: Path,
    actor: str,
    reason: str,
    evidence: tuple[str, ...],
    etag: str,
    request_id: str,
) -> None:
    """Replace the keys of enterprise USCC that lost its key (or holds only one the node refuses), after its identity
    was verified offline: every active key is retired and the new one is active. --evidence names the verification
    (e.g. its ticket)."""
    if not evidence:
        raise click.UsageError("--evidence is required: name the identity verification (e.g. its ticket)")
    request = admin_pb.ReplaceEnterpriseKeyRequest(
        name=enterprise_name(uscc),
        new_public_key=read_public_key(public_key_file),
        change=make_change(actor, reason, evidence, etag, request_id),
    )
    e = ctl.call("registry", admin(ctl).ReplaceEnterpriseKey, request).enterprise
    ctl.out.emit(
        {"enterprise": message_dict(e)},
        lambda: ctl.out.table(
            f"keys of {e.name} ({e.display_name})", ["key id", "state", "created", "retired"], key_rows(e)
        ),
    )
