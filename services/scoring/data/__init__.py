"""Indicator-system documents shipped with the scoring service (YAML), read as text for the domain to compile."""

from __future__ import annotations

from importlib import resources

BASIC_MODEL = "basic-v1.yaml"


def model_text(name: str = BASIC_MODEL) -> str:
    """The text of a packaged model document, e.g. ``basic-v1.yaml``."""
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
