"""The registry's start: the "department late" counter is exported for every listed item before any record."""

from __future__ import annotations

from pathlib import Path

from prometheus_client import REGISTRY

from services.registry import record_usecases as uc
from services.registry.domain.sharing_list import parse_sharing_list
from tests.unit.registry.test_late_counter_series import LIST_YAML


def test_the_registry_exports_them_from_its_start_before_any_record_arrives(database_url: str, tmp_path: Path) -> None:
    from services.kit.metrics import INGEST_LATE
    from services.registry.main import RegistrySettings, build

    INGEST_LATE.clear()  # whatever other tests in this process counted
    uc._late_of.cache_clear()
    settings = RegistrySettings(
        listen_addr="127.0.0.1:0", database_url=database_url, var_dir=tmp_path, ca_autocreate=True
    )
    server = build(settings, configure_logs=False)
    try:
        for item in parse_sharing_list(LIST_YAML).items:
            labels = {"department": item.department, "item": item.code}
            assert REGISTRY.get_sample_value("creditnode_ingest_late_records_total", labels) == 0, labels
    finally:
        server.stop(0)
