"""A tamper-evident evidence log (RFC 9162 Merkle tree, Ed25519 signed heads) a service mounts in its own database.

Modules, from pure to wired:

- ``entries``: leaf kinds, the payload rule (ids and hashes only, never raw personal data) and canonical JSON.
- ``heads``: node signing keys, key ids and signed tree heads.
- ``receipts``: receipts and consistency documents, verified offline (``python -m services.kit.evidence.verify``).
- ``schema`` / ``migration``: the log's tables for a service's MetaData, and the Alembic helper that creates them.
- ``store``: appends (one transaction per batch), proofs from stored subtree hashes, heads, leaves.
- ``log``: ``EvidenceLog``, the object a service holds: group-commit appender and tree head publisher threads.
- ``audit``: ``verify_log``, recomputing everything stored against the signed heads.
- ``servicer``: the gRPC ``EvidenceLogService`` any service registers on its server.
"""
