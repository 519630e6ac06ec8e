"""SQLAlchemy models of the consent service's own database."""

from sqlalchemy.orm import DeclarativeBase

from services.kit.db import service_metadata


class Base(DeclarativeBase):
    """Every table of the consent service hangs off this base: one metadata per service."""

    metadata = service_metadata()


metadata = Base.metadata
