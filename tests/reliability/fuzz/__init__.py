"""Reliability: coverage-guided fuzzing of validation and masking."""
