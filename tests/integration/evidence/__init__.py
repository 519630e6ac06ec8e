"""Integration tests of the evidence log on real SQLite and PostgreSQL databases, and its servicer on a real port."""
