"""Risk alerts spend uses of the monitoring authorization they pass under, as every other release does: an
authorization whose use limit is reached (a one-time or N-use grant) lets no further alert through."""

from __future__ import annotations

import pytest

from creditnode.consent.v1 import consent_service_pb2 as cpb
from creditnode.scoring.v1 import scoring_service_pb2 as sc
from services.gateway.clients.consent import CachedDecision
from services.gateway.domain.quota import QuotaLimits, Quotas
from services.gateway.usecases import Gateway
from services.kit.errors import Unavailable
from tests.unit.gateway.test_usecases import (
    FakeConsent,
    FakeConsentCache,
    FakeLog,
    FakeParticipants,
    FakeRegistry,
    FakeScoring,
    FakeSharingList,
    _alert,
)

MONITORING = CachedDecision(True, cpb.DECISION_REASON_AUTHORIZED, "authorizations/m", frozenset({"TAX_PAYMENT"}))


@pytest.fixture
def gw() -> Gateway:
    return Gateway(
        participants=FakeParticipants(),  # type: ignore[arg-type]
        consent_cache=FakeConsentCache(),  # type: ignore[arg-type]
        consent=FakeConsent(),  # type: ignore[arg-type]
        registry=FakeRegistry(),  # type: ignore[arg-type]
        sharing_list=FakeSharingList(),  # type: ignore[arg-type]
        disclosure_log=FakeLog(),
        quotas=Quotas(QuotaLimits(), lambda: 0.0),
    )


def _stream(gw: Gateway, *alerts: sc.Alert) -> list[list[int]]:
    gw.scoring = scoring = FakeScoring()  # type: ignore[assignment]
    scoring.alert_batches = [sc.WatchAlertsResponse(alerts=list(alerts), cursor=alerts[-1].cursor)]
    gw.consent_cache.decision = MONITORING  # type: ignore[attr-defined]
    return [[a.cursor for a in b.alerts] for b in gw.risk_alerts("institutions/boc", 0, "platforms/xian", "")]


def test_each_passed_alert_records_a_use_of_its_authorization(gw: Gateway) -> None:
    assert _stream(gw, _alert(1, "REG_BASIC", "TAX_PAYMENT"), _alert(2)) == [[1, 2]]
    uses = gw.consent.uses  # type: ignore[attr-defined]
    assert uses == [
        ("authorizations/m", ["TAX_PAYMENT"], "alert-1"),
        ("authorizations/m", ["TAX_PAYMENT"], "alert-2"),
    ]  # each alert's cursor names its use: one sent again after a reconnect is a retry, not a second use
    assert len(gw.disclosure_log.leaves) == 2  # type: ignore[attr-defined]


def test_no_alert_passes_once_the_use_limit_is_reached(gw: Gateway) -> None:
    gw.consent.allow = False  # type: ignore[attr-defined] # consent: USE_LIMIT_REACHED
    assert _stream(gw, _alert(1, "TAX_PAYMENT"), _alert(2)) == [[]]
    assert gw.disclosure_log.leaves == []  # type: ignore[attr-defined]


def test_no_alert_passes_and_no_use_is_spent_while_the_log_cannot_record(gw: Gateway) -> None:
    gw.disclosure_log.writer_up = False  # type: ignore[attr-defined]
    with pytest.raises(Unavailable):
        _stream(gw, _alert(1, "TAX_PAYMENT"))
    assert gw.consent.uses == []  # type: ignore[attr-defined]
