"""Which escaped integrity errors count as a lost race (ABORTED) rather than a bug (INTERNAL), on both drivers."""

from __future__ import annotations

import sqlite3

import psycopg.errors
import pytest
from sqlalchemy.exc import IntegrityError

from services.kit.db import is_unique_clash


def _sqlite_error(statement: str) -> sqlite3.IntegrityError:
    db = sqlite3.connect(":memory:")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute("CREATE TABLE p (k TEXT PRIMARY KEY, u TEXT UNIQUE, v TEXT NOT NULL)")
    db.execute("CREATE TABLE c (k TEXT REFERENCES p (k))")
    db.execute("INSERT INTO p VALUES ('a', 'x', 'v')")
    with pytest.raises(sqlite3.IntegrityError) as err:
        db.execute(statement)
    return err.value


@pytest.mark.parametrize(
    ("orig", "clash"),
    [
        (psycopg.errors.UniqueViolation("dup"), True),
        (psycopg.errors.ForeignKeyViolation("fk"), False),
        (psycopg.errors.NotNullViolation("null"), False),
        (_sqlite_error("INSERT INTO p VALUES ('a', 'y', 'v')"), True),  # primary key
        (_sqlite_error("INSERT INTO p VALUES ('b', 'x', 'v')"), True),  # unique
        (_sqlite_error("INSERT INTO p VALUES ('b', 'y', NULL)"), False),
        (_sqlite_error("INSERT INTO c VALUES ('zz')"), False),
    ],
)
def test_only_uniqueness_clashes_are_lost_races(orig: Exception, clash: bool) -> None:
    assert is_unique_clash(IntegrityError("statement", None, orig)) is clash


def test_other_errors_are_not_clashes() -> None:
    assert not is_unique_clash(RuntimeError("UNIQUE constraint failed"))
