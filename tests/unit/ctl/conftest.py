"""Fixtures for creditctl's unit tests: a fake node on a local port, and a runner that captures output."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from creditctl.main import run
from tests.unit.ctl.fakes import FakeNode, serve

Ctl = Callable[..., "Result"]


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def node() -> FakeNode:
    return FakeNode()


@pytest.fixture
def address(node: FakeNode, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The fake node's address, set as every service's address; wide tables so rows do not wrap."""
    with serve(node) as addr:
        for service in ("REGISTRY", "SCORING", "OBJECTION", "GATEWAY", "CONSENT", "SUPERVISION"):
            monkeypatch.setenv(f"{service}_ADDR", addr)
        yield addr


@pytest.fixture
def ctl(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.delenv("CREDITCTL_ACTOR", raising=False)

    def invoke(*argv: str) -> Result:
        code = run(list(argv))
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke
