"""Reliability: SIGKILLed services and a stopped PostgreSQL under a mixed workload."""
