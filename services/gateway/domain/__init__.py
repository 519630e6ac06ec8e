"""Pure rules of the gateway: who is calling, what may leave to whom, quotas. No grpc, no sqlalchemy."""
