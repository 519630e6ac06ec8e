"""Every reason the domain raises is in the ErrorReason contract, and the domain imports no transport or storage."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

from creditnode.common.v1 import error_reason_pb2
from services.kit.workdays import CalendarUnknown
from services.objection.domain import reasons

DOMAIN = Path(__file__).resolve().parents[3] / "services" / "objection" / "domain"
FORBIDDEN = ("grpc", "sqlalchemy", "alembic", "creditnode", "google")


def test_every_domain_reason_is_in_the_contract() -> None:
    names = set(error_reason_pb2.ErrorReason.keys())
    assert set(reasons.ALL) <= names
    assert CalendarUnknown(date(2027, 1, 1)).reason in names


def test_objection_reasons_use_the_objection_range() -> None:
    for name in reasons.ALL:
        if "OBJECTION" in name or "CALENDAR" in name:
            assert 500 <= error_reason_pb2.ErrorReason.Value(name) <= 599, name


def test_domain_imports_neither_grpc_nor_sqlalchemy_nor_generated_code() -> None:
    offenders = []
    for path in sorted(DOMAIN.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            modules = []
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                modules = [node.module]
            offenders += [(path.name, m) for m in modules if m.split(".")[0] in FORBIDDEN]
    assert offenders == []
