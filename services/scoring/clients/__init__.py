"""Adapters to other services: the registry (records, participants) and consent (monitoring authorization)."""
