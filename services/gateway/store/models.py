"""SQLAlchemy models of the gateway service's own database: the disclosure (evidence) log's tables."""

from sqlalchemy.orm import DeclarativeBase

from services.kit.db import service_metadata
from services.kit.evidence.schema import add_evidence_tables


class Base(DeclarativeBase):
    """Every table of the gateway service hangs off this base: one metadata per service."""

    metadata = service_metadata()


metadata = Base.metadata
evidence_models = add_evidence_tables(metadata)
