"""Fixtures for scoring's unit tests: the sharing list as a catalogue, the basic model, a record builder."""

from __future__ import annotations

import pytest

from services.scoring.data import model_text
from services.scoring.domain.extract import Catalogue
from services.scoring.domain.model import Model, load_model
from tests.unit.scoring.builders import Records, sharing_list_catalogue


@pytest.fixture(scope="session")
def catalogue() -> Catalogue:
    return sharing_list_catalogue()


@pytest.fixture(scope="session")
def model(catalogue: Catalogue) -> Model:
    return load_model(model_text(), catalogue)


@pytest.fixture
def records() -> Records:
    return Records()
