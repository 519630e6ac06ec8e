"""creditctl's output: progress only for a person at a terminal, JSON untouched by it, tables on stdout."""

from __future__ import annotations

import io
import json

from rich.console import Console

from creditctl.output import Output


def consoles(terminal: bool) -> tuple[Console, io.StringIO, Console, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return (
        Console(file=out, force_terminal=terminal, width=120),
        out,
        Console(file=err, force_terminal=terminal, width=120),
        err,
    )


def test_track_shows_a_progress_bar_at_a_terminal_and_yields_every_item() -> None:
    stdout, _, stderr, err = consoles(terminal=True)
    output = Output(as_json=False, stdout=stdout, stderr=stderr)
    assert list(output.track([1, 2, 3], "exporting receipts")) == [1, 2, 3]
    assert "exporting receipts" in err.getvalue()


def test_no_progress_or_notes_when_quiet_or_not_at_a_terminal() -> None:
    for terminal, quiet in ((False, False), (True, True)):
        stdout, _, stderr, err = consoles(terminal=terminal)
        output = Output(as_json=False, quiet=quiet, stdout=stdout, stderr=stderr)
        assert list(output.track(["a"], "exporting")) == ["a"]
        with output.spinner("publishing"):
            pass
        if quiet:
            output.note("certificate written")
        assert err.getvalue() == ""


def test_json_goes_to_stdout_alone_and_parses() -> None:
    stdout, out, stderr, err = consoles(terminal=True)
    output = Output(as_json=True, stdout=stdout, stderr=stderr)
    output.note("a note for people")
    output.emit({"名称": "西安", "n": 1}, lambda: output.table("t", ["x"], [("y",)]))
    assert json.loads(out.getvalue()) == {"名称": "西安", "n": 1}
    assert "a note for people" in err.getvalue()


def test_tables_render_every_cell() -> None:
    stdout, out, stderr, _ = consoles(terminal=False)
    output = Output(as_json=False, stdout=stdout, stderr=stderr)
    output.emit(
        {}, lambda: output.table("platforms", ["name", "status"], [("platforms/xian", "ADMITTED"), ("b", None)])
    )
    text = out.getvalue()
    assert "platforms/xian" in text
    assert "ADMITTED" in text
    assert "{}" not in text


def test_tables_print_the_nodes_text_verbatim_never_as_markup() -> None:
    # Reasons, evidence references and display names come from the node; brackets in them are text, not styles.
    stdout, out, stderr, _ = consoles(terminal=False)
    output = Output(as_json=False, stdout=stdout, stderr=stderr)
    output.table("history of [bold]x", ["reason"], [("fixed per [ticket 5]",), ("closing [/] tag",)])
    text = out.getvalue()
    assert "[ticket 5]" in text
    assert "closing [/] tag" in text
    assert "history of [bold]x" in text
