"""Scoring use cases: each opens a unit of work, calls the pure domain, commits. No gRPC, no SQL here."""

from __future__ import annotations

import json
import math
import re
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from functools import cache

import numpy as np
import structlog
import yaml

from services.kit.errors import Aborted, AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from services.kit.notify import CommitNotifier
from services.kit.validation import identifier, invalid
from services.kit.workdays import local_date, start_of_day
from services.scoring.domain import effectiveness as eff
from services.scoring.domain.disputes import DisputeOutcome, open_dispute, open_objection, view
from services.scoring.domain.engine import Evaluation, Extracted, assess, evaluate_batch, row_of, same_figures
from services.scoring.domain.engine import extract as extract_values
from services.scoring.domain.extract import Catalogue
from services.scoring.domain.fitting import fit
from services.scoring.domain.look_back import older_items, outside_look_back
from services.scoring.domain.model import GRADES, Model, load_model
from services.scoring.domain.portrait import Portrait, portrait
from services.scoring.domain.ports import (
    Alert,
    Decision,
    EnterpriseState,
    LoanEntry,
    LoanStatus,
    MonitoringConsent,
    MonitoringDecision,
    PublishedModel,
    RecordSource,
    ScenarioModelDoc,
    ScoringUnitOfWork,
    StoredEvaluation,
)
from services.scoring.domain.problems import ModelRejected, Problem, yaml_problem
from services.scoring.domain.records import RecordRef
from services.scoring.domain.risk import RiskEvent, alert_key, detect_risks, snapshot
from services.scoring.domain.scenario import compile_scenario

log = structlog.get_logger("scoring.usecases")

RECORDS_STREAM = "registry.records"
PARTICIPANTS_STREAM = "registry.participants"
BATCH = 1000
# How many enterprises one round of the day's re-check takes at most.
RECHECK_BATCH = 200
# How often a refresh starts again when the enterprise's state keeps moving under it before it gives up (ABORTED).
REFRESH_ATTEMPTS = 5


@dataclass
class Scoring:
    """Everything the use cases need, wired once by the composition root."""

    writer: Callable[[], ScoringUnitOfWork]
    reader: Callable[[], ScoringUnitOfWork]
    records: RecordSource
    consent: MonitoringConsent
    clock: Callable[[], datetime]
    # catalogue reads the registry's current sharing list (item -> field -> type) to check models on publication.
    catalogue: Callable[[], Catalogue | None] = lambda: None
    # public_items reads the items the registry's current sharing list marks public, whose records an alert may rest
    # on whatever the authorization's look-back. By default none: an old record then always holds an alert back.
    public_items: Callable[[], Collection[str]] = frozenset
    notifier: CommitNotifier = field(default_factory=CommitNotifier)
    _compiled: dict[str, Model] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # ------------------------------------------------------------------ models

    def compiled(self, published: PublishedModel) -> Model:
        with self._lock:
            model = self._compiled.get(published.version)
            if model is None:
                model = self._compiled[published.version] = load_model(published.document)
            return model

    def current_model(self) -> Model:
        with self.reader() as uow:
            published = uow.models.current()
        if published is None:
            raise FailedPrecondition("ERROR_REASON_MODEL_REJECTED", "no model is published yet")
        return self.compiled(published)


def ensure_model(sc: Scoring, document: str) -> None:
    """Publish the packaged basic model when nothing is published yet (first start)."""
    with sc.reader() as uow:
        if uow.models.current() is not None:
            return
    publish_model(sc, document, check_items=False)  # the packaged model is checked against the list by its tests


def publish_model(sc: Scoring, document: str, *, check_items: bool = True) -> tuple[PublishedModel, int]:
    """Validate (against the registry's sharing list) and publish a model, then re-evaluate everyone in batch."""
    model = load_model(document, sc.catalogue() if check_items else None)
    now = sc.clock()
    with sc.writer() as uow:
        published = uow.models.get(model.version)
        if published is None:
            published = PublishedModel(model.version, model.title, document, now)
            # Replicas starting together on an empty database each publish the packaged model, and a retry may race
            # its first try: the version stored meanwhile (once its transaction ended) is the one published.
            if uow.models.add(published):
                uow.commit()
            else:
                published = uow.models.get(model.version)
                assert published is not None  # add found it stored
        if published.document != document:
            raise ModelRejected(
                [Problem("VERSION_EXISTS", "version", f"{model.version} is published with another document")]
            )
    count = reevaluate_all(sc)
    log.info("model_published", version=model.version, reevaluated=count)
    return published, count


def with_evidence(evaluation: Evaluation, values: dict[str, Extracted]) -> Evaluation:
    """Attach each indicator's record references (from extraction) to an evaluation computed from a table."""
    parts = tuple(
        replace(c, evidence=values[c.indicator].evidence, disputed=values[c.indicator].disputed)
        if c.indicator in values
        else c
        for c in evaluation.contributions
    )
    return replace(evaluation, contributions=parts)


def reevaluate_all(sc: Scoring) -> int:
    """Re-evaluate every active enterprise from its last known records with the numpy batch engine; returns how many.

    An enterprise whose current evaluation already comes from the current model and its last known records is left
    alone: publishing the same document again (a retry after a lost answer) finishes what the first call left
    undone instead of adding a second evaluation to every history."""
    model = sc.current_model()
    now = sc.clock()
    after, total = "", 0
    while True:
        with sc.reader() as uow:
            page = uow.enterprises.active(after, BATCH)
            basis = uow.evaluations.current_basis([s.uscc for s in page])
        if not page:
            return total
        after = page[-1].uscc
        page = [s for s in page if basis.get(s.uscc) != (model.version, s.record_revision)]
        if not page:
            continue
        values = [extract_values(model, s.records, now) for s in page]
        result = evaluate_batch(model.card, np.array([row_of(model.card, v) for v in values], dtype=np.float64))
        with sc.writer() as uow:
            for i, state in enumerate(page):
                # The page was read before the batch ran: a record change handled since (another thread or replica)
                # has appended a newer evaluation, which a stale one appended here would supersede. Under the
                # enterprise's lock, one that moved is evaluated from its new records, unless that is done already.
                locked = uow.enterprises.get(state.uscc, for_update=True)
                if locked is None or not locked.active:
                    continue
                if locked.record_revision == state.record_revision and locked.records == state.records:
                    evaluation = with_evidence(result.evaluation(i), values[i])
                elif uow.evaluations.current_basis([state.uscc]).get(state.uscc) == (
                    model.version,
                    locked.record_revision,
                ):
                    continue
                else:
                    evaluation = snapshot(model, locked.records, now).assessment.evaluation
                uow.evaluations.add(state.uscc, evaluation, now, locked.record_revision)
                total += 1
            uow.commit()


# ---------------------------------------------------------------------- registry events


def on_enterprise(sc: Scoring, uscc: str, platform_id: str, active: bool) -> None:
    """A participant event for an enterprise: a new one gets its first evaluation; a departed one is set aside."""
    with sc.reader() as uow:
        state = uow.enterprises.get(uscc)
    if state is not None and state.active == active and (state.platform_id == platform_id or not platform_id):
        return  # replay
    if state is None and not active:
        return
    if state is None:
        _, made = _refresh(sc, uscc, platform_id=platform_id, revision=0, first=True)
        if made is not None:
            return
        # Another handler stored the enterprise, with its first evaluation, since the read above (the other replica's
        # participant watch, or the record watch): this event only updates what that one stored.
    with sc.writer() as uow:
        # Read again under the enterprise's lock: a record change handled since the read above stored newer records
        # and revision, which writing back the state read then would undo.
        locked = uow.enterprises.get(uscc, for_update=True)
        if locked is None:
            return
        platform = (platform_id or locked.platform_id) if active else locked.platform_id
        uow.enterprises.put(replace(locked, active=active, platform_id=platform))
        uow.commit()


def on_platform(sc: Scoring, platform_id: str, region_code: str) -> None:
    with sc.writer() as uow:
        if uow.platforms.region(platform_id) != region_code:
            uow.platforms.put(platform_id, region_code)
            uow.commit()


def _processed(state: EnterpriseState | None, revision: int) -> bool:
    """Whether the change at ``revision`` (0: not a watch change) was already handled for the enterprise."""
    return state is not None and state.record_revision >= revision > 0


def _state_key(state: EnterpriseState | None) -> object:
    """What tells two reads of an enterprise's state apart (record versions, not their values: NaN-safe, cheap)."""
    if state is None:
        return None
    versions = tuple((r.record_id, r.version, r.in_dispute) for r in state.records)
    return (state.active, state.platform_id, state.record_revision, state.records_as_of, versions)


def restart_record_watch(sc: Scoring) -> None:
    """The record watch starts again from 0 (WATCH_REVISION_COMPACTED: compacted, or the registry restored with its
    revisions gone back). The enterprises' processed revisions are forgotten with the cursor, in one transaction:
    otherwise a new change at a revision below an enterprise's old mark would be dropped as already handled."""
    with sc.writer() as uow:
        uow.enterprises.forget_revisions()
        uow.cursors.save(RECORDS_STREAM, 0)
        uow.commit()
    log.info("record_watch_restarted")


def on_record_change(sc: Scoring, uscc: str, revision: int) -> int:
    """A record of ``uscc`` changed at ``revision``: re-evaluate and, for outstanding loans, raise alerts.

    Idempotent: a change at or below the revision already processed for the enterprise is dropped, and an alert
    with a key the institution already has is not stored twice. Returns the number of alerts stored.
    """
    with sc.reader() as uow:
        state = uow.enterprises.get(uscc)
    if _processed(state, revision):
        return 0
    return refresh_enterprise(sc, uscc, platform_id=state.platform_id if state else "", revision=revision)


def _items(model: Model, evidence: Sequence[RecordRef]) -> tuple[str, ...]:
    """The items an alert discloses derived facts about: its evidence's, or every item the model reads."""
    return tuple(sorted({r.item_code for r in evidence if r.item_code})) or tuple(sorted(model.items))


def _sendable(
    decision: MonitoringDecision, evidence: Sequence[RecordRef], public: Callable[[], Collection[str]]
) -> bool:
    """ALLOW, and no non-public record behind the alert older than the authorization's look-back: the gateway would
    withhold such an alert, so it is not marked sendable here either. The public items are read only when a record
    is that old."""
    if decision.decision is not Decision.ALLOW:
        return False
    since = decision.data_since
    return not (older_items(evidence, since) and outside_look_back(evidence, since, public()))


def refresh_enterprise(sc: Scoring, uscc: str, *, platform_id: str, revision: int, force: bool = False) -> int:
    """Re-evaluate ``uscc`` from the registry's records (unless ``revision`` was seen); returns the alerts stored."""
    return _refresh(sc, uscc, platform_id=platform_id, revision=revision, force=force)[0]


def _refresh(
    sc: Scoring,
    uscc: str,
    *,
    platform_id: str,
    revision: int,
    force: bool = False,
    request: tuple[str, str, str] | None = None,
    first: bool = False,
) -> tuple[int, StoredEvaluation | None]:
    """The body of :func:`refresh_enterprise`; also returns the new evaluation, and stores ``request``
    (method, request id, fingerprint) in the same transaction so a replay finds exactly this evaluation. With
    ``first``, only an enterprise not stored yet is evaluated (its first evaluation): (0, None) once one is stored.

    The records, the state they are compared with and the consent decisions are read without a lock; when the
    enterprise's state moved meanwhile (another handler stored newer records, or the participant watch removed or
    readmitted it), nothing is written and the whole refresh starts again from the new state."""
    for _ in range(REFRESH_ATTEMPTS):
        done = _refresh_once(
            sc, uscc, platform_id=platform_id, revision=revision, force=force, request=request, first=first
        )
        if done is not None:
            return done
    raise Aborted(
        "ERROR_REASON_CONCURRENT_MODIFICATION", "the enterprise's records kept changing during its evaluation; retry"
    )


def _refresh_once(
    sc: Scoring,
    uscc: str,
    *,
    platform_id: str,
    revision: int,
    force: bool,
    request: tuple[str, str, str] | None,
    first: bool = False,
) -> tuple[int, StoredEvaluation | None] | None:
    """One attempt of :func:`_refresh`; None when the enterprise's state moved between its read and its lock."""
    # The state first, the listing after: a handler storing newer records between the two then shows under the lock
    # (the state moved), where a listing older than the state read would pass unnoticed.
    with sc.reader() as uow:
        before = uow.enterprises.get(uscc)
        loans = uow.loans.outstanding_for(uscc)
    if first and before is not None:
        return 0, None
    page = sc.records.enterprise_records(uscc)
    records = tuple(page.records) if page is not None else ()
    seen_revision = max(revision, page.revision if page is not None else 0)
    model = sc.current_model()
    now = sc.clock()
    if not force and _processed(before, seen_revision):
        return 0, None
    new_revision = max(seen_revision, before.record_revision if before else 0)
    current = snapshot(model, records, now, new_revision)
    events = []
    if loans and before is not None and before.records_as_of is not None:
        previous = snapshot(model, before.records, before.records_as_of, before.record_revision)
        events = detect_risks(model, previous, current)
    # consent (and the sharing list) are asked before the transaction, so no database lock is held across the network
    sendable = _decide_alerts(sc, model, uscc, loans, events)
    with sc.writer() as uow:
        # Checked again under the enterprise's lock: another replica following the same watch may have handled this
        # change since the read above, and must not be followed by a second evaluation and a second set of alerts.
        locked = uow.enterprises.get(uscc, for_update=True)
        if not force and _processed(locked, seen_revision):
            return 0, None
        if _state_key(locked) != _state_key(before):
            # Evaluating the records read before would put back an older state (newer records replaced by older
            # ones, a removal undone) and compare against a baseline that is no longer the last one alerted on.
            return None
        state = EnterpriseState(
            uscc,
            platform_id or (before.platform_id if before else ""),
            True if before is None else before.active,
            records,
            now,
            new_revision,
        )
        if locked is None:
            # No row was there to lock: another handler may store the enterprise from now on. Inserted only if still
            # absent (on PostgreSQL after that handler's commit); otherwise its state moved, and the next attempt
            # reads it, where overwriting it here would add a second first evaluation.
            if not uow.enterprises.add(state):
                return None
        else:
            uow.enterprises.put(state)
        made = uow.evaluations.add(uscc, current.assessment.evaluation, now, seen_revision)
        if request is not None:
            uow.requests.put(request[0], request[1], request[2], str(made.evaluation_id))
        stored = _store_alerts(uow, uscc, loans, events, sendable, now)
        uow.commit()
    _alerts_raised(sc, stored)
    return stored, made


def _decide_alerts(
    sc: Scoring, model: Model, uscc: str, loans: Sequence[LoanEntry], events: Sequence[RiskEvent]
) -> dict[tuple[str, str], bool]:
    """Whether each (institution, event key) may be sent: consent is asked once per institution and item set."""
    decisions: dict[tuple[str, tuple[str, ...]], MonitoringDecision] = {}
    sendable: dict[tuple[str, str], bool] = {}
    public = cache(sc.public_items)
    for loan in loans:
        for event in events:
            key = (loan.institution_id, _items(model, event.evidence))
            if key not in decisions:
                decisions[key] = sc.consent.check(loan.institution_id, uscc, key[1])
            sendable[(loan.institution_id, event.key)] = _sendable(decisions[key], event.evidence, public)
    return sendable


def _store_alerts(
    uow: ScoringUnitOfWork,
    uscc: str,
    loans: Sequence[LoanEntry],
    events: Sequence[RiskEvent],
    sendable: dict[tuple[str, str], bool],
    now: datetime,
) -> int:
    """Store each event for each loan still outstanding (under the enterprise's lock); returns how many were new."""
    stored = 0
    # Loans were read before the consent calls: one closed (or gone) since gets no alert. Locked, so a repayment
    # closing one now waits for this commit (the alert then came before the close).
    still = {(x.loan_id, x.institution_id) for x in uow.loans.outstanding_for(uscc, for_update=True)}
    # In institution order: storing an alert locks the institution's alert sequence (see SqlAlerts.add), and
    # two enterprises' transactions taking those locks in one order cannot deadlock.
    for loan in sorted(
        (x for x in loans if (x.loan_id, x.institution_id) in still), key=lambda x: (x.institution_id, x.loan_id)
    ):
        for event in events:
            alert = Alert(
                0,
                loan.institution_id,
                uscc,
                loan.loan_id,
                event.risk,
                event.severity,
                event.reason,
                event.evidence,
                event.flags,
                # an event's key is unique within the enterprise; the institution's alerts span its borrowers
                alert_key(uscc, event.key),
                now,
            )
            if uow.alerts.add(alert, sendable[(loan.institution_id, event.key)]) is not None:
                stored += 1
    return stored


def _alerts_raised(sc: Scoring, stored: int) -> None:
    if stored:
        sc.notifier.notify()
        log.info("alerts_raised", count=stored)


# ---------------------------------------------------------------------- the day's re-check


@dataclass(frozen=True)
class RecheckRound:
    """What one round of the day's re-check did; ``after`` is where the next round starts ("": from the first)."""

    examined: int
    added: int
    confirmed: int
    alerts: int
    after: str


def sweep_stale(sc: Scoring, after: str = "", limit: int = RECHECK_BATCH) -> RecheckRound:
    """One round of the day's re-check: up to ``limit`` active enterprises (codes above ``after``) whose records
    were last evaluated before today began in Asia/Shanghai are evaluated again from their stored records.

    Indicators read the evaluation day (years since a date, counts within the last N months, listings active until
    an end date, monthly windows), so an evaluation may change with no record changing. A new one is appended only
    when something in it changed; otherwise the current one is marked current for today. Either way the
    enterprise's ``records_as_of`` moves to now: it is both what the next round looks for (a restart resumes from
    the store, no cursor needed) and the monitoring baseline, so an alert the new day raised is raised once.
    """
    now = sc.clock()
    with sc.reader() as uow:
        page = uow.enterprises.stale(start_of_day(local_date(now)), after, limit)
    if not page:
        return RecheckRound(0, 0, 0, 0, "")
    model = sc.current_model()
    added = confirmed = alerts = 0
    for state in page:
        try:
            made, stored = _recheck(sc, model, state, now)
        except Exception as exc:
            # Consent unreachable, or a bug: the enterprise stays due (its records_as_of did not move) and is taken
            # again when the rounds come round; the others are not held up behind it. No code: ids only in logs.
            log.warning("recheck_failed", error_type=type(exc).__name__)
            continue
        added += made is True
        confirmed += made is False
        alerts += stored
    return RecheckRound(len(page), added, confirmed, alerts, page[-1].uscc if len(page) == limit else "")


def _recheck(sc: Scoring, model: Model, before: EnterpriseState, now: datetime) -> tuple[bool | None, int]:
    """Re-evaluate one enterprise from its stored records as of ``now``: (True when an evaluation was appended,
    False when the current one was confirmed, None when its state moved meanwhile; the alerts stored)."""
    uscc = before.uscc
    if not all(r.publicity_known for r in before.records):
        # Stored before scoring kept publicity ends: a penalty past its period would count for ever from them. The
        # registry's records (with their ends) replace them, once; as any record change would, with its alerts.
        stored, refreshed = _refresh(sc, uscc, platform_id=before.platform_id, revision=0, force=True)
        return refreshed is not None, stored
    with sc.reader() as uow:
        loans = uow.loans.outstanding_for(uscc)
    current = snapshot(model, before.records, now, before.record_revision)
    events = []
    if loans and before.records_as_of is not None:
        previous = snapshot(model, before.records, before.records_as_of, before.record_revision)
        events = detect_risks(model, previous, current)
    sendable = _decide_alerts(sc, model, uscc, loans, events)
    with sc.writer() as uow:
        locked = uow.enterprises.get(uscc, for_update=True)
        if _state_key(locked) != _state_key(before):
            # Another replica's re-check, a record change (it evaluated as of its time and moved the baseline) or a
            # removal came first: writing here would add a second evaluation or alert on a superseded baseline.
            return None, 0
        latest = uow.evaluations.current(uscc)
        fresh = current.assessment.evaluation
        if latest is not None and same_figures(model, latest.evaluation, fresh):
            uow.evaluations.confirm(latest.evaluation_id, local_date(now))
            made = False
        else:
            uow.evaluations.add(uscc, fresh, now, before.record_revision)
            made = True
        uow.enterprises.checked(uscc, now)
        stored = _store_alerts(uow, uscc, loans, events, sendable, now)
        uow.commit()
    _alerts_raised(sc, stored)
    return made, stored


# ---------------------------------------------------------------------- reads


def _with_disputes(uow: ScoringUnitOfWork, uscc: str, stored: list[StoredEvaluation]) -> list[StoredEvaluation]:
    """Each evaluation with what the enterprise's objections show on it now."""
    if not stored:
        return stored
    disputes = uow.disputes.for_enterprise(uscc)
    return [replace(s, dispute=view(disputes, s.evaluation_id)) for s in stored]


def get_evaluation(sc: Scoring, uscc: str) -> StoredEvaluation:
    """The current evaluation of a registered enterprise. One the registry removed has none any more, as for
    portraits and scenario scores; its history stays readable by name (objections and evidence refer to it)."""
    with sc.reader() as uow:
        state = uow.enterprises.get(uscc)
        got = uow.evaluations.current(uscc) if state is not None and state.active else None
        if got is None:
            # The name is the caller's and not checked against the registry: it is not echoed.
            raise NotFound("ERROR_REASON_EVALUATION_NOT_FOUND", "the enterprise has no evaluation")
        return _with_disputes(uow, uscc, [got])[0]


def evaluation_history(sc: Scoring, uscc: str, before_id: int | None, limit: int) -> list[StoredEvaluation]:
    with sc.reader() as uow:
        return _with_disputes(uow, uscc, uow.evaluations.history(uscc, before_id, limit))


def _evaluation(uow: ScoringUnitOfWork, uscc: str, evaluation_id: int) -> StoredEvaluation:
    got = uow.evaluations.get(uscc, evaluation_id)
    if got is None:
        raise NotFound("ERROR_REASON_EVALUATION_NOT_FOUND", "the enterprise has no evaluation of that name")
    return got


def evaluation_by_name(sc: Scoring, uscc: str, evaluation_id: int) -> StoredEvaluation:
    """One evaluation of the enterprise's history; NOT_FOUND when the enterprise has none with that id."""
    with sc.reader() as uow:
        return _with_disputes(uow, uscc, [_evaluation(uow, uscc, evaluation_id)])[0]


# ---------------------------------------------------------------------- objections on evaluations
# The objection service calls these from its outbox (at-least-once, in no guaranteed order), so each is idempotent
# per (enterprise, objection) and none depends on another having arrived first.


def _same_evaluation(objection: str, disputed: int, named: int) -> None:
    if disputed != named:
        raise invalid("name", f"{objection} disputes another evaluation of the enterprise")


def set_dispute(sc: Scoring, uscc: str, evaluation_id: int, objection: str) -> StoredEvaluation:
    """Flag the evaluation (and later ones) in dispute for ``objection``; a redelivery after the outcome leaves the
    ended dispute as it is, so a late flag never reopens it."""
    now = sc.clock()
    with sc.writer() as uow:
        target = _evaluation(uow, uscc, evaluation_id)
        existing = uow.disputes.get(uscc, objection)
        if existing is None:
            uow.disputes.put(open_dispute(uscc, objection, evaluation_id, now))
        else:
            _same_evaluation(objection, existing.evaluation_id, evaluation_id)
        result = _with_disputes(uow, uscc, [target])[0]
        uow.commit()
    log.info("evaluation_dispute_set", objection=objection, evaluation=evaluation_id)
    return result


def clear_dispute(
    sc: Scoring, uscc: str, evaluation_id: int, objection: str, outcome: DisputeOutcome, statement: str | None
) -> StoredEvaluation:
    """End ``objection``'s dispute; its cover stops at the enterprise's current evaluation (a re-evaluation asked for
    by a CORRECTED outcome comes first, so the corrected evaluation is never shown in dispute)."""
    now = sc.clock()
    with sc.writer() as uow:
        # Locked before anything is read (PostgreSQL): a second delivery of the outcome (the objection's outbox
        # delivers at least once, from any replica) waits for the first's commit and is its replay. Read unlocked,
        # the later of two ended the dispute again over the first, with its own time and a cover reaching the
        # evaluation current when it read (one a re-evaluation made meanwhile, never disputed).
        stored = uow.disputes.get(uscc, objection, for_update=True)
        target = _evaluation(uow, uscc, evaluation_id)
        current = uow.evaluations.current(uscc)
        assert current is not None  # the target is one of the enterprise's evaluations
        # An outcome delivered before its flag records both at once.
        existing = stored or open_dispute(uscc, objection, evaluation_id, now)
        _same_evaluation(objection, existing.evaluation_id, evaluation_id)
        closed = existing.close(outcome, now, current.evaluation_id, statement)
        if closed != stored:
            uow.disputes.put(closed)
        result = _with_disputes(uow, uscc, [target])[0]
        uow.commit()
    log.info("evaluation_dispute_cleared", objection=objection, evaluation=evaluation_id, outcome=outcome.value)
    return result


def attach_statement(sc: Scoring, uscc: str, evaluation_id: int, objection: str, statement: str) -> StoredEvaluation:
    """Show the enterprise's statement with the evaluations an UPHELD or UNVERIFIABLE objection covered."""
    with sc.writer() as uow:
        target = _evaluation(uow, uscc, evaluation_id)
        existing = uow.disputes.get(uscc, objection, for_update=True)  # as clear_dispute's
        if existing is None:
            raise NotFound(
                "ERROR_REASON_EVALUATION_DISPUTE_NOT_FOUND",
                "the objection has no dispute on this evaluation",
                {"objection": objection},
            )
        _same_evaluation(objection, existing.evaluation_id, evaluation_id)
        updated = existing.with_statement(statement)
        if updated != existing:
            uow.disputes.put(updated)
        result = _with_disputes(uow, uscc, [target])[0]
        uow.commit()
    return result


def reevaluate(sc: Scoring, uscc: str, request_id: str, fingerprint: str) -> StoredEvaluation:
    """Evaluate the enterprise now from its current records; a retry with the same request id returns the same
    evaluation instead of making another."""
    if request_id:
        with sc.reader() as uow:
            done = uow.requests.get("ReEvaluate", request_id)
        if done is not None:
            if done[0] != fingerprint:
                raise InvalidArgument(
                    "ERROR_REASON_REQUEST_ID_REUSED", "request_id was used for another request", {"field": "request_id"}
                )
            return evaluation_by_name(sc, uscc, int(done[1]))
    with sc.reader() as uow:
        state = uow.enterprises.get(uscc)
    if state is None or not state.active:
        raise NotFound("ERROR_REASON_ENTERPRISE_NOT_FOUND", "the enterprise is not registered", {"field": "enterprise"})
    request = ("ReEvaluate", request_id, fingerprint) if request_id else None
    _, made = _refresh(sc, uscc, platform_id=state.platform_id, revision=0, force=True, request=request)
    assert made is not None  # forced: always evaluated
    log.info("enterprise_reevaluated", evaluation=made.evaluation_id)
    return evaluation_by_name(sc, uscc, made.evaluation_id)


def _state(sc: Scoring, uscc: str) -> EnterpriseState:
    with sc.reader() as uow:
        state = uow.enterprises.get(uscc)
    if state is None or not state.active:
        raise NotFound("ERROR_REASON_EVALUATION_NOT_FOUND", "the enterprise has no evaluation")  # name not echoed
    return state


def get_portrait(sc: Scoring, uscc: str) -> Portrait:
    state = _state(sc, uscc)
    with sc.reader() as uow:
        disputes = uow.disputes.for_enterprise(uscc)
    model = sc.current_model()
    # The portrait shows the current evaluation's figures: an open dispute on the evaluation contests these too.
    return replace(portrait(model, assess(model, state.records, sc.clock())), objection=open_objection(disputes))


# ---------------------------------------------------------------------- scenarios


def _parse_yaml(text: str) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ModelRejected([yaml_problem(exc)]) from None


def _store_scenario(sc: Scoring, scenario: ScenarioModelDoc) -> ScenarioModelDoc:
    with sc.writer() as uow:
        existing = uow.scenarios.get(scenario.institution_id, scenario.scenario_id)
        if existing is not None:
            if existing.document == scenario.document:
                return existing
            raise AlreadyExists(
                "ERROR_REASON_ALREADY_REGISTERED",
                "the institution has a different scenario model with that id",
                {"scenario_id": scenario.scenario_id},
            )
        uow.scenarios.put(scenario)
        uow.commit()
    return scenario


def create_scenario(sc: Scoring, institution_id: str, scenario_id: str, document: str) -> ScenarioModelDoc:
    identifier("institution", institution_id)
    identifier("scenario_id", scenario_id)
    base = sc.current_model()
    compile_scenario(_parse_yaml(document), base)
    return _store_scenario(sc, ScenarioModelDoc(institution_id, scenario_id, base.version, document, sc.clock()))


def fit_scenario(
    sc: Scoring,
    institution_id: str,
    scenario_id: str,
    outcomes: Sequence[tuple[str, bool]],
    grade_mins: Sequence[float],
) -> tuple[ScenarioModelDoc, int]:
    """Fit a scenario from outcomes; each enterprise's indicator and signal values come from its known records.

    Only the institution's own borrowers count (enterprises it reported a loan to): outcomes it may name for any other
    enterprise would let it fit once with and once without one and read that enterprise's values off the difference."""
    identifier("institution", institution_id)
    identifier("scenario_id", scenario_id)
    if grade_mins and len(grade_mins) != len(GRADES):
        raise invalid("grade_mins", f"needs one minimum per grade ({len(GRADES)})")
    # One outcome per enterprise: a repeated one would pass the minimum of bad and good outcomes (and of rows per bin)
    # with one enterprise, whose values the fitted bins would then show.
    named: set[str] = set()
    for i, (uscc, _) in enumerate(outcomes):
        if uscc in named:
            # Told by its place, not its code: only the shape was checked, and a resident ID number has that shape.
            raise invalid("outcomes", f"outcomes[{i}] names an enterprise named before")
        named.add(uscc)
    base = sc.current_model()
    now = sc.clock()
    codes = list(base.extractions)
    columns: dict[str, list[float]] = {c: [] for c in codes}
    bad: list[bool] = []
    with sc.reader() as uow:
        borrowers = uow.loans.borrowers_of(institution_id)
        for uscc, is_bad in outcomes:
            state = uow.enterprises.get(uscc) if uscc in borrowers else None
            if state is None or not state.active:
                continue
            values = extract_values(base, state.records, now)
            for c in codes:
                v = values[c].value
                columns[c].append(math.nan if v is None else float(v))
            bad.append(is_bad)
    fitted = fit({c: np.asarray(v) for c, v in columns.items()}, np.asarray(bad, dtype=bool))
    grades = dict(zip(GRADES, grade_mins, strict=True)) if grade_mins else None
    doc = fitted.scenario(f"{institution_id}/{scenario_id}", base.version, grades)
    compile_scenario(doc, base)
    text = yaml.safe_dump(json.loads(json.dumps(doc)), allow_unicode=True, sort_keys=False)
    stored = _store_scenario(
        sc, ScenarioModelDoc(institution_id, scenario_id, base.version, text, now, dict(fitted.dropped))
    )
    return stored, len(bad)


def scenario_score(sc: Scoring, institution_id: str, scenario_id: str, uscc: str) -> Evaluation:
    with sc.reader() as uow:
        scenario = uow.scenarios.get(institution_id, scenario_id)
        base_published = uow.models.get(scenario.base_version) if scenario else None
    if scenario is None or base_published is None:
        # The id is the caller's and names no model: it is not echoed (a mobile or an ID number fits an id's shape).
        raise NotFound("ERROR_REASON_SCENARIO_MODEL_NOT_FOUND", "no such scenario model", {"field": "scenario_model"})
    state = _state(sc, uscc)
    model = compile_scenario(_parse_yaml(scenario.document), sc.compiled(base_published))
    return assess(model, state.records, sc.clock()).evaluation


# ---------------------------------------------------------------------- loans


# Plain decimal text: digits, then at most two decimals; at most 15 digits before the point (the register stores the
# text as given, and a quadrillion yuan is beyond any loan).
_YUAN = re.compile(r"[0-9]{1,15}(\.[0-9]{1,2})?")


def parse_yuan(field_name: str, text: str, *, allow_zero: bool = False) -> Decimal:
    if not _YUAN.fullmatch(text):
        if re.fullmatch(r"[0-9]+\.[0-9]{3,}", text):
            raise invalid(field_name, "has more than two decimals")
        raise invalid(field_name, "must be plain decimal text of at most 15 digits and two decimals, e.g. 500000.00")
    amount = Decimal(text)
    if amount == 0 and not allow_zero:
        raise invalid(field_name, "must be more than zero")
    return amount


@dataclass(frozen=True)
class NewLoan:
    loan_id: str
    institution_id: str
    uscc: str
    platform_id: str
    amount_yuan: Decimal
    term_months: int
    credit: bool
    first_loan: bool
    small_micro: bool
    granted_on: date


def report_loan(sc: Scoring, cmd: NewLoan) -> LoanEntry:
    """Add a loan; the enterprise's records as last processed are the monitoring baseline."""
    identifier("loan_id", cmd.loan_id)
    if not 1 <= cmd.term_months <= 360:
        raise invalid("term_months", "must be 1-360")
    with sc.writer() as uow:
        existing = uow.loans.get(cmd.loan_id)
        if existing is not None:
            same = (
                existing.institution_id,
                existing.uscc,
                existing.amount_yuan,
                existing.granted_on,
            ) == (cmd.institution_id, cmd.uscc, cmd.amount_yuan, cmd.granted_on)
            if same:
                return existing
            raise AlreadyExists("ERROR_REASON_ALREADY_REGISTERED", "a different loan has that id", {"field": "loan_id"})
        state = uow.enterprises.get(cmd.uscc)
        if state is None or not state.active:
            raise NotFound(
                "ERROR_REASON_ENTERPRISE_NOT_FOUND", "the enterprise is not registered", {"field": "enterprise"}
            )
        loan = LoanEntry(
            cmd.loan_id,
            cmd.institution_id,
            cmd.uscc,
            cmd.platform_id,
            uow.platforms.region(cmd.platform_id) or "",
            cmd.amount_yuan,
            cmd.term_months,
            cmd.credit,
            cmd.first_loan,
            cmd.small_micro,
            cmd.granted_on,
            LoanStatus.OUTSTANDING,
            sc.clock(),
        )
        uow.loans.add(loan)
        uow.commit()
    return loan


def get_loan(sc: Scoring, loan_id: str) -> LoanEntry:
    with sc.reader() as uow:
        loan = uow.loans.get(loan_id)
    if loan is None:
        raise NotFound("ERROR_REASON_LOAN_NOT_FOUND", "no such loan")  # the caller's id: not echoed
    return loan


def repay_loan(
    sc: Scoring, loan_id: str, amount: Decimal, on: date, close: bool, request_id: str, fingerprint: str
) -> LoanEntry:
    if not request_id:
        raise invalid("request_id", "is required for a repayment")
    with sc.writer() as uow:
        done = uow.requests.get("RepayLoan", request_id)
        if done is not None:
            if done[0] != fingerprint:
                raise InvalidArgument(
                    "ERROR_REASON_REQUEST_ID_REUSED", "request_id was used for another request", {"field": "request_id"}
                )
            loan = uow.loans.get(done[1])
            assert loan is not None
            return loan
        loan = uow.loans.get(loan_id)
        if loan is None:
            raise NotFound("ERROR_REASON_LOAN_NOT_FOUND", "no such loan")  # the caller's id: not echoed
        if loan.status is LoanStatus.CLOSED:
            raise FailedPrecondition("ERROR_REASON_LOAN_CLOSED", "the loan is closed", {"loan": f"loans/{loan_id}"})
        if on < loan.granted_on:
            # A loan closed before it was granted would never count as outstanding in the effectiveness figures.
            raise invalid("repaid_on", "must not be before the loan was granted")
        loan = replace(loan, repayments=(*loan.repayments, (on, amount)) if amount > 0 else loan.repayments)
        if close or loan.outstanding_yuan == 0:
            loan = replace(loan, status=LoanStatus.CLOSED, closed_on=on)
        uow.loans.save(loan)
        uow.requests.put("RepayLoan", request_id, fingerprint, loan_id)
        uow.commit()
    return loan


# ---------------------------------------------------------------------- alerts


def deliverable_alerts(sc: Scoring, institution_id: str, cursor: int, limit: int) -> tuple[list[Alert], int]:
    """Alerts after ``cursor`` that may flow now (POST_LOAN_MONITORING still held, its look-back still reaching the
    alert's non-public records), and the new cursor.

    Alerts the institution may no longer receive are skipped (they stay stored); the cursor moves past them.
    """
    with sc.reader() as uow:
        batch = uow.alerts.after(institution_id, cursor, limit)
    out = []
    public = cache(sc.public_items)
    for alert in batch:
        decision = sc.consent.check(institution_id, alert.uscc, _items(sc.current_model(), alert.evidence))
        if _sendable(decision, alert.evidence, public):
            out.append(alert)
        cursor = alert.cursor
    return out, cursor


def start_cursor(sc: Scoring, institution_id: str, after: int) -> int:
    if after > 0:
        return after
    with sc.reader() as uow:
        return uow.alerts.acked(institution_id)


def ack_alerts(sc: Scoring, institution_id: str, up_to: int) -> int:
    if up_to < 0:
        raise invalid("up_to_cursor", "must not be negative")
    with sc.writer() as uow:
        # Only alerts that exist are acknowledged: a cursor beyond the last one would swallow alerts raised later
        # (a resumed watch starts after the acknowledged cursor).
        acked = uow.alerts.ack(institution_id, min(up_to, uow.alerts.last_cursor(institution_id)))
        uow.commit()
    return acked


# ---------------------------------------------------------------------- effectiveness


def effectiveness(
    sc: Scoring, periods: Sequence[str], by: Sequence[str], on: date
) -> tuple[list[eff.EffectRow], eff.Progress]:
    if not periods or len(periods) > 60:
        raise invalid("periods", "needs 1-60 periods")
    with sc.reader() as uow:
        entries = uow.loans.all()
        # A loan reported before its platform's region reached this service was stored without a city: take the
        # region known now, so it is not reported under a blank city for ever.
        cities = {x.platform_id: uow.platforms.region(x.platform_id) or "" for x in entries if not x.city}
    loans = [
        eff.Loan(
            x.loan_id,
            x.uscc,
            x.institution_id,
            x.platform_id,
            x.city or cities[x.platform_id],
            x.granted_on,
            x.amount_yuan,
            x.credit,
            x.small_micro,
            x.first_loan,
            x.repayments,
            x.closed_on,
        )
        for x in entries
    ]
    return eff.effectiveness(loans, periods, by or ("platform", "city")), eff.progress(loans, on)
