"""A small typed Python client for platforms calling the gateway (mTLS, signed self-queries, typed errors)."""

from services.gateway.client_lib.platform import (
    CreditReport,
    GatewayError,
    PageSigner,
    PlatformClient,
    SelfQuerySigner,
)

__all__ = ["CreditReport", "GatewayError", "PageSigner", "PlatformClient", "SelfQuerySigner"]
