"""The scoring service: credit evaluations, portraits, loans and post-loan alerts."""
