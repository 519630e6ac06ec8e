"""A digest of stored data (registry records and participants, consent authorizations) to prove nothing changed."""

from __future__ import annotations

import hashlib

from sqlalchemy import create_engine, inspect, text

REGISTRY_TABLES = ("records", "record_versions", "enterprises", "enterprise_keys", "platforms", "institutions")
CONSENT_TABLES = ("authorizations", "authorization_events")


def digest(database_url: str, tables: tuple[str, ...]) -> dict[str, str]:
    """SHA-256 per table over its rows in primary-key order."""
    engine = create_engine(database_url)
    out: dict[str, str] = {}
    try:
        with engine.connect() as conn:
            for table in tables:
                pk = inspect(conn).get_pk_constraint(table)["constrained_columns"]
                order = ", ".join(f'"{c}"' for c in pk) or "1"
                h = hashlib.sha256()
                for row in conn.execute(text(f'SELECT * FROM "{table}" ORDER BY {order}')):  # noqa: S608 (fixed names)
                    h.update(repr(tuple(row)).encode())
                out[table] = h.hexdigest()
    finally:
        engine.dispose()
    return out
