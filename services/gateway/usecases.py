"""The gateway's use cases: every check in order before any record is read, the egress policy, the disclosure log."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import structlog

from creditnode.consent.v1 import consent_service_pb2 as cpb
from creditnode.objection.v1 import objection_service_pb2 as opb
from creditnode.registry.v1 import records_pb2 as rec
from creditnode.scoring.v1 import scoring_service_pb2 as spb
from services.gateway.clients.consent import ConsentCache, ConsentClient, ConsentUnavailable
from services.gateway.clients.downstream import ObjectionClient, ScoringClient
from services.gateway.clients.errors import unavailable
from services.gateway.clients.participants import ParticipantCache
from services.gateway.clients.registry import RegistryReader, SharingListCache, openness_of
from services.gateway.domain.identity import Caller, InstitutionView, authorize_caller
from services.gateway.domain.objection_signing import Signature, SignedObjection, verify_objection
from services.gateway.domain.policy import (
    NO_COVERAGE,
    CallerKind,
    Coverage,
    ItemVerdict,
    Openness,
    decide_item,
    needs_authorization,
    published,
)
from services.gateway.domain.quota import Quotas
from services.gateway.domain.selfquery import NonceBook, Nonces, SignedSelfQuery, verify_self_query
from services.gateway.domain.supervision import NOTHING_RELEASED
from services.kit import paging
from services.kit import uscc as uscc_rules
from services.kit.errors import DomainError, InvalidArgument, PermissionDenied
from services.kit.protos import from_timestamp
from services.kit.validation import invalid
from services.kit.validation import request_id as checked_request_id

log = structlog.get_logger("gateway")

_ITEM = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
_PURPOSE = re.compile(r"^[A-Z][A-Z0-9_]{1,63}$")
PLATFORM_NAME = re.compile(r"^platforms/[a-z0-9][a-z0-9-]{0,62}$")
INSTITUTION_NAME = re.compile(r"^institutions/[a-z0-9][a-z0-9-]{0,62}$")
# The sharing list has a few dozen items; more in one request is hostile (and would not fit the disclosure leaf).
MAX_ITEMS = 200
# Released records named in one disclosure leaf: 64 names and hashes take ~6.7 KB of a leaf's 16 KiB.
RECORDS_PER_LEAF = 64


class DisclosureLog(Protocol):
    """The disclosure log: ``record`` returns the leaf index once durable (-1 when auditing is off)."""

    origin: str

    def record(self, payload: dict[str, Any]) -> int: ...

    def accepting(self) -> bool:
        """False while records would fail (its writer is down)."""
        ...

    def disclosures_of(
        self, enterprise: str, after: int | None, limit: int
    ) -> list[tuple[int, datetime, dict[str, Any]]]:
        """Up to ``limit`` leaves about ``enterprise`` after index ``after`` (None: from the start), in log order."""
        ...


def enterprise_uscc(name: str) -> str:
    return uscc_rules.enterprise_code(name, "enterprise")


@dataclass(frozen=True)
class ReportQuery:
    """A credit report request, as the API hands it over."""

    enterprise: str
    purpose: str
    item_codes: tuple[str, ...]
    categories: tuple[int, ...]
    institution: str = ""
    on_behalf_of: str = ""
    request_id: str = ""


@dataclass
class Report:
    """What leaves, what is withheld, and the receipt."""

    enterprise: str
    allowed: bool
    authorization: str
    consent_reason: int
    verdicts: list[ItemVerdict]
    records: list[rec.CreditRecord]
    leaf_index: int = -1
    payload_sha256: str = ""


@dataclass
class SelfReport:
    """One page of a self-query: records on the first page only; ``next_page_token`` empty on the last."""

    records: list[rec.CreditRecord]
    disclosures: list[tuple[int, datetime, dict[str, Any]]]
    leaf_index: int = -1
    payload_sha256: str = ""
    next_page_token: str = ""


# Leaves about the enterprise read for one page of its history at most (its own self-queries and refusals are among
# them and are not listed): a page may come back short, with a token, rather than read an unbounded stretch.
HISTORY_SCAN_PER_PAGE = 5000


def listed_in_history(payload: Mapping[str, Any]) -> bool:
    """Whether a disclosure leaf about an enterprise is an entry of its self-query history: a release of records or
    of a derived product (once, on its first leaf), or an evidence package exported about it."""
    if payload.get("type") == "evidence_package":
        return payload.get("decision") == "ALLOW"
    return payload.get("type") == "credit_report" and bool(payload.get("released")) and payload.get("part", 1) == 1


def _history_query(enterprise: str) -> list[str]:
    """What a history page token is bound to: the enterprise (item_codes select records, not the history)."""
    return ["self-query-history", enterprise]


_PRODUCTS = {"GetEvaluation": "evaluation", "GetPortrait": "portrait", "GetScenarioScore": "scenario_score"}
ALERT_PURPOSE = "POST_LOAN_MONITORING"


@dataclass
class AlertBatch:
    """Alerts that may be passed on, each with its receipt (leaf index, payload SHA-256), and scoring's cursor."""

    cursor: int
    alerts: list[spb.Alert] = field(default_factory=list)
    receipts: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class Gateway:
    """Everything a request needs, wired once by main.py."""

    participants: ParticipantCache
    consent_cache: ConsentCache
    consent: ConsentClient
    registry: RegistryReader
    sharing_list: SharingListCache
    disclosure_log: DisclosureLog
    quotas: Quotas
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    signature_window: timedelta = timedelta(minutes=5)
    nonces: Nonces = field(default_factory=NonceBook)
    scoring: ScoringClient | None = None
    objection: ObjectionClient | None = None
    pool: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(16, thread_name_prefix="gateway-fetch"))

    # ---- checks 1-3 ----------------------------------------------------------------------------------------------

    def admit(self, connected: str, on_behalf_of: str = "", institution: str = "") -> Caller:
        """Steps 2-3 for an authenticated platform; fail closed while the participant view is not live."""
        if on_behalf_of and not PLATFORM_NAME.fullmatch(on_behalf_of):
            raise invalid("on_behalf_of", "must look like platforms/{id}")
        if institution and not INSTITUTION_NAME.fullmatch(institution):
            raise invalid("institution", "must look like institutions/{id}")
        view = self.participants.admitting()
        if view is None:
            raise unavailable("registry")
        platforms, institutions = view
        return authorize_caller(connected, on_behalf_of, institution, platforms, institutions)

    def institution(self, name: str) -> InstitutionView | None:
        """The institution as the live participant view has it, as admission reads it (the current maps of a listing
        just begun are still empty); UNAVAILABLE while no view is live."""
        view = self.participants.admitting()
        if view is None:
            raise unavailable("registry")
        return view[1](name)

    def _still_admitted(self, caller: Caller) -> None:
        """Checks 2-3 again just before a release: a suspension (or removal) that reached the participant view while
        records, consent or scoring were being asked must stop what the first check let through."""
        self.admit(caller.via, caller.platform if caller.platform != caller.via else "", caller.institution)

    def _deny(
        self,
        method: str,
        connected: str,
        enterprise: str,
        exc: DomainError,
        request_id: str = "",
        caller: Caller | None = None,
        revoked_certificate_of: str = "",
        on_behalf_of: str = "",
    ) -> None:
        # Denials answer hostile input too: the log is permanent and signed, so what the caller sent is kept only when
        # well-formed (a name or ID number sent as the enterprise must not be recorded for ever, nor keep the denial
        # from being recorded at all), and cut short so the leaf always fits.
        payload = {
            "type": method,
            "decision": "DENY",
            "reason": exc.reason,
            "caller": (connected or "unauthenticated")[:80],
            "enterprise": enterprise if _is_enterprise_name(enterprise) else "",
            "request_id": _recordable_request_id(request_id[:64]),
        }
        if caller is not None:  # admitted, then refused (no authorization, say): supervision counts it against them
            payload["platform"], payload["requester"] = caller.platform, caller.requester
        elif acted_for := self._acted_for(connected, on_behalf_of, exc):
            # The caller is the aggregator, so the platform it acted for is named apart: for the operator confirming
            # that a suspension took hold, and for supervision, which counts the refusal against that platform.
            payload["on_behalf_of"] = acted_for
        if revoked_certificate_of:
            # Apart from the caller: a revoked certificate proves no identity (its key may be a thief's), and a leaf's
            # caller may later fetch its inclusion proof.
            payload["revoked_certificate_of"] = revoked_certificate_of
        # For the operator checking that a suspension took hold (the runbook): ids and the reason, nothing personal.
        log.info(
            "request_refused",
            method=method,
            reason=exc.reason,
            **{
                k: payload[k]
                for k in ("caller", "platform", "requester", "on_behalf_of", "revoked_certificate_of")
                if k in payload
            },
        )
        try:
            leaf = self.disclosure_log.record(payload)
        except DomainError:
            log.error("denial_not_recorded", method=method, reason=exc.reason)
            return
        if leaf >= 0:  # the refusal's receipt travels in its ErrorInfo, as a release's in its response
            exc.metadata["receipt_leaf_index"] = str(leaf)

    def _acted_for(self, connected: str, on_behalf_of: str, exc: DomainError) -> str:
        """The platform 秦信融 acted for, when a refusal at admission is that platform's: refused admission itself
        (suspended, say), or admitted with 秦信融 and refused for the rest of what it asked (an institution not its own,
        or no institution's name). Empty when none can be established: a name of no platform, one 秦信融 does not
        proxy, or 秦信融's own request; the refusal is then the caller's."""
        if exc.reason == "ERROR_REASON_PLATFORM_NOT_ADMITTED":
            refused = exc.metadata.get("platform", connected)  # admission checked the name's shape
            return refused if refused != connected else ""
        if not on_behalf_of or on_behalf_of == connected or not PLATFORM_NAME.fullmatch(on_behalf_of):
            return ""
        try:
            return self.admit(connected, on_behalf_of).platform
        except DomainError as denial:
            return self._acted_for(connected, "", denial)

    def _admitted(self, method: str, connected: str, on_behalf_of: str, institution: str = "") -> Caller:
        """``admit`` for the calls that read no record themselves: a refusal is recorded all the same."""
        try:
            return self.admit(connected, on_behalf_of, institution)
        except DomainError as exc:
            self._deny(method, connected, "", exc, on_behalf_of=on_behalf_of)
            raise

    def _recording(self) -> None:
        """Before a use of an authorization is spent: the release could not be recorded, so it would be wasted."""
        if not self.disclosure_log.accepting():
            raise unavailable("disclosure log")

    def denied(
        self,
        method: str,
        connected: str,
        enterprise: str,
        exc: DomainError,
        request_id: str = "",
        revoked_certificate_of: str = "",
        caller: Caller | None = None,
        on_behalf_of: str = "",
    ) -> None:
        """Record a denial that happened before the use case (e.g. authentication), or in one kept elsewhere.
        ``revoked_certificate_of``: the platform a refused revoked certificate was issued to (not authenticated, so
        not the leaf's caller). ``caller``: admitted before the refusal, so it is recorded as served to them; else
        ``on_behalf_of``: the platform 秦信融 asked to act for (named when the refusal is that platform's)."""
        self._deny(
            method,
            connected,
            enterprise,
            exc,
            request_id,
            caller,
            revoked_certificate_of=revoked_certificate_of,
            on_behalf_of=on_behalf_of,
        )

    def refuse(self, method: str, connected: str, on_behalf_of: str, enterprise: str, exc: DomainError) -> DomainError:
        """A request found malformed before its use case could start: access is still checked first (a refused
        platform hears that, not what is wrong with its request), and the refusal is recorded. Returns what to raise.

        Admitted, the refusal is recorded as served to the platform admitted (the one 秦信融 relayed it for, 秦信融
        still its caller), as a well-formed request's would be: recorded with the caller alone, every county's malformed
        request counted against 秦信融."""
        caller: Caller | None = None
        try:
            caller = self.admit(connected, on_behalf_of)
        except DomainError as denial:
            exc = denial
        self._deny(method, connected, enterprise, exc, caller=caller, on_behalf_of=on_behalf_of)
        return exc

    # ---- GetCreditReport -----------------------------------------------------------------------------------------

    def credit_report(self, q: ReportQuery, connected: str) -> Report:
        caller: Caller | None = None
        try:
            caller = self.admit(connected, q.on_behalf_of, q.institution)
            return self._credit_report(q, connected, caller)
        except DomainError as exc:
            self._deny("credit_report", connected, q.enterprise, exc, q.request_id, caller, on_behalf_of=q.on_behalf_of)
            raise

    def _requested_items(self, q: ReportQuery) -> dict[str, Openness | None]:
        catalogue = self.sharing_list.items()
        if len(q.item_codes) > MAX_ITEMS or len(q.categories) > MAX_ITEMS:
            raise invalid("item_codes", f"at most {MAX_ITEMS} item codes and {MAX_ITEMS} categories")
        wanted: dict[str, Openness | None] = {}
        for code in q.item_codes:
            if not _ITEM.fullmatch(code):
                raise invalid("item_codes", "item codes are upper-case letters, digits and _")
            wanted[code] = catalogue.get(code, (None, 0))[0]
        cats = set(q.categories)
        for code, (openness, category) in catalogue.items():
            if category in cats:
                wanted[code] = openness
        if not wanted:
            raise invalid("item_codes", "name at least one item or category")
        return wanted

    def _credit_report(self, q: ReportQuery, connected: str, caller: Caller) -> Report:
        uscc = enterprise_uscc(q.enterprise)
        if not _PURPOSE.fullmatch(q.purpose):
            raise invalid("purpose", "must be a purpose code such as PRE_LOAN")
        checked_request_id(q.request_id)
        kind = CallerKind.INSTITUTION if caller.institution else CallerKind.PLATFORM
        wanted = self._requested_items(q)
        self.quotas.charge([s for s in (caller.platform, caller.institution) if s], q.enterprise)  # a valid request
        gated = frozenset(c for c, o in wanted.items() if o is not None and needs_authorization(o))
        # Step 4: the authorization, from memory, before anything is read.
        authorization, coverage, since = "", NO_COVERAGE, None
        reason: int = cpb.DECISION_REASON_UNSPECIFIED
        if gated:
            try:
                decision = self.consent_cache.decide(caller.requester, q.enterprise, q.purpose, gated)
            except ConsentUnavailable:
                raise unavailable("consent") from None
            reason = decision.reason
            if decision.allowed:
                authorization, coverage, since = decision.authorization, decision.coverage, decision.data_since
        verdicts = [decide_item(kind, code, wanted[code], coverage) for code in sorted(wanted)]
        release = [v.item_code for v in verdicts if v.released]
        # Step 5 starts: the records, from memory when held; otherwise read while the use is being recorded
        # (consent's answer gates the release).
        held = self.registry.held_records(uscc, release) if release else []
        fetch = self.pool.submit(self.registry.records, uscc, release, raw=False) if held is None else None
        gated_released = sorted(c for c in release if c in gated)
        spent = ""  # the authorization a use was recorded under: the only one the leaf may name
        if authorization and gated_released:
            used = self._spend_use(caller, q, gated_released, authorization, fetch)
            if used.decision == cpb.DECISION_ALLOW:
                spent = authorization
            else:
                reason, authorization, coverage = used.reason, "", NO_COVERAGE
                verdicts = [decide_item(kind, code, wanted[code], coverage) for code in sorted(wanted)]
        # Each record is checked again against its own list version's openness before it may leave, and the
        # look-back bounds it when either that openness or today's needs an authorization.
        records: list[rec.CreditRecord] = []
        for r in _selected(fetch.result() if fetch is not None else held or (), uscc, release, self.clock()):
            o = openness_of(r.openness)
            if not decide_item(kind, r.item_code, o, coverage).released:
                continue
            gated_record = r.item_code in gated or (o is not None and needs_authorization(o))
            if gated_record and not spent:
                continue  # needs an authorization by its own version: none leaves without a use recorded
            if gated_record and since is not None and _before(r, since):
                continue
            records.append(r)
        allowed = not gated or (bool(authorization) and all(coverage.covers(c, wanted[c]) for c in gated))
        report = Report(q.enterprise, allowed, authorization, reason, verdicts, records)
        payload_hash, record_hashes = _digests(records)
        entry = {
            "type": "credit_report",
            # A report answered with nothing in it (every item withheld, or no records of them) refused nothing:
            # DENY is kept for refusals, which name their reason, and supervision counts those alone as denials.
            "decision": "ALLOW" if records else NOTHING_RELEASED,
            "caller": connected,
            "platform": caller.platform,
            "requester": caller.requester,
            "enterprise": q.enterprise,
            "purpose": q.purpose,
            "released": sorted({r.item_code for r in records}),
            "withheld": [v.item_code for v in verdicts if not v.released],
            # An authorization that covered the request but spent no use (an institution's report, which never
            # carries non-public rows) is not what the release rested on; naming it would put it in an arbitration
            # package as the basis of a disclosure it did not authorize.
            "authorization": spent,
            "request_id": q.request_id,
            "payload_sha256": payload_hash,
        }
        self._still_admitted(caller)
        report.leaf_index = self._record_release(entry, records, record_hashes)
        report.payload_sha256 = payload_hash
        return report

    def _spend_use(
        self, caller: Caller, q: ReportQuery, items: list[str], authorization: str, fetch: Future[Any] | None
    ) -> cpb.CheckAuthorizationResponse:
        """Record the report's use at consent; a failure cancels the records' read it would have gated."""
        self._recording()
        try:
            use_id = q.request_id or one_off_use_id()
            return self.consent.consume(caller.requester, q.enterprise, q.purpose, items, authorization, use_id)
        except DomainError:
            if fetch is not None:
                fetch.cancel()
            raise

    def _record_release(
        self, entry: dict[str, Any], records: Sequence[rec.CreditRecord], record_hashes: list[str]
    ) -> int:
        """Every released record named with its own hash (so an evidence package can prove one record without the
        others), RECORDS_PER_LEAF to a leaf: a long history takes several leaves, "part" i of "parts", each the whole
        release otherwise. All are recorded before anything leaves; the receipt names the first."""
        names = [r.name.rsplit("/", 1)[-1] for r in records]
        starts = range(0, len(records), RECORDS_PER_LEAF) if records else range(1)
        leaves = [
            self.disclosure_log.record(
                {
                    **entry,
                    "records": names[start : start + RECORDS_PER_LEAF],
                    "record_sha256": record_hashes[start : start + RECORDS_PER_LEAF],
                    **({"part": part, "parts": len(starts)} if len(starts) > 1 else {}),
                }
            )
            for part, start in enumerate(starts, 1)
        ]
        return leaves[0]

    # ---- SelfQuery -----------------------------------------------------------------------------------------------

    def self_query(self, q: SignedSelfQuery, connected: str, on_behalf_of: str = "") -> SelfReport:
        caller: Caller | None = None
        try:
            caller = self.admit(connected, on_behalf_of)
            return self._self_query(q, connected, caller)
        except DomainError as exc:
            # Refused once admitted (a signature that does not verify, say): recorded as served to the platform, as a
            # report's refusal is; with the caller alone, 秦信融 carried every county's refused self-queries.
            self._deny("self_query", connected, q.enterprise, exc, caller=caller, on_behalf_of=on_behalf_of)
            raise

    def _self_query(self, q: SignedSelfQuery, connected: str, caller: Caller) -> SelfReport:
        uscc = enterprise_uscc(q.enterprise)
        if len(q.item_codes) > MAX_ITEMS:
            raise invalid("item_codes", f"at most {MAX_ITEMS} item codes")
        for code in q.item_codes:
            if not _ITEM.fullmatch(code):
                raise invalid("item_codes", "item codes are upper-case letters, digits and _")
        # Verified before the quota is charged: a request the enterprise did not sign spends nothing of the platform's.
        verify_self_query(q, self.registry.enterprise_keys(uscc), self.clock(), self.signature_window, self.nonces)
        # The token was signed with the request: the platform relaying it cannot have swapped it.
        size = paging.page_size(q.page_size)
        after = paging.decode_index_token(q.page_token, _history_query(q.enterprise))
        self.quotas.charge([caller.platform], q.enterprise)
        # Records go with the first page only: a walk of the history does not read (nor carry) them again.
        records = self.registry.records(uscc, list(q.item_codes), raw=True) if after is None else []
        # Raw, commercial secrets included: only the enterprise's own, of the items it signed for, whatever the
        # registry sent (it selects by both; a record it sent otherwise would be a bug there).
        records = [
            r
            for r in records
            if r.name.startswith(f"enterprises/{uscc}/records/") and (not q.item_codes or r.item_code in q.item_codes)
        ]
        history, position = self._history_page(q.enterprise, after, size)
        payload_hash, _ = _digests(records)
        self._still_admitted(caller)
        entry: dict[str, Any] = {
            "type": "self_query",
            "decision": "ALLOW",
            "caller": connected,
            "platform": caller.platform,
            "requester": q.enterprise,
            "enterprise": q.enterprise,
            "released": sorted({r.item_code for r in records}),
            "payload_sha256": payload_hash,
        }
        if after is not None:
            entry["history_after"] = after  # a later page: which stretch of the history it was shown
        leaf = self.disclosure_log.record(entry)
        token = "" if position is None else paging.encode_token(str(position), _history_query(q.enterprise))
        return SelfReport(records, history, leaf, payload_hash, token)

    def _history_page(
        self, enterprise: str, after: int | None, size: int
    ) -> tuple[list[tuple[int, datetime, dict[str, Any]]], int | None]:
        """Up to ``size`` entries of the enterprise's history after leaf ``after``, and the leaf the next page
        continues after (None when this page reached the end). Reads at most HISTORY_SCAN_PER_PAGE (and one) leaves,
        in bounded batches of the log's subject index; a leaf recorded later has a higher index, so it is listed on
        a later page, never skipped nor listed twice."""
        listed: list[tuple[int, datetime, dict[str, Any]]] = []
        position, scanned = after, 0
        while (limit := min(max(size + 1, 200), HISTORY_SCAN_PER_PAGE - scanned)) > 0:
            batch = self.disclosure_log.disclosures_of(enterprise, position, limit)
            for leaf in batch:
                if listed_in_history(leaf[2]):
                    if len(listed) == size:  # one more exists: this page ends at the last one it lists
                        return listed, listed[-1][0]
                    listed.append(leaf)
                position, scanned = leaf[0], scanned + 1
            if len(batch) < limit:
                return listed, None
        return listed, position

    # ---- derived products (scoring) ------------------------------------------------------------------------------

    def derived(
        self, method: str, q: ReportQuery, connected: str, scenario_model: str = ""
    ) -> tuple[Any, str, int, str]:
        """GetEvaluation / GetPortrait / GetScenarioScore: derived from non-public data, so an authorization of the
        requester for the purpose must cover at least one non-public item; a use is recorded; the release is logged."""
        caller: Caller | None = None
        try:
            caller = self.admit(connected, q.on_behalf_of, q.institution)
            return self._derived(method, q, connected, scenario_model, caller)
        except DomainError as exc:
            self._deny(method, connected, q.enterprise, exc, q.request_id, caller, on_behalf_of=q.on_behalf_of)
            raise

    def _derived(
        self, method: str, q: ReportQuery, connected: str, scenario_model: str, caller: Caller
    ) -> tuple[Any, str, int, str]:
        if method == "GetScenarioScore" and not (
            caller.institution and scenario_model.startswith(f"{caller.institution}/scenarioModels/")
        ):
            # Only the institution that owns a scenario model scores with it (said before anything else is read). A
            # reason of its own: supervision counts PERMISSION_DENIED as asking without an authorization, and this
            # says nothing of the enterprise.
            raise PermissionDenied(
                "ERROR_REASON_SCENARIO_MODEL_NOT_OWNED",
                "the scenario model is not the caller's",
                {"field": "scenario_model"},
            )
        uscc = enterprise_uscc(q.enterprise)
        if not _PURPOSE.fullmatch(q.purpose):
            raise invalid("purpose", "must be a purpose code such as PRE_LOAN")
        checked_request_id(q.request_id)
        if self.scoring is None:  # before a use is recorded: nothing could be released for it
            raise unavailable("scoring")
        self.quotas.charge([s for s in (caller.platform, caller.institution) if s], q.enterprise)
        catalogue = self.sharing_list.items()
        non_public = frozenset(c for c, (o, _) in catalogue.items() if o is Openness.NON_PUBLIC)
        try:
            decision = self.consent_cache.decide(caller.requester, q.enterprise, q.purpose, non_public)
        except ConsentUnavailable:
            raise unavailable("consent") from None
        if not decision.allowed:
            raise PermissionDenied(
                "ERROR_REASON_PERMISSION_DENIED", "no authorization covers derived products for this purpose"
            )
        items = sorted(decision.covered & non_public)
        # Scoring is asked first and the use spent once it answered, before anything leaves. Spent first, a use went
        # for nothing whenever scoring could not answer: a scenario model name that does not exist (an institution's
        # mistake), an enterprise with no evaluation, scoring down. Checking the model first would add a round trip
        # to every call and cover only the first of these. Asking scoring before the use is recorded is what a report
        # does with its records (read while its use is recorded): the authorization was checked above, scoring only
        # reads, and its answer stays here until consent has recorded the use and the disclosure log the release.
        request: Any
        if method == "GetScenarioScore":
            request = spb.GetScenarioScoreRequest(scenario_model=scenario_model, enterprise=q.enterprise)
        elif method == "GetEvaluation":
            request = spb.GetEvaluationRequest(enterprise=q.enterprise)
        else:
            request = spb.GetPortraitRequest(enterprise=q.enterprise)
        result = self.scoring.call(method, request)
        product = result.portrait if method == "GetPortrait" else result.evaluation
        if product.enterprise != f"enterprises/{uscc}":
            # Released and recorded as about the enterprise asked for: an answer about another (a bug in scoring)
            # must not leave under this request's authorization.
            raise DomainError("ERROR_REASON_UNSPECIFIED", "scoring answered about another enterprise")
        if method in ("GetEvaluation", "GetScenarioScore"):
            _withhold_uncovered(result.evaluation, decision.coverage, catalogue, decision.data_since)
        else:
            _drop_uncovered_tags(result.portrait, decision.coverage, catalogue, decision.data_since)
        digest = hashlib.sha256(result.SerializeToString(deterministic=True)).hexdigest()
        self._still_admitted(caller)  # a suspension that came while scoring answered: nothing leaves, no use spent
        self._recording()
        used = self.consent.consume(
            caller.requester,
            q.enterprise,
            q.purpose,
            items,
            decision.authorization,
            product_use_id(method, scenario_model, q.request_id),
        )
        if used.decision != cpb.DECISION_ALLOW:
            raise PermissionDenied("ERROR_REASON_PERMISSION_DENIED", "the authorization allows no further use")
        # Should the release fail to be recorded from here, the use stays recorded under request_id: a retry with the
        # same id records no second use.
        self._still_admitted(caller)  # and one that came while the use was recorded
        leaf = self.disclosure_log.record(
            {
                # Recorded as a credit report releasing the derived product, so every reader of the log (the
                # enterprise's self-query, objection's notices) sees it like any other release.
                "type": "credit_report",
                "product": method,
                "decision": "ALLOW",
                "caller": connected,
                "platform": caller.platform,
                "requester": caller.requester,
                "enterprise": q.enterprise,
                "purpose": q.purpose,
                "released": [_PRODUCTS[method]],
                "authorization": decision.authorization,
                "request_id": q.request_id,
                "payload_sha256": digest,
            }
        )
        return result, decision.authorization, leaf, digest

    def scenario_model(self, method: str, request: Any, connected: str, on_behalf_of: str) -> Any:
        """CreateScenarioModel / FitScenarioModel for one of the caller's institutions. Fitting reads the outcome
        enterprises' indicators inside scoring and returns only the fitted model: no enterprise data leaves."""
        caller = self._admitted(method, connected, on_behalf_of, request.institution or "institutions/-")
        if self.scoring is None:
            raise unavailable("scoring")
        relayed = type(request)()
        relayed.CopyFrom(request)
        relayed.institution = caller.institution
        return self.scoring.call(method, relayed)

    # ---- loans and alerts (scoring) ------------------------------------------------------------------------------

    def report_loan(self, loan: spb.ReportLoanRequest, connected: str, on_behalf_of: str) -> Any:
        caller = self._admitted("ReportLoan", connected, on_behalf_of, loan.institution or "institutions/-")
        if self.scoring is None:
            raise unavailable("scoring")
        relayed_loan = spb.ReportLoanRequest()
        relayed_loan.CopyFrom(loan)
        relayed_loan.institution, relayed_loan.platform = caller.institution, caller.platform
        return self.scoring.call("ReportLoan", relayed_loan)

    def ack_alerts(self, institution: str, up_to: int, request_id: str, connected: str, on_behalf_of: str) -> Any:
        caller = self._admitted("AckAlerts", connected, on_behalf_of, institution or "institutions/-")
        if self.scoring is None:
            raise unavailable("scoring")
        return self.scoring.call(
            "AckAlerts",
            spb.AckAlertsRequest(institution=caller.institution, up_to_cursor=up_to, request_id=request_id),
        )

    def risk_alerts(
        self,
        institution: str,
        after: int,
        connected: str,
        on_behalf_of: str,
        authenticated: Callable[[], object] = lambda: None,
    ) -> Iterator[AlertBatch]:
        """The institution's alerts. Before every batch is passed on: the caller is authenticated (``authenticated``
        raises once the stream's certificate is revoked) and admitted again, each alert needs an authorization for
        post-loan monitoring covering the items it rests on, and each is recorded in the log."""
        caller = self._admitted("risk_alerts", connected, on_behalf_of, institution or "institutions/-")
        if self.scoring is None:
            raise unavailable("scoring")

        def still_admitted() -> None:
            # A stream outlives its certificate's check at the call's start: a revoked one must stop it too.
            authenticated()
            self._admitted("risk_alerts", connected, on_behalf_of, institution)

        stop, responses = self.scoring.watch_alerts(caller.institution, after)
        try:
            for response in responses:
                still_admitted()
                batch = AlertBatch(response.cursor)
                for alert in response.alerts:
                    authorization, items = self._alert_authorization(caller.requester, alert)
                    if authorization and self._alert_use(caller.requester, alert, authorization, items):
                        still_admitted()  # as at any release
                        batch.alerts.append(alert)
                        batch.receipts.append(self._record_alert(caller, connected, alert, authorization))
                yield batch
        finally:
            stop()

    def _alert_use(self, requester: str, alert: spb.Alert, authorization: str, items: list[str]) -> bool:
        """Record the alert's use of its authorization at consent, as every release does (scoring only checks, and
        leaves the use to the gateway): an authorization whose use limit is reached passes no further alert. The log
        is asked first, so no use is spent on an alert that could not be recorded."""
        self._recording()
        # The alert's cursor names the use: an alert sent again after a reconnect spends none the second time.
        try:
            used = self.consent.consume(
                requester, alert.enterprise, ALERT_PURPOSE, items, authorization, f"alert-{alert.cursor}"
            )
        except InvalidArgument as exc:
            if exc.reason != "ERROR_REASON_REQUEST_ID_REUSED":
                raise
            # Consent takes a use id as a retry for ten minutes only. An alert sent, not acknowledged and sent again
            # later (the subscriber resumed after a restart) has its use recorded already: none is spent again, but
            # the authorization must still allow it now. Refused as a reused request id, it failed the stream at
            # this alert on every resume, so nothing after it was ever delivered.
            now = self.consent.check_named(requester, alert.enterprise, ALERT_PURPOSE, items, authorization)
            # the limit may have been reached by this alert's own use, as consent answers a retry
            return now.decision == cpb.DECISION_ALLOW or now.reason == cpb.DECISION_REASON_USE_LIMIT_REACHED
        return used.decision == cpb.DECISION_ALLOW

    def _alert_authorization(self, requester: str, alert: spb.Alert) -> tuple[str, list[str]]:
        """The authorization an alert may be passed on under ("" if none) and the items its use is recorded for: one
        for post-loan monitoring naming the alert's items (as scoring asks when it sends it), which covers every one
        of them that needs an authorization, from its look-back on (an alert resting on a record that needs one and
        is older than the authorization's data_since, or of unknown age, is withheld like one resting on an item it
        does not cover). An alert resting on no record needs one covering some non-public item, like any derived
        product."""
        catalogue = self.sharing_list.items()
        items = frozenset(r.item_code for r in alert.evidence)
        gated = frozenset(c for c in items if (o := catalogue.get(c, (None, 0))[0]) is None or needs_authorization(o))
        non_public = frozenset(c for c, (o, _) in catalogue.items() if o is not None and needs_authorization(o))
        try:
            decision = self.consent_cache.decide(requester, alert.enterprise, ALERT_PURPOSE, items or non_public)
        except ConsentUnavailable:
            raise unavailable("consent") from None
        coverage = decision.coverage
        covered = decision.allowed and all(coverage.covers(c, catalogue.get(c, (None, 0))[0]) for c in gated)
        if not covered or _outside_look_back(alert.evidence, decision.data_since, catalogue):
            return "", []
        return decision.authorization, sorted((items or non_public) & decision.covered)

    def _record_alert(self, caller: Caller, connected: str, alert: spb.Alert, authorization: str) -> tuple[int, str]:
        digest = hashlib.sha256(alert.SerializeToString(deterministic=True)).hexdigest()
        leaf = self.disclosure_log.record(
            {
                # A release like a derived product's, so the enterprise's self-query lists it too.
                "type": "credit_report",
                "product": "RiskAlert",
                "decision": "ALLOW",
                "caller": connected,
                "platform": caller.platform,
                "requester": caller.requester,
                "enterprise": alert.enterprise[:80],
                "purpose": ALERT_PURPOSE,
                "released": ["risk_alert"],
                "records": [r.record.rsplit("/", 1)[-1][:64] for r in alert.evidence][:200],
                "authorization": authorization,
                "alert_cursor": alert.cursor,
                "payload_sha256": digest,
            }
        )
        return leaf, digest

    # ---- objections ----------------------------------------------------------------------------------------------

    def file_objection(
        self, request: opb.FileObjectionRequest, connected: str, on_behalf_of: str, signature: Signature | None = None
    ) -> Any:
        """Relay an objection as the caller's platform's. An institution filer must be one of the caller's; an
        enterprise filer must have signed the objection (``signature``) with an ACTIVE registry key, as for a
        self-query, or any platform could object in any enterprise's name."""
        kind = request.filer_kind
        malformed: DomainError | None = None
        if kind == opb.FILER_KIND_INSTITUTION and not INSTITUTION_NAME.fullmatch(request.filer):
            malformed = invalid("objection.filer", "an institution filer must look like institutions/{id}")
        elif kind not in (opb.FILER_KIND_INSTITUTION, opb.FILER_KIND_ENTERPRISE):
            # Any other kind would pass unsigned: refused here, not left to the objection service.
            malformed = invalid("objection.filer_kind", "must be FILER_KIND_ENTERPRISE or FILER_KIND_INSTITUTION")
        if malformed is not None:
            raise self.refuse("FileObjection", connected, on_behalf_of, "", malformed)
        institution = request.filer if kind == opb.FILER_KIND_INSTITUTION else ""
        caller = self._admitted("FileObjection", connected, on_behalf_of, institution)
        if self.objection is None:
            raise unavailable("objection")
        if kind == opb.FILER_KIND_ENTERPRISE:
            try:
                self._verify_enterprise_filing(request, signature)
            except DomainError as exc:
                self._deny("FileObjection", connected, request.filer, exc, request.request_id, caller)
                raise
        relayed_request = opb.FileObjectionRequest()
        relayed_request.CopyFrom(request)
        relayed_request.platform = caller.platform
        return self.objection.file(relayed_request)

    def _verify_enterprise_filing(self, request: opb.FileObjectionRequest, signature: Signature | None) -> None:
        if signature is None:
            raise invalid("signature", "is required when the filer is an enterprise")
        if request.receive_time.nanos:
            # Signed in whole seconds: a fraction would be relayed unsigned.
            raise invalid("objection.receive_time", "must be whole seconds when the enterprise signs")
        uscc = uscc_rules.enterprise_code(request.filer, "objection.filer")
        signed = SignedObjection(
            enterprise=request.enterprise,
            filer=request.filer,
            records=tuple((r.record, r.version) for r in request.records),
            evaluation=request.evaluation,
            reasons=request.reasons,
            attachment_sha256=tuple(request.attachment_sha256),
            statement=request.statement,
            receive_time=from_timestamp(request.receive_time, "objection.receive_time", required=False),
            request_id=request.request_id,
            key_id=signature.key_id,
            nonce=signature.nonce,
            signed_at=signature.signed_at,
            signature=signature.value,
        )
        verify_objection(signed, self.registry.enterprise_keys(uscc), self.clock(), self.signature_window, self.nonces)

    def get_objection(self, name: str, connected: str, on_behalf_of: str) -> Any:
        caller = self._admitted("GetObjection", connected, on_behalf_of)
        if self.objection is None:
            raise unavailable("objection")
        return self.objection.get(name, caller.platform)

    # ---- relays --------------------------------------------------------------------------------------------------

    def relay_consent(self, method: str, request: object, connected: str, on_behalf_of: str) -> object:
        self._admitted(method, connected, on_behalf_of)
        return self.consent.relay(method, request)


def _is_enterprise_name(name: str) -> bool:
    return name.startswith("enterprises/") and uscc_rules.problem(name.removeprefix("enterprises/")) is None


def _recordable_request_id(request_id: str) -> str:
    """The request id as a denial leaf may keep it: as a release's would be, or not at all."""
    try:
        return checked_request_id(request_id)
    except DomainError:
        return ""


def product_use_id(method: str, scenario_model: str, request_id: str) -> str:
    """The id a derived product's use is recorded under: one request id reused for another product (or scenario
    model) must spend another use, not pass as a retry of the first (consent judges a retry by its items alone)."""
    if not request_id:
        return one_off_use_id()
    return hashlib.sha256(f"{method}\n{scenario_model}\n{request_id}".encode()).hexdigest()


def one_off_use_id() -> str:
    """The id of a use whose request named none: no retry of the request can be recognised, but the channel's own
    retry of an UNAVAILABLE batch (consent may have committed it) is, so the use is not counted twice."""
    return f"gateway-{secrets.token_hex(16)}"


def _selected(
    sent: Iterable[rec.CreditRecord], uscc: str, release: Sequence[str], now: datetime
) -> Iterator[rec.CreditRecord]:
    """The records the registry (or the record cache) sent that may go on to a report's egress checks."""
    for r in sent:
        if r.item_code not in release or not r.name.startswith(f"enterprises/{uscc}/records/"):
            # The registry and the record cache select by both: a record they sent otherwise (a bug there) was
            # neither decided on nor recorded for this report, so it does not leave with it.
            continue
        # Past its publicity period it is published no more. Checked here, at release: a cached listing (or one
        # read a moment ago) still holds a record whose period ended since, as no record change marks the end.
        end = r.publicity_end_time.ToDatetime(UTC) if r.HasField("publicity_end_time") else None
        if published(end, now):
            yield r


def _before(r: rec.CreditRecord, since: datetime) -> bool:
    """Whether a record is older than a look-back; one without an event time cannot be shown inside it."""
    return not r.HasField("event_time") or r.event_time.ToDatetime(UTC) < since


def _outside_look_back(
    evidence: Any, since: datetime | None, catalogue: Mapping[str, tuple[Openness | None, int]]
) -> bool:
    """Whether a record behind a derived figure needs an authorization (by today's list; unknown items too) and is
    older than its ``data_since``, as a credit report would drop it. A reference without an event time (stored before
    scoring kept one) counts as older: its age cannot be shown to be inside the look-back. Public records leave
    whatever the look-back, as in a credit report."""
    if since is None:
        return False
    for e in evidence:
        if catalogue.get(e.item_code, (None, 0))[0] is Openness.PUBLIC:
            continue
        if not e.HasField("event_time") or e.event_time.ToDatetime(UTC) < since:
            return True
    return False


def _uncovered(
    evidence: Any,
    coverage: Coverage,
    catalogue: Mapping[str, tuple[Openness | None, int]],
    since: datetime | None,
) -> bool:
    """Whether records behind a derived figure include an item the authorization does not cover, or a record before
    its look-back (unknown items and an empty list count as uncovered: nothing to check them against)."""
    items = {e.item_code for e in evidence}
    if not items:
        return True
    for i in items:
        openness = catalogue.get(i, (None, 0))[0]
        if openness is not Openness.PUBLIC and not coverage.covers(i, openness):
            return True
    return _outside_look_back(evidence, since, catalogue)


def _drop_uncovered_tags(
    portrait: Any,
    coverage: Coverage,
    catalogue: Mapping[str, tuple[Openness | None, int]],
    since: datetime | None,
) -> None:
    """A portrait's tags, like an evaluation's indicators, say something about the records behind them: a tag resting
    on an item the authorization does not cover (operating data it does not name, say) or on a record older than its
    data_since is dropped."""
    for tags in (portrait.positive_tags, portrait.risk_tags):
        for i in reversed(range(len(tags))):
            if _uncovered(tags[i].evidence, coverage, catalogue, since):
                del tags[i]


def _withhold_uncovered(
    evaluation: Any,
    coverage: Coverage,
    catalogue: Mapping[str, tuple[Openness | None, int]],
    since: datetime | None,
) -> None:
    """Strip an evaluation's explanation down to what the authorization covers.

    The score and grade are the derived product. But an indicator's raw value, its bin and the records it rests on
    are only released when every non-public item behind it is covered, and every such record is inside the look-back
    (from ``since``, the authorization's data_since): operating data the enterprise did not name, any item outside
    the authorization, or a record from before the look-back leaves only as its share of the score. An indicator
    whose records are not named (nothing to check them against) is treated the same way."""
    for c in evaluation.contributions:
        if c.missing:
            # No value to withhold, but the records it looked at (a value can be undefined over some) are named
            # only when covered, as for any other indicator.
            if c.evidence and _uncovered(c.evidence, coverage, catalogue, since):
                c.ClearField("evidence")
            continue
        if _uncovered(c.evidence, coverage, catalogue, since):
            c.ClearField("value")
            c.bin = "withheld"
            c.ClearField("evidence")


def _digests(records: Sequence[rec.CreditRecord]) -> tuple[str, list[str]]:
    """SHA-256 over all records as released (length-prefixed), and each record's own SHA-256 (hex)."""
    h = hashlib.sha256()
    each: list[str] = []
    for r in records:
        data = r.SerializeToString(deterministic=True)
        h.update(len(data).to_bytes(8, "big"))
        h.update(data)
        each.append(hashlib.sha256(data).hexdigest())
    return h.hexdigest(), each
