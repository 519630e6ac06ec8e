"""Unit tests of the Merkle module and the evidence log's pure parts (entries, heads, receipts, verifier)."""
