"""Helpers shared by the consent tests and bench: an enterprise that signs, fakes, and a reference gateway replica."""
