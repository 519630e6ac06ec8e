"""Pure consent rules: authorizations, purposes, openness, signatures; no grpc, no sqlalchemy."""
