"""Shared runtime for every creditnode service: no business rules live here."""
