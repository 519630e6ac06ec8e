"""Adapters to other services (registry, scoring, the gateway's disclosure log) behind the domain's ports."""
