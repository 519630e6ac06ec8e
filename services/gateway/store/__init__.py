"""Storage for the gateway service (SQLAlchemy), behind the domain's ports."""
