"""``creditctl log``, ``creditctl evidence export`` and ``evidence package``: reads of the node's evidence logs."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import click

from creditctl.context import Ctl, pass_ctl
from creditctl.errors import EXIT_REFUSED, EXIT_USAGE, CtlError
from creditctl.output import enum_short, message_dict, timestamp_text
from creditctl.params import MOMENT, timestamp
from creditnode.evidence.v1 import evidence_log_service_pb2 as ev_pb
from creditnode.evidence.v1 import evidence_log_service_pb2_grpc as ev_grpc
from creditnode.gateway.v1 import gateway_service_pb2 as gw_pb
from creditnode.gateway.v1 import gateway_service_pb2_grpc as gw_grpc
from services.kit.evidence.heads import SignedTreeHead

KINDS = {
    "all": ev_pb.LEAF_KIND_UNSPECIFIED,
    "disclosure": ev_pb.LEAF_KIND_DISCLOSURE,
    "consent-event": ev_pb.LEAF_KIND_CONSENT_EVENT,
    "objection-step": ev_pb.LEAF_KIND_OBJECTION_STEP,
    "status-change": ev_pb.LEAF_KIND_STATUS_CHANGE,
    "record-change": ev_pb.LEAF_KIND_RECORD_CHANGE,
    "key-rotation": ev_pb.LEAF_KIND_KEY_ROTATION,
}
# Services that keep an evidence log and serve EvidenceLogService (scoring keeps none: it would answer UNIMPLEMENTED).
LOGS = ["gateway", "registry", "consent", "objection"]
# A leaf carries its payload twice (payload and entry, up to 16 KiB each): 200 of them fit one 8 MiB message.
LEAVES_PAGE = 200


def _where(service: str) -> str:
    """The gateway's log is listed on its internal listener (the platforms' door refuses ListLeaves)."""
    return "supervision" if service == "gateway" else service


def _stub(ctl: Ctl, service: str) -> ev_grpc.EvidenceLogServiceStub:
    return ctl.stub(_where(service), ev_grpc.EvidenceLogServiceStub)


def list_leaves(
    ctl: Ctl,
    service: str,
    kind: str,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    match: dict[str, str] | None = None,
) -> list[ev_pb.Leaf]:
    """Leaves in log order, filtered (``match``: top-level payload fields); at most ``limit`` (0: all)."""
    leaves: list[ev_pb.Leaf] = []
    token = ""
    while True:
        request = ev_pb.ListLeavesRequest(
            page_size=LEAVES_PAGE, page_token=token, kind=KINDS[kind], payload_equals=match or {}
        )
        if since is not None:
            request.start_time.CopyFrom(timestamp(since))
        if until is not None:
            request.end_time.CopyFrom(timestamp(until))
        response = ctl.call(_where(service), _stub(ctl, service).ListLeaves, request)
        leaves.extend(response.leaves)
        token = response.next_page_token
        if not token or (limit and len(leaves) >= limit):
            break
    return leaves[:limit] if limit else leaves


def _filters(func: click.decorators.FC) -> click.decorators.FC:
    for decorator in reversed(
        [
            click.option("--log", "service", type=click.Choice(LOGS), default="gateway", show_default=True,
                         help="Whose evidence log to read."),
            click.option("--kind", type=click.Choice(list(KINDS)), default="disclosure", show_default=True),
            click.option("--since", type=MOMENT, help="Only leaves created at or after this time."),
            click.option("--until", type=MOMENT, help="Only leaves created before this time."),
            click.option("--limit", type=click.IntRange(min=0), default=0, help="At most this many (0: all)."),
        ]
    ):  # fmt: skip
        func = decorator(func)
    return func


# Payloads hold full resource names; a bare id would match no leaf and the log would look empty.
_COLLECTIONS = {"platform": "platforms/", "enterprise": "enterprises/", "authorization": "authorizations/"}


def _payload_match(match: dict[str, str | None]) -> dict[str, str]:
    """The --platform/--requester/... filters, each id given bare or as its name (``xian``, ``platforms/xian``)."""
    prefixed: dict[str, str] = {}
    for field_name, value in match.items():
        if value:
            prefix = _COLLECTIONS.get(field_name, "")
            prefixed[field_name] = value if value.startswith(prefix) else prefix + value
    return prefixed


@click.command("log")
@_filters
@click.option("--platform", help="Only leaves of this platform ({id} or platforms/{id}).")
@click.option("--requester", help="Only leaves of this requester (institutions/{id} or platforms/{id}).")
@click.option("--enterprise", help="Only leaves about this enterprise ({uscc} or enterprises/{uscc}).")
@click.option("--authorization", help="Only leaves under this authorization ({id} or authorizations/{id}).")
@pass_ctl
def log(
    ctl: Ctl,
    /,
    service: str,
    kind: str,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    **match: str | None,
) -> None:
    """What the node released, to whom and why (R8): the gateway's disclosure leaves, by default, by platform,
    requester, enterprise, authorization and period.

    Payloads hold ids and hashes only; a supervisor reviews them for misuse and exports receipts as evidence.
    """
    leaves = list_leaves(ctl, service, kind, since, until, limit, _payload_match(match))

    def payload(leaf: ev_pb.Leaf) -> object:
        try:
            return json.loads(leaf.payload_json)
        except ValueError:
            return leaf.payload_json

    rows = [
        (
            leaf.index,
            timestamp_text(leaf.create_time),
            enum_short(ev_pb.LeafKind.Name(leaf.kind), "LEAF_KIND_"),
            json.dumps(payload(leaf), ensure_ascii=False, sort_keys=True),
        )
        for leaf in leaves
    ]
    ctl.out.emit(
        {
            "log": service,
            "leaves": [{**message_dict(leaf), "payload": payload(leaf)} for leaf in leaves],
        },
        lambda: ctl.out.table(
            f"{service} evidence log: {len(leaves)} {kind} leaves", ["#", "time", "kind", "payload"], rows
        ),
    )


def _write(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise CtlError(f"cannot write {path}: {exc}", EXIT_USAGE) from exc


@click.group()
def evidence() -> None:
    """Export offline-verifiable evidence (receipts with inclusion proofs)."""


@evidence.command("export")
@_filters
@click.option("--index", "indexes", type=click.IntRange(min=0), multiple=True, help="Only these leaf indexes.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Directory for receipt-<index>.json, tree-head.json and public-keys.json.")  # fmt: skip
@pass_ctl
def export(
    ctl: Ctl,
    service: str,
    kind: str,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    indexes: tuple[int, ...],
    out_dir: Path,
) -> None:
    """Write a receipt (leaf, audit path, signed tree head) per leaf, plus the log's public keys, to OUT."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CtlError(f"cannot create {out_dir}: {exc}", EXIT_USAGE) from exc
    stub = _stub(ctl, service)
    if indexes:
        wanted = sorted(set(indexes))
    else:
        wanted = [leaf.index for leaf in list_leaves(ctl, service, kind, since, until, limit)]
    # The head comes after the listing: the log keeps growing, and a fresh head then holds every leaf listed.
    head = ctl.call(_where(service), stub.GetSignedTreeHead, ev_pb.GetSignedTreeHeadRequest(fresh=True)).tree_head
    if wanted and wanted[-1] >= head.tree_size:
        raise CtlError(f"leaf {wanted[-1]} is beyond the log's size {head.tree_size}", EXIT_USAGE)
    files: list[str] = []
    for index in ctl.out.track(wanted, f"exporting {len(wanted)} receipts"):
        proof = ctl.call(
            _where(service),
            stub.GetInclusionProof,
            ev_pb.GetInclusionProofRequest(leaf_index=index, tree_size=head.tree_size),
        )
        path = out_dir / f"receipt-{index}.json"
        receipt = proof.receipt_json or json.dumps(message_dict(proof), sort_keys=True)
        _write(path, receipt + "\n")
        files.append(str(path))
    keys = ctl.call(_where(service), stub.ListPublicKeys, ev_pb.ListPublicKeysRequest())
    # The keys name the log they sign for: the offline verifier binds each key to one origin.
    named = {"origin": head.origin, **message_dict(keys)}
    _write(out_dir / "public-keys.json", json.dumps(named, indent=2, sort_keys=True) + "\n")
    # The head as the offline verifier reads it (the JSON receipts embed), not the proto's JSON mapping.
    signed = SignedTreeHead(
        head.origin, head.tree_size, head.root_hash, head.timestamp.ToMilliseconds(), head.key_id, head.signature
    )
    _write(out_dir / "tree-head.json", signed.to_json())
    summary = {"log": service, "origin": head.origin, "tree_size": head.tree_size, "receipts": files}
    ctl.out.emit(
        summary,
        lambda: ctl.out.fields(
            f"exported {len(files)} receipts to {out_dir}",
            [("log", head.origin), ("tree size", head.tree_size), ("receipts", len(files))],
        ),
    )


@evidence.command("package")
@click.option("--arbiter", required=True, help="The arbitration commission or court, institutions/{id}.")
@click.option("--dispute", "reference", required=True, help="The case number the arbiter gives the dispute.")
@click.option("--enterprise", required=True, help="The borrower, enterprises/{uscc}.")
@click.option("--lender", required=True, help="The lender, institutions/{id}.")
@click.option("--loan", "loan_id", required=True, help="The loan's id in the loan register.")
@click.option("--on-behalf-of", default="", help="platforms/{id} when 秦信融 asks for a platform it proxies.")
@click.option("--out", "out_file", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Where to write the package (never overwritten).")  # fmt: skip
@pass_ctl
def package(
    ctl: Ctl,
    arbiter: str,
    reference: str,
    enterprise: str,
    lender: str,
    loan_id: str,
    on_behalf_of: str,
    out_file: Path,
) -> None:
    """Fetch a loan dispute's signed evidence package through the gateway (mTLS as the arbiter's platform).

    Check it offline: python -m services.kit.evidence.verify package OUT --public-key creditnode/gateway=GATEWAY_KEY
    --public-key creditnode/consent=CONSENT_KEY (or --public-keys-file with each log's public-keys.json from evidence
    export, which carries retired keys' retire times)
    """
    if out_file.exists():  # checked before the export, which the gateway logs as a disclosure
        raise CtlError(f"{out_file} exists; not overwriting evidence", EXIT_USAGE)
    request = gw_pb.GetEvidencePackageRequest(
        arbiter=arbiter,
        dispute_reference=reference,
        enterprise=enterprise,
        lender=lender,
        loan_id=loan_id,
        on_behalf_of=on_behalf_of,
    )
    got = ctl.call("gateway", ctl.stub("gateway", gw_grpc.GatewayServiceStub).GetEvidencePackage, request)
    data = got.package_json.encode("utf-8")
    # The digest is what the disclosure log recorded; a package that differs from it is not that evidence.
    if hashlib.sha256(data).hexdigest() != got.package_sha256:
        raise CtlError(
            f"the package from gateway at {ctl.node.address('gateway')} does not match the sha256 "
            f"{got.package_sha256} logged at leaf {got.leaf_index}; nothing written",
            EXIT_REFUSED,
        )
    try:
        with out_file.open("xb") as f:  # "x": never overwrite evidence, even one written since the check above
            f.write(data)
    except FileExistsError as exc:
        raise CtlError(f"{out_file} exists; not overwriting evidence", EXIT_USAGE) from exc
    except OSError as exc:
        raise CtlError(f"cannot write {out_file}: {exc}", EXIT_USAGE) from exc
    summary = {"file": str(out_file), "package_sha256": got.package_sha256, "leaf_index": got.leaf_index}
    ctl.out.emit(
        summary,
        lambda: ctl.out.fields(
            f"evidence package written to {out_file}",
            [("sha256", got.package_sha256), ("export logged as leaf", got.leaf_index)],
        ),
    )
