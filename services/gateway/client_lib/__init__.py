"""A small typed Python client for platforms calling the gateway (mTLS, enterprise-signed requests, typed errors)."""

from services.gateway.client_lib.platform import (
    CreditReport,
    GatewayError,
    ObjectionSigner,
    PageSigner,
    PlatformClient,
    SelfQuerySigner,
)

__all__ = ["CreditReport", "GatewayError", "ObjectionSigner", "PageSigner", "PlatformClient", "SelfQuerySigner"]
