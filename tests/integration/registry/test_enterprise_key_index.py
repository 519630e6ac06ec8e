"""Who holds an enterprise key is found through an index on the key, and a database where the old code let two
enterprises share one key still upgrades (the index is not unique: see registry_0013)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine

from services.kit.db import make_engine
from services.registry.domain.participants import Enterprise, EnterpriseKey, KeyState, key_id_of
from services.registry.main import MIGRATIONS
from tests.integration.registry.records_support import store_with_a_city_platform
from tests.registry_helpers import random_uscc


def _alembic(engine: Engine, target: str) -> None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("version_table", "alembic_version_registry")
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, target)


@pytest.fixture
def engine_at_0012(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    _alembic(engine, "registry_0012")
    yield engine
    engine.dispose()


def test_a_key_shared_before_the_check_does_not_stop_the_upgrade_and_its_holder_is_found_by_index(
    engine_at_0012: Engine,
) -> None:
    uow = store_with_a_city_platform(engine_at_0012)
    shared = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    holders = {random_uscc(), random_uscc()}
    now = datetime.now(UTC)
    with uow() as u:  # as the old code registered them (it asked no one who held the key): one key for both
        for uscc in holders:
            key = EnterpriseKey(key_id_of(shared), shared, KeyState.ACTIVE, now)
            u.enterprises.add(Enterprise(uscc, "某公司", "city-1", [key], False, now, now))
        u.commit()
    _alembic(engine_at_0012, "head")
    indexes = sa.inspect(engine_at_0012).get_indexes("enterprise_keys")
    assert [(i["column_names"], bool(i["unique"])) for i in indexes] == [(["public_key"], False)]
    with uow() as u:
        assert u.enterprises.key_holder(shared) in holders
