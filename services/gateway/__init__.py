"""The gateway service: the only door out: identity, status and consent enforced before release."""
