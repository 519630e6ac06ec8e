"""Loan-dispute evidence packages: proofs gathered from the disclosure log and consent's log, signed, export logged.

Only an arbitration commission or court (registry institution type ARBITRATION or COURT) connecting through an
admitted platform gets a package, and only for a loan the register holds between that enterprise and lender.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from services.gateway.clients.consent_evidence import ConsentEvidence
from services.gateway.clients.errors import unavailable
from services.gateway.domain.identity import Caller
from services.gateway.usecases import INSTITUTION_NAME, Gateway, enterprise_uscc
from services.kit.errors import DomainError, PermissionDenied
from services.kit.evidence.entries import LeafKind, format_time
from services.kit.evidence.log import EvidenceLog
from services.kit.evidence.package import sign_package
from services.kit.evidence.store import LeafFilter
from services.kit.validation import invalid

_REFERENCE = re.compile(r"^[\w ()\-/〔〕（）]{1,64}$")
_LOAN = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
PAGE = 1000

LoanCheck = Callable[[str, str, str], None]
"""(loan_id, enterprise, lender) -> None, or NotFound when the register has no such loan between them."""


@dataclass(frozen=True)
class PackageRequest:
    arbiter: str
    reference: str
    enterprise: str
    lender: str
    loan_id: str
    on_behalf_of: str = ""


@dataclass(frozen=True)
class ExportedPackage:
    package_json: str
    sha256: str
    leaf_index: int


@dataclass
class EvidencePackages:
    """Wired by main.py with the gateway's own log, consent's evidence and the loan register."""

    gateway: Gateway
    log: EvidenceLog | None
    consent: ConsentEvidence
    check_loan: LoanCheck

    def export(self, req: PackageRequest, connected: str) -> ExportedPackage:
        if not INSTITUTION_NAME.fullmatch(req.arbiter):
            # Access first, as for any malformed request; the refusal is the platform's admitted (the one 秦信融
            # relayed it for), else the caller's.
            malformed = invalid("arbiter", "must look like institutions/{id}")
            raise self.gateway.refuse("evidence_package", connected, req.on_behalf_of, req.enterprise, malformed)
        caller: Caller | None = None
        try:
            caller = self.gateway.admit(connected, req.on_behalf_of, req.arbiter)
            return self._export(req, connected, caller)
        except DomainError as exc:
            # Refused once admitted (no arbiter, a malformed field, no such loan): recorded as served to the platform
            # admitted, as a refused report is; with the caller alone, 秦信融 carried every county's refusals.
            self.gateway.denied(
                "evidence_package", connected, req.enterprise, exc, caller=caller, on_behalf_of=req.on_behalf_of
            )
            raise

    def _validate(self, req: PackageRequest) -> None:
        enterprise_uscc(req.enterprise)
        if not INSTITUTION_NAME.fullmatch(req.lender):
            raise invalid("lender", "must look like institutions/{id}")
        if not _LOAN.fullmatch(req.loan_id):
            raise invalid("loan_id", "2-40 lower-case letters, digits and dashes")
        if not _REFERENCE.fullmatch(req.reference):
            raise invalid("dispute_reference", "1-64 letters, digits, spaces and ()-_/〔〕")

    def _export(self, req: PackageRequest, connected: str, caller: Caller) -> ExportedPackage:
        view = self.gateway.institution(req.arbiter)  # a live view, as admission's: not a listing just begun
        if view is None or not view.arbiter:
            raise PermissionDenied(
                "ERROR_REASON_NOT_AN_ARBITER",
                "evidence packages go only to arbitration commissions and courts",
                {"institution": req.arbiter},
            )
        self._validate(req)
        if self.log is None:
            raise unavailable("disclosure log")
        self.check_loan(req.loan_id, req.enterprise, req.lender)
        disclosures, records, named = self._disclosures(req)
        authorizations = []
        for name in sorted(named | set(self.consent.authorizations(req.enterprise, req.lender))):
            receipts, leaves = self.consent.evidence(name)
            authorizations.append({"name": name, "receipts": receipts, "leaves": leaves})
        body = {
            "dispute": {
                "reference": req.reference,
                "enterprise": req.enterprise,
                "lender": req.lender,
                "loan": req.loan_id,
                "requested_by": caller.institution,
                "platform": caller.platform,
                "created_at": format_time(datetime.now(UTC)),
            },
            "authorizations": authorizations,
            "disclosures": disclosures,
            "records": records,
        }
        if not self.log.key_is_active():
            # Rotated out while the package was gathered (its head was this key's): signed now, after its made time,
            # the package would name a key retired before it was made. A replica with the new key signs it.
            raise unavailable("the disclosure log's signing key")
        text = json.dumps(sign_package(body, self.log.key), indent=1, sort_keys=True, ensure_ascii=False) + "\n"
        digest = hashlib.sha256(text.encode()).hexdigest()
        # Checked again just before the release, as every release is: a suspension that arrived while scoring (the
        # loan) or consent (the authorizations) were being asked stops the package.
        self.gateway.admit(connected, req.on_behalf_of, req.arbiter)
        leaf = self.gateway.disclosure_log.record(
            {
                "type": "evidence_package",
                "decision": "ALLOW",
                "caller": connected,
                "platform": caller.platform,
                "requester": caller.institution,
                "enterprise": req.enterprise,
                "lender": req.lender,
                "loan": req.loan_id,
                "dispute_sha256": hashlib.sha256(req.reference.encode()).hexdigest(),
                "payload_sha256": digest,
            }
        )
        return ExportedPackage(text, digest, leaf)

    def _disclosures(self, req: PackageRequest) -> tuple[list[Any], list[dict[str, Any]], set[str]]:
        """Receipts of every release to the lender about the enterprise, the record hashes they commit to and the
        authorizations they name, all proven against one fresh head."""
        assert self.log is not None
        where = LeafFilter(
            kind=LeafKind.DISCLOSURE,
            payload=(("enterprise", req.enterprise), ("requester", req.lender), ("type", "credit_report")),
        )
        head = self.log.signed_tree_head(fresh=True)
        if head.key_id != self.log.key.key_id:
            # Only a replica whose key another one rotated out is handed a head it did not sign: the package it
            # signed now would bear a key retired before the package was made. A replica with the new key signs it.
            raise unavailable("the disclosure log's signing key")
        receipts: list[Any] = []
        records: list[dict[str, Any]] = []
        named: set[str] = set()
        after: int | None = None
        while True:
            leaves = self.log.list_leaves(where, after, PAGE)
            for leaf in leaves:
                payload = json.loads(leaf.entry_json)["payload"]
                if leaf.index >= head.tree_size or payload.get("decision") != "ALLOW":
                    continue
                receipt = self.log.inclusion(leaf.index, head.tree_size).receipt()
                assert receipt is not None  # the fresh head has exactly this size
                receipts.append(receipt.to_obj())
                if payload.get("authorization"):
                    named.add(payload["authorization"])
                for record, sha in zip(payload.get("records", []), payload.get("record_sha256", []), strict=False):
                    records.append({"record": record, "sha256": sha, "disclosure_leaf": leaf.index})
            if len(leaves) < PAGE:
                break
            after = leaves[-1].index
        return receipts, records, named
