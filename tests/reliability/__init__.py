"""Reliability suite (issue #11): faults, load and hostile input against real processes; run by `make reliability`."""
