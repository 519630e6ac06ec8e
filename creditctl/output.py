"""Rendering: rich tables for people, JSON for scripts, progress on stderr only when a person is watching."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message
from google.protobuf.timestamp_pb2 import Timestamp
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

T = TypeVar("T")


def message_dict(message: Message) -> dict[str, Any]:
    """A message as JSON-ready data with the proto's field names (what scripts read)."""
    return json_format.MessageToDict(
        message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )


def json_text(data: Any, stream: IO[str], **kw: Any) -> str:
    """JSON for ``stream``: characters as they are where its encoding has them, else ``\\u`` escapes, so that a
    terminal without Chinese (latin-1, a C locale) still gets the text, as valid JSON."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, **kw)
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return json.dumps(data, ensure_ascii=True, sort_keys=True, **kw)
    return text


def timestamp_text(ts: Timestamp) -> str:
    if ts.seconds == 0 and ts.nanos == 0:
        return ""
    return ts.ToDatetime(tzinfo=UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def enum_short(full_name: str, prefix: str) -> str:
    """PLATFORM_STATUS_ADMITTED -> ADMITTED, for tables (JSON keeps the full name)."""
    return full_name.removeprefix(prefix)


class Output:
    """Where results go: a table or JSON on stdout; messages and progress on stderr."""

    def __init__(
        self,
        *,
        as_json: bool,
        quiet: bool = False,
        stdout: Console | None = None,
        stderr: Console | None = None,
    ) -> None:
        self.as_json = as_json
        self.quiet = quiet
        self.stdout = stdout or Console(soft_wrap=False)
        self.stderr = stderr or Console(stderr=True, soft_wrap=True)

    def json(self, data: Any) -> None:
        # Plain print, not rich: scripts need the bytes exactly, without markup or wrapping.
        self.stdout.file.write(json_text(data, self.stdout.file, indent=2) + "\n")
        self.stdout.file.flush()

    def table(self, title: str | None, columns: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
        # Text, not str: names and reasons come from the node, and rich would read "[...]" in them as markup.
        table = Table(title=None if title is None else Text(title), show_lines=False)
        for column in columns:
            table.add_column(Text(column), overflow="fold")
        for row in rows:
            table.add_row(*(Text("" if cell is None else str(cell)) for cell in row))
        self.stdout.print(table)

    def fields(self, title: str, pairs: Sequence[tuple[str, object]]) -> None:
        """A two-column key/value table for one resource."""
        self.table(title, ["field", "value"], [(k, v) for k, v in pairs])

    def note(self, text: str) -> None:
        """A human message on stderr (never mixed into JSON on stdout)."""
        if not self.quiet:
            self.stderr.print(text, markup=False, highlight=False)

    def emit(self, data: Any, human: Callable[[], None]) -> None:
        if self.as_json:
            self.json(data)
        else:
            human()

    def _show_progress(self) -> bool:
        return not self.quiet and self.stderr.is_terminal

    @contextmanager
    def spinner(self, description: str) -> Iterator[None]:
        """An indeterminate progress line for one long call."""
        if not self._show_progress():
            yield
            return
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with Progress(*columns, console=self.stderr, transient=True) as progress:
            progress.add_task(description, total=None)
            yield

    def track(self, items: Sequence[T], description: str) -> Iterator[T]:
        """Iterate with a progress bar when a person is watching."""
        if not self._show_progress():
            yield from items
            return
        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=self.stderr, transient=True) as progress:
            task = progress.add_task(description, total=len(items))
            for item in items:
                yield item
                progress.advance(task)


def now() -> datetime:
    return datetime.now(UTC)
