"""A report releasing a long history: every record named in the disclosure log, over as many leaves as it takes."""

from __future__ import annotations

import hashlib
from typing import Any

from creditnode.registry.v1 import records_pb2 as rec
from services.gateway.domain.quota import QuotaLimits, Quotas
from services.gateway.usecases import RECORDS_PER_LEAF, Gateway
from tests.unit.gateway.test_usecases import (
    E,
    FakeConsent,
    FakeConsentCache,
    FakeLog,
    FakeParticipants,
    FakeRegistry,
    FakeSharingList,
    q,
)


class LongHistory(FakeRegistry):
    """One public item with ``count`` records (a monthly item over many years)."""

    def __init__(self, count: int) -> None:
        super().__init__(held=True)
        self.count = count

    def records(self, uscc: str, item_codes: list[str], *, raw: bool) -> list[rec.CreditRecord]:
        return [
            rec.CreditRecord(name=f"{E}/records/{i:032x}", item_code="REG_BASIC", openness=1)
            for i in range(self.count)
            if "REG_BASIC" in item_codes
        ]


def _gateway(count: int) -> Gateway:
    return Gateway(
        participants=FakeParticipants(),  # type: ignore[arg-type]
        consent_cache=FakeConsentCache(),  # type: ignore[arg-type]
        consent=FakeConsent(),  # type: ignore[arg-type]
        registry=LongHistory(count),  # type: ignore[arg-type]
        sharing_list=FakeSharingList(),  # type: ignore[arg-type]
        disclosure_log=FakeLog(),  # checks each payload as the real log does (at most 16 KiB)
        quotas=Quotas(QuotaLimits(), lambda: 0.0),
    )


def test_every_released_record_is_named_with_its_hash_however_many() -> None:
    count = 3 * RECORDS_PER_LEAF + 7
    gw = _gateway(count)
    report = gw.credit_report(q(), "platforms/xian")
    assert len(report.records) == count
    leaves: list[dict[str, Any]] = gw.disclosure_log.leaves  # type: ignore[attr-defined]
    assert [(leaf["part"], leaf["parts"]) for leaf in leaves] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert report.leaf_index == 0  # the receipt names the first
    named = [name for leaf in leaves for name in leaf["records"]]
    assert named == [r.name.rsplit("/", 1)[-1] for r in report.records]
    hashes = [h for leaf in leaves for h in leaf["record_sha256"]]
    assert hashes == [hashlib.sha256(r.SerializeToString(deterministic=True)).hexdigest() for r in report.records]
    # each leaf is the whole release otherwise: one payload hash, one request
    assert {(leaf["payload_sha256"], leaf["request_id"], tuple(leaf["released"])) for leaf in leaves} == {
        (report.payload_sha256, "", ("REG_BASIC",))
    }


def test_a_short_history_is_one_leaf_without_parts() -> None:
    gw = _gateway(RECORDS_PER_LEAF)
    gw.credit_report(q(), "platforms/xian")
    (leaf,) = gw.disclosure_log.leaves  # type: ignore[attr-defined]
    assert "part" not in leaf
    assert len(leaf["records"]) == RECORDS_PER_LEAF
