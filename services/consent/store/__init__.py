"""Storage for the consent service (SQLAlchemy), behind the domain's ports."""
