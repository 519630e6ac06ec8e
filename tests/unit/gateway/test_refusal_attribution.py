"""Who a refusal is recorded against behind 秦信融: the platform it relayed for once that platform can be established
(admitted, or refused for what it asked), else the caller; and whose denial burst the refusal makes."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import pytest

from creditnode.objection.v1 import objection_service_pb2 as opb
from services.gateway.domain.identity import InstitutionView, PlatformView
from services.gateway.domain.selfquery import SignedSelfQuery
from services.gateway.domain.supervision import Disclosure, Rule, Thresholds, run_rules
from services.gateway.evidence_packages import EvidencePackages, PackageRequest
from services.gateway.usecases import Gateway
from services.kit.errors import DomainError, InvalidArgument, PermissionDenied
from services.kit.validation import invalid
from tests.unit.gateway.test_usecases import E, gw, q  # noqa: F401  (the fixture)

QXR = "platforms/qinxinrong"
COUNTY = "platforms/county"


@pytest.fixture
def relaying(gw: Gateway) -> Gateway:  # noqa: F811
    """The gateway with 秦信融 admitted as the aggregator and the county admitted behind it."""
    gw.participants.platforms[QXR] = PlatformView(QXR, True, "", True, 2)  # type: ignore[attr-defined]
    gw.participants.platforms[COUNTY] = PlatformView(COUNTY, True, QXR, False, None)  # type: ignore[attr-defined]
    return gw


def _bursts(leaves: list[dict[str, Any]]) -> list[tuple[str, int]]:
    at = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    found = run_rules([Disclosure(i, at, p) for i, p in enumerate(leaves)], {}, Thresholds(burst_denials=2))
    return [(f.platform, f.count) for f in found if f.rule == Rule.DENIAL_BURST]


def test_a_malformed_request_relayed_by_the_aggregator_is_refused_against_the_platform_it_served(
    relaying: Gateway,
) -> None:
    # A county's malformed requests that 秦信融 relays are the county's: recorded as served to it (秦信融 still the
    # caller, as for a well-formed request), and its denials make its burst, not 秦信融's.
    malformed = invalid("signature.signed_at", "must be a timestamp")
    assert relaying.refuse("self_query", QXR, COUNTY, E, malformed) is malformed
    with pytest.raises(InvalidArgument):
        relaying.file_objection(opb.FileObjectionRequest(filer_kind=opb.FILER_KIND_UNSPECIFIED), QXR, COUNTY)
    leaves = relaying.disclosure_log.leaves  # type: ignore[attr-defined]
    assert [(leaf["caller"], leaf.get("platform"), leaf.get("requester")) for leaf in leaves] == [
        (QXR, COUNTY, COUNTY)
    ] * 2
    assert _bursts(leaves) == [(COUNTY, 2)]


def test_a_malformed_request_whose_served_platform_cannot_be_established_stays_the_callers(relaying: Gateway) -> None:
    malformed = invalid("signature.signed_at", "must be a timestamp")
    refused = [
        relaying.refuse("self_query", QXR, "platforms/张三", E, malformed),  # no platform name: nothing served
        relaying.refuse("self_query", QXR, "platforms/elsewhere", E, malformed),  # not one 秦信融 proxies
        relaying.refuse("self_query", QXR, "", E, malformed),  # 秦信融's own request
    ]
    assert [e.reason for e in refused] == [
        "ERROR_REASON_INVALID_FIELD",
        "ERROR_REASON_NOT_A_PROXY",
        "ERROR_REASON_INVALID_FIELD",
    ]
    leaves = relaying.disclosure_log.leaves  # type: ignore[attr-defined]
    assert [(leaf["caller"], leaf.get("platform", "")) for leaf in leaves] == [(QXR, ""), (QXR, ""), (QXR, QXR)]
    assert _bursts(leaves) == [(QXR, 3)]


def test_a_self_query_refused_once_admitted_behind_the_aggregator_is_the_served_platforms(relaying: Gateway) -> None:
    # Refused after admission (a signature that does not verify, say), as a credit report refused then is.
    relaying.registry.enterprise_keys = lambda uscc: []  # type: ignore[attr-defined]
    unsigned = SignedSelfQuery(E, ("TAX_PAYMENT",), "0" * 16, "n" * 20, datetime(2026, 11, 30, tzinfo=UTC), b"")
    for _ in range(2):
        with pytest.raises(DomainError):
            relaying.self_query(unsigned, QXR, COUNTY)
    leaves = relaying.disclosure_log.leaves  # type: ignore[attr-defined]
    assert [(leaf["reason"], leaf["caller"], leaf.get("platform")) for leaf in leaves] == [
        ("ERROR_REASON_SIGNATURE_INVALID", QXR, COUNTY)
    ] * 2
    assert _bursts(leaves) == [(COUNTY, 2)]


def test_an_evidence_package_refused_once_admitted_behind_the_aggregator_is_the_served_platforms(
    relaying: Gateway,
) -> None:
    # Admitted, then refused (the institution named is no arbiter, a malformed lender): the county's request, relayed.
    relaying.participants.institutions["institutions/county-bank"] = InstitutionView(  # type: ignore[attr-defined]
        "institutions/county-bank", COUNTY, True
    )
    relaying.participants.institutions["institutions/county-court"] = InstitutionView(  # type: ignore[attr-defined]
        "institutions/county-court", COUNTY, True, arbiter=True
    )
    packages = EvidencePackages(relaying, None, None, lambda loan, enterprise, lender: None)  # type: ignore[arg-type]
    asked = PackageRequest("institutions/county-bank", "(2026)1", E, "institutions/boc", "loan-1", COUNTY)
    with pytest.raises(PermissionDenied):
        packages.export(asked, QXR)
    with pytest.raises(InvalidArgument):
        packages.export(dataclasses.replace(asked, arbiter="institutions/county-court", lender="boc"), QXR)
    leaves = relaying.disclosure_log.leaves  # type: ignore[attr-defined]
    assert [(leaf["reason"], leaf["caller"], leaf.get("platform")) for leaf in leaves] == [
        ("ERROR_REASON_NOT_AN_ARBITER", QXR, COUNTY),
        ("ERROR_REASON_INVALID_FIELD", QXR, COUNTY),
    ]
    assert _bursts(leaves) == [(COUNTY, 2)]
    # A malformed arbiter: access first, and recorded as the served platform's as well.
    with pytest.raises(InvalidArgument):
        packages.export(dataclasses.replace(asked, arbiter="张三"), QXR)
    assert relaying.disclosure_log.leaves[-1].get("platform") == COUNTY  # type: ignore[attr-defined]


def test_an_institution_refused_behind_the_aggregator_is_the_served_platforms_refusal(relaying: Gateway) -> None:
    # 秦信融 and the county admitted, the institution named is not the county's (or has no access, or is no name at
    # all): the county's request, as one of the county's own would be. A platform it does not proxy stays 秦信融's.
    from creditnode.scoring.v1 import scoring_service_pb2 as sc

    with pytest.raises(PermissionDenied):
        relaying.credit_report(q(on_behalf_of=COUNTY, institution="institutions/boc"), QXR)
    with pytest.raises(PermissionDenied):
        relaying.relay_consent("GrantAuthorization", object(), QXR, "platforms/xian")
    with pytest.raises(InvalidArgument):
        list(relaying.risk_alerts("", 0, QXR, COUNTY))  # no institution named
    with pytest.raises(InvalidArgument):
        relaying.report_loan(sc.ReportLoanRequest(institution="张三"), QXR, COUNTY)  # no institution's name
    leaves = relaying.disclosure_log.leaves  # type: ignore[attr-defined]
    assert [(leaf["reason"], leaf["caller"], leaf.get("on_behalf_of")) for leaf in leaves] == [
        ("ERROR_REASON_INSTITUTION_NO_ACCESS", QXR, COUNTY),
        ("ERROR_REASON_NOT_A_PROXY", QXR, None),
        ("ERROR_REASON_INVALID_FIELD", QXR, COUNTY),
        ("ERROR_REASON_INVALID_FIELD", QXR, COUNTY),
    ]
    assert _bursts([leaves[0], *leaves[2:]]) == [(COUNTY, 3)]
    # Behind 秦信融 but suspended, its malformed request is its own too (as its well-formed one, refused admission).
    relaying.participants.platforms[COUNTY] = PlatformView(  # type: ignore[attr-defined]
        COUNTY, False, QXR, False, None
    )
    with pytest.raises(InvalidArgument):
        list(relaying.risk_alerts("", 0, QXR, COUNTY))
    assert relaying.disclosure_log.leaves[-1].get("on_behalf_of") == COUNTY  # type: ignore[attr-defined]
    # A platform's own request naming an institution not its own is its own, as before.
    with pytest.raises(PermissionDenied):
        relaying.credit_report(q(institution="institutions/elsewhere"), "platforms/xian")
    assert "on_behalf_of" not in relaying.disclosure_log.leaves[-1]  # type: ignore[attr-defined]
