"""The gRPC face of the scoring service: servicer and proto conversion."""
