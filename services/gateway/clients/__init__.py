"""Stubs and watch-fed caches of the services the gateway calls (registry, consent)."""
