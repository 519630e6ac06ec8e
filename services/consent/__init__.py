"""The consent service: enterprise authorizations, their checks and revocation."""
