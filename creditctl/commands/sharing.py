"""``creditctl sharing-list``: the published credit information sharing list (信用信息共享清单)."""

from __future__ import annotations

from pathlib import Path

import click

from creditctl.context import Ctl, pass_ctl
from creditctl.errors import EXIT_USAGE, CtlError
from creditctl.output import enum_short, message_dict, timestamp_text
from creditctl.params import change_options, make_change
from creditnode.registry.v1 import sharing_list_pb2 as sl_pb
from creditnode.registry.v1 import sharing_list_pb2_grpc as sl_grpc


def _stub(ctl: Ctl) -> sl_grpc.SharingListServiceStub:
    return ctl.stub("registry", sl_grpc.SharingListServiceStub)


def _date(d: sl_pb.CalendarDate) -> str:
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}" if d.year else ""


def _version_pairs(v: sl_pb.SharingListVersion) -> list[tuple[str, object]]:
    return [
        ("version", v.version),
        ("title", v.title),
        ("effective from", _date(v.effective_from)),
        ("items", v.item_count),
        ("digest", v.digest),
        ("published", f"{timestamp_text(v.publish_time)} by {v.published_by}"),
        ("note", v.note),
    ]


def _diff_rows(diff: sl_pb.SharingListDiff) -> list[tuple[object, ...]]:
    return [
        (
            c.path,
            enum_short(sl_pb.SharingListChangeKind.Name(c.kind), "SHARING_LIST_CHANGE_KIND_"),
            c.before,
            c.after,
            "yes" if c.breaking else "",
        )
        for c in diff.changes
    ]


def _show_diff(ctl: Ctl, diff: sl_pb.SharingListDiff) -> None:
    title = f"v{diff.from_version} → v{diff.to_version}" + (" (BREAKING)" if diff.breaking else "")
    ctl.out.table(title, ["path", "change", "before", "after", "breaking"], _diff_rows(diff))


@click.group("sharing-list")
def sharing_list() -> None:
    """Show, load and compare versions of the sharing list."""


@sharing_list.command("show")
@click.option("--version", "version", type=click.IntRange(min=0), default=0, help="Version (default: current).")
@click.option("--yaml", "as_yaml", is_flag=True, help="Print the list as its YAML document.")
@pass_ctl
def show(ctl: Ctl, version: int, as_yaml: bool) -> None:
    """A version of the sharing list: its items, departments, sharing methods and deadlines."""
    request = sl_pb.GetSharingListRequest(version=version, include_yaml=as_yaml)
    response = ctl.call("registry", _stub(ctl).GetSharingList, request)
    if as_yaml and not ctl.out.as_json:
        ctl.out.stdout.file.write(response.yaml_text)
        return

    def human() -> None:
        ctl.out.fields("sharing list", _version_pairs(response.version))
        rows = [
            (
                item.code,
                item.name,
                enum_short(sl_pb.ItemCategory.Name(item.category), "ITEM_CATEGORY_"),
                item.department,
                enum_short(sl_pb.SharingMethod.Name(item.sharing_method), "SHARING_METHOD_"),
                f"{enum_short(sl_pb.DeadlineKind.Name(item.deadline.kind), 'DEADLINE_KIND_')} {item.deadline.amount}",
                enum_short(sl_pb.Openness.Name(item.openness), "OPENNESS_"),
                len(item.fields),
            )
            for item in response.sharing_list.items
        ]
        columns = ["item", "name", "category", "department", "method", "deadline", "openness", "fields"]
        ctl.out.table("items", columns, rows)

    ctl.out.emit(message_dict(response), human)


@sharing_list.command("versions")
@pass_ctl
def versions(ctl: Ctl) -> None:
    """Every published version, newest first as the node lists them."""
    found: list[sl_pb.SharingListVersion] = []
    token = ""
    while True:
        request = sl_pb.ListSharingListVersionsRequest(page_size=100, page_token=token)
        response = ctl.call("registry", _stub(ctl).ListSharingListVersions, request)
        found.extend(response.versions)
        token = response.next_page_token
        if not token:
            break
    rows = [
        (v.version, v.title, _date(v.effective_from), v.item_count, timestamp_text(v.publish_time), v.published_by)
        for v in found
    ]
    ctl.out.emit(
        {"versions": [message_dict(v) for v in found]},
        lambda: ctl.out.table(
            "sharing list versions", ["version", "title", "effective", "items", "published", "by"], rows
        ),
    )


@sharing_list.command("load")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--validate-only", is_flag=True, help="Check the document and show the diff; publish nothing.")
@change_options
@pass_ctl
def load(
    ctl: Ctl,
    file: Path,
    validate_only: bool,
    actor: str,
    reason: str,
    evidence: tuple[str, ...],
    etag: str,
    request_id: str,
) -> None:
    """Publish FILE (the sharing list's YAML document) as the next version."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CtlError(f"cannot read {file}: {exc}", EXIT_USAGE) from exc
    request = sl_pb.PublishSharingListRequest(
        yaml_text=text,
        change=make_change(actor, reason, evidence, etag, request_id),
        validate_only=validate_only,
    )
    with ctl.out.spinner(("validating " if validate_only else "publishing ") + file.name):
        response = ctl.call("registry", _stub(ctl).PublishSharingList, request)

    def human() -> None:
        title = "validated (not published)" if validate_only else "published"
        ctl.out.fields(title, _version_pairs(response.version))
        _show_diff(ctl, response.diff)

    ctl.out.emit({**message_dict(response), "validate_only": validate_only}, human)


@sharing_list.command("diff")
@click.argument("from_version", type=click.IntRange(min=1))
@click.argument("to_version", type=click.IntRange(min=1))
@pass_ctl
def diff(ctl: Ctl, from_version: int, to_version: int) -> None:
    """What changed between two versions, with breaking changes marked."""
    request = sl_pb.DiffSharingListVersionsRequest(from_version=from_version, to_version=to_version)
    response = ctl.call("registry", _stub(ctl).DiffSharingListVersions, request)
    ctl.out.emit(message_dict(response), lambda: _show_diff(ctl, response.diff))
