"""Storage for the objection service (SQLAlchemy), behind the domain's ports."""
