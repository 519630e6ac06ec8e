"""A failed evidence append is logged without the values a database error's text quotes."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import IntegrityError
from structlog.testing import capture_logs

from services.kit.errors import DomainError
from services.kit.evidence.entries import LeafKind
from services.kit.evidence.log import commit_batch

NAME = "张三丰"
ID_NUMBER = "11010519491231002X"


class _Refusing:
    """A store whose append fails as PostgreSQL's unique violation does: the driver's text quotes the row."""

    origin = "creditnode/test"

    def __init__(self, error: Exception) -> None:
        self.error = error

    def append_in(self, conn: Any, items: Any, now: datetime) -> list[Any]:
        raise self.error


def _logged(error: Exception) -> dict[str, Any]:
    engine = create_engine("sqlite://")
    with capture_logs() as logs, pytest.raises((DomainError, IntegrityError)):
        commit_batch(engine, _Refusing(error), [(LeafKind.DISCLOSURE, {})], datetime.now(UTC))  # type: ignore[arg-type]
    (line,) = [entry for entry in logs if entry["event"] == "evidence_append_failed"]
    return line


def test_a_database_error_is_logged_by_its_kind_without_the_values_it_quotes() -> None:
    driver = sqlite3.IntegrityError(f"UNIQUE constraint failed; DETAIL: Key (holder)=({NAME} {ID_NUMBER}) exists")
    line = _logged(IntegrityError("INSERT INTO evidence_leaves ...", {"holder": NAME}, driver))
    assert line["error_type"] == "IntegrityError"
    assert "sqlite3.IntegrityError" in line["error"]
    assert NAME not in repr(line)
    assert ID_NUMBER not in repr(line)


def test_an_error_of_our_own_keeps_its_text() -> None:
    line = _logged(ValueError("leaf payload too large"))
    assert line["error"] == "leaf payload too large"
