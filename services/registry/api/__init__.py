"""gRPC servicers of the registry: proto in, use case, proto out."""
