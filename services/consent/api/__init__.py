"""gRPC servicers of the consent service: proto in, use case, proto out."""
