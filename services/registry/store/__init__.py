"""Storage for the registry service (SQLAlchemy), behind the domain's ports."""
