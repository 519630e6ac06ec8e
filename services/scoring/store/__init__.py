"""Storage for the scoring service (SQLAlchemy), behind the domain's ports."""
