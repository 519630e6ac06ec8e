"""Enterprise-signature nonces (self-queries, objections) in the gateway database: one use per (enterprise, nonce)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from services.gateway.store.models import SelfQueryNonceRow
from services.kit.db import translate_db_errors

_N = SelfQueryNonceRow


class SqlNonces:
    """``use`` is one short writer transaction: self-queries are rare, and a replay must be refused on any replica."""

    def __init__(self, writer: sessionmaker[Session]) -> None:
        self._writer = writer

    def use(self, enterprise: str, nonce: str, until: datetime, now: datetime) -> bool:
        with translate_db_errors(), self._writer() as s:
            s.execute(delete(_N).where(_N.expires_at <= now))  # indexed; whatever is past its window
            try:
                with s.begin_nested():
                    s.execute(insert(_N).values(enterprise=enterprise, nonce=nonce, expires_at=until))
            except IntegrityError:
                # Seen, and not yet expired (expired rows were deleted above, in this transaction).
                s.rollback()
                return False
            s.commit()
            return True
