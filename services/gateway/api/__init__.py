"""The gateway's gRPC servicer: proto <-> use cases."""
