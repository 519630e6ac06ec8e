"""A score drop caused by many new records at once is stored and alerted once (its key names every record)."""

from __future__ import annotations

import hashlib

from services.scoring import usecases
from services.scoring.domain.risk import ALERT_KEY_MAX, alert_key
from tests.unit.scoring_service.test_usecases import USCC, World, enforcement, loan, reg_basic


def registry_id(n: int) -> str:
    return hashlib.sha256(str(n).encode()).hexdigest()[:32]  # the registry's record ids are 32 hex digits


def test_a_score_drop_from_a_dozen_new_records_is_alerted_once(world: World) -> None:
    sc, store, records, consent = world
    records.add(USCC, reg_basic("ra"))
    usecases.on_enterprise(sc, USCC, "xian", True)
    consent.allowed.add(("bank-a", USCC))
    loan(sc)
    for n in range(12):  # one court batch: a dozen enforcement cases in one change
        records.add(USCC, enforcement(registry_id(n)))

    usecases.on_record_change(sc, USCC, records.revision)

    alerts, _ = usecases.deliverable_alerts(sc, "bank-a", 0, 100)
    assert sorted(a.risk for a in alerts if a.risk in ("SCORE_DROP", "GRADE_DOWNGRADE")) == [
        "GRADE_DOWNGRADE",
        "SCORE_DROP",
    ]
    assert all(len(a.key) <= ALERT_KEY_MAX for a, _ in store.alerts)


def test_a_long_key_is_bounded_and_still_tells_events_apart() -> None:
    refs = ",".join(f"{registry_id(n)}@1" for n in range(12))
    one, other = alert_key(USCC, f"SCORE_DROP:{refs}:a"), alert_key(USCC, f"SCORE_DROP:{refs}:b")
    assert len(one) == len(other) == ALERT_KEY_MAX
    assert one == alert_key(USCC, f"SCORE_DROP:{refs}:a")
    assert one != other
    assert alert_key(USCC, "NEW_ENFORCEMENT:r1@1") == f"{USCC}:NEW_ENFORCEMENT:r1@1"  # short keys as before
