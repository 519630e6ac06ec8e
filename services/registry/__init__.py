"""The registry service: participants, the sharing list and credit records."""
