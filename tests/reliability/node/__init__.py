"""Reliability tests sharing one node: authorization, hostile input, load, mTLS, revocation."""
