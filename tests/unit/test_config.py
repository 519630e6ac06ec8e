"""Settings fail fast with a message that names the variable."""

from __future__ import annotations

import pytest

from services.kit.config import ServiceSettings, SettingsError, load_settings


class _WithDownstream(ServiceSettings):
    registry_addr: str


def test_missing_required_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGISTRY_ADDR", raising=False)
    with pytest.raises(SettingsError) as err:
        load_settings(_WithDownstream)
    assert "REGISTRY_ADDR" in str(err.value)
    assert err.value.code == 2


def test_wrong_value_is_named_without_echoing_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHUTDOWN_GRACE_SECONDS", "forever")
    with pytest.raises(SettingsError) as err:
        load_settings(ServiceSettings)
    assert "SHUTDOWN_GRACE_SECONDS" in str(err.value)
    assert "forever" not in str(err.value)


def test_valid_environment_is_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHUTDOWN_GRACE_SECONDS", "2.5")
    monkeypatch.setenv("LISTEN_ADDR", "0.0.0.0:7000")
    settings = load_settings(ServiceSettings)
    assert settings.shutdown_grace_seconds == 2.5
    assert settings.listen_addr == "0.0.0.0:7000"


def test_embedded_database_is_a_file_per_service(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    settings = load_settings(ServiceSettings)
    assert settings.resolved_database_url("consent") == f"sqlite:///{tmp_path}/consent.db"
