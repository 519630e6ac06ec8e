"""Adapters to what consent depends on: the registry over gRPC, and files read at start-up."""
