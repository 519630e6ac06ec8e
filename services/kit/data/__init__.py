"""Data files shipped with the shared kit (official working-day calendars for years the library does not cover)."""
