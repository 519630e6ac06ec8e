"""Registry domain: participants, their lifecycles and identity rules. Pure: no gRPC, no SQL."""
