"""Risk alerts spend uses of the monitoring authorization they pass under, as every other release does: an
authorization whose use limit is reached (a one-time or N-use grant) lets no further alert through."""

from __future__ import annotations

import pytest

from creditnode.consent.v1 import consent_service_pb2 as cpb
from creditnode.scoring.v1 import scoring_service_pb2 as sc
from services.gateway.clients.consent import CachedDecision
from services.gateway.domain.quota import QuotaLimits, Quotas
from services.gateway.usecases import Gateway
from services.kit.errors import InvalidArgument, Unavailable
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


class ConsentWithRetryWindow(FakeConsent):
    """Consent as it answers a use id already recorded on the authorization: a retry within its ten minutes,
    ERROR_REASON_REQUEST_ID_REUSED once they are over (``window_over``); ``reason`` is what it decides now."""

    def __init__(self) -> None:
        super().__init__()
        self.window_over = False
        self.reason: cpb.DecisionReason = cpb.DECISION_REASON_AUTHORIZED
        self.checks: list[tuple[str, list[str]]] = []

    def consume(
        self, requester: str, enterprise: str, purpose: str, items: list[str], authorization: str, request_id: str
    ) -> cpb.CheckAuthorizationResponse:
        if self.window_over and any(u[0] == authorization and u[2] == request_id for u in self.uses):
            raise InvalidArgument(
                "ERROR_REASON_REQUEST_ID_REUSED", "request_id was already used for another check", {"field": "x"}
            )
        used: cpb.CheckAuthorizationResponse = super().consume(
            requester, enterprise, purpose, items, authorization, request_id
        )
        return used

    def check_named(
        self, requester: str, enterprise: str, purpose: str, items: list[str], authorization: str
    ) -> cpb.CheckAuthorizationResponse:
        self.checks.append((authorization, items))
        allowed = self.reason == cpb.DECISION_REASON_AUTHORIZED
        return cpb.CheckAuthorizationResponse(
            decision=cpb.DECISION_ALLOW if allowed else cpb.DECISION_DENY, reason=self.reason
        )


@pytest.mark.parametrize(
    ("reason", "passes"),
    [
        (cpb.DECISION_REASON_AUTHORIZED, True),
        (cpb.DECISION_REASON_USE_LIMIT_REACHED, True),  # reached by this alert's own use, maybe
        (cpb.DECISION_REASON_REVOKED, False),
    ],
)
def test_an_alert_sent_again_after_consents_retry_window_spends_no_second_use_and_does_not_fail_the_stream(
    gw: Gateway, reason: cpb.DecisionReason, passes: bool
) -> None:
    gw.consent = consent = ConsentWithRetryWindow()  # type: ignore[assignment]
    assert _stream(gw, _alert(1, "TAX_PAYMENT"), _alert(2, "TAX_PAYMENT")) == [[1, 2]]
    # Not acknowledged; the subscriber resumes a quarter of an hour later and gets both again, then a new one.
    consent.window_over, consent.reason = True, reason
    again = _stream(gw, _alert(1, "TAX_PAYMENT"), _alert(2, "TAX_PAYMENT"), _alert(3, "TAX_PAYMENT"))
    assert again == [[1, 2, 3] if passes else [3]]
    assert [u[2] for u in consent.uses] == ["alert-1", "alert-2", "alert-3"]  # spent once each
    assert consent.checks == [("authorizations/m", ["TAX_PAYMENT"])] * 2  # asked again, spending nothing
    assert len(gw.disclosure_log.leaves) == (5 if passes else 3)  # type: ignore[attr-defined]
