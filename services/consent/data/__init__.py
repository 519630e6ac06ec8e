"""Data files of the consent service (purpose templates), read at start-up."""
