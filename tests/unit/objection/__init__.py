"""Unit tests of the objection domain."""
