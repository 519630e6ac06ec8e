"""gRPC API of the objection service."""
