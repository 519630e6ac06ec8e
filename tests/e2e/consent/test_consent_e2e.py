"""Consent and registry as real processes: signed lifecycle, checks, bad input, and revocation of removed requesters."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml

from creditnode.common.v1 import error_reason_pb2
from creditnode.consent.v1 import consent_service_pb2 as pb
from creditnode.consent.v1 import consent_service_pb2_grpc as pb_grpc
from creditnode.registry.v1 import participants_pb2 as rpb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from creditnode.registry.v1 import sharing_list_pb2 as sl_pb
from creditnode.registry.v1 import sharing_list_pb2_grpc as sl_grpc
from services.kit.status import error_info
from tests.conftest import free_port, fresh_database
from tests.consent_support.replica import Replica
from tests.consent_support.signing import Enterprise
from tests.processes import ServiceProcess, start_service
from tests.registry_helpers import RegistryClient, change, random_uscc


@dataclass
class Node:
    consent: pb_grpc.ConsentServiceStub
    consent_address: str
    registry: RegistryClient
    platform: str
    bank: str
    alice: Enterprise
    bob: Enterprise


@pytest.fixture
def node(tmp_path: Path, database_url: str) -> Iterator[Node]:
    procs: list[ServiceProcess] = []
    with contextlib.ExitStack() as stack:
        registry_db = stack.enter_context(contextlib.contextmanager(fresh_database)(tmp_path, "registry"))
        registry = start_service(
            "registry",
            free_port(),
            tmp_path,
            {"DATABASE_URL": registry_db, "VAR_DIR": str(tmp_path), "CA_AUTOCREATE": "true"},
        )
        procs.append(registry)
        registry.wait_serving()
        consent = start_service(
            "consent",
            free_port(),
            tmp_path,
            {
                "DATABASE_URL": database_url,
                "REGISTRY_ADDR": registry.address,
                # Consent reads the registry's current sharing list; short, so a published version is seen soon.
                "SHARING_LIST_REFRESH_SECONDS": "0.2",
                "WATCH_HEARTBEAT_SECONDS": "0.05",
                "WATCH_LEASE_SECONDS": "0.6",
                "WATCH_LEASE_MARGIN_SECONDS": "0.2",
            },
        )
        procs.append(consent)
        try:
            consent.wait_serving()
            rch = stack.enter_context(grpc.insecure_channel(registry.address))
            cch = stack.enter_context(grpc.insecure_channel(consent.address))
            client = RegistryClient(rch)
            platform, _ = client.admitted_platform("xian")
            bank = client.admin.CreateInstitution(
                admin_pb.CreateInstitutionRequest(
                    institution_id="boc-xian",
                    display_name="中国银行西安分行",
                    licence_number="B0003H261010001",
                    type=rpb.INSTITUTION_TYPE_BANK,
                    platform=platform.name,
                    change=change(),
                )
            ).institution
            people = []
            for _ in range(2):
                e = Enterprise(random_uscc())
                client.registry.RegisterEnterprise(
                    rs_pb.RegisterEnterpriseRequest(
                        platform=platform.name,
                        uscc=e.uscc,
                        display_name="陕西测试科技有限公司",
                        public_key=e.public_key,
                    )
                )
                people.append(e)
            yield Node(pb_grpc.ConsentServiceStub(cch), consent.address, client, platform.name, bank.name, *people)
        finally:
            for p in reversed(procs):
                p.terminate()
                p.kill()


def reason(call: object) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as err:
        call()  # type: ignore[operator]
    info = error_info(err.value)
    return err.value.code(), info.reason if info else ""


def check(node: Node, e: Enterprise, **kw: object) -> pb.CheckAuthorizationResponse:
    return node.consent.CheckAuthorization(
        pb.CheckAuthorizationRequest(
            requester=node.bank,
            enterprise=e.name,
            purpose="PRE_LOAN",
            items=["TAX_PAYMENT"],
            **kw,  # type: ignore[arg-type]
        )
    )


def test_enterprise_grants_checks_pauses_resumes_and_revokes_through_real_services(node: Node) -> None:
    granted = node.consent.GrantAuthorization(node.alice.grant(node.bank, max_uses=2))
    name = granted.authorization.name
    assert granted.receipt.event_type == pb.EVENT_TYPE_GRANTED
    allowed = check(node, node.alice, consume=True, request_id="d-1")
    assert (allowed.decision, allowed.authorization, allowed.uses) == (pb.DECISION_ALLOW, name, 1)
    node.consent.PauseAuthorization(node.alice.pause(name))
    assert check(node, node.alice).reason == pb.DECISION_REASON_PAUSED
    node.consent.ResumeAuthorization(node.alice.resume(name))
    assert check(node, node.alice, consume=True).decision == pb.DECISION_ALLOW
    assert check(node, node.alice, consume=True).reason == pb.DECISION_REASON_USE_LIMIT_REACHED
    first = node.consent.RevokeAuthorization(node.alice.revoke(name))
    again = node.consent.RevokeAuthorization(node.alice.revoke(name))
    assert again.receipt.digest == first.receipt.digest
    assert check(node, node.alice).reason == pb.DECISION_REASON_REVOKED
    events = node.consent.ListAuthorizationEvents(pb.ListAuthorizationEventsRequest(authorization=name)).events
    assert [e.event_type for e in events] == [
        pb.EVENT_TYPE_GRANTED,
        pb.EVENT_TYPE_PAUSED,
        pb.EVENT_TYPE_RESUMED,
        pb.EVENT_TYPE_REVOKED,
    ]
    uses = node.consent.ListAuthorizationUses(pb.ListAuthorizationUsesRequest(authorization=name)).uses
    assert [u.request_id for u in uses] == ["d-1", ""]
    listed = node.consent.ListAuthorizations(pb.ListAuthorizationsRequest(enterprise=node.alice.name))
    assert [(a.name, a.uses) for a in listed.authorizations] == [(name, 2)]


def test_a_batch_of_checks_records_each_use_once_and_fails_a_bad_check_alone(node: Node) -> None:
    name = node.consent.GrantAuthorization(node.alice.grant(node.bank, max_uses=2)).authorization.name

    def consuming(request_id: str, **kw: object) -> pb.CheckAuthorizationRequest:
        fields: dict[str, object] = {
            "requester": node.bank,
            "enterprise": node.alice.name,
            "purpose": "PRE_LOAN",
            "items": ["TAX_PAYMENT"],
            "consume": True,
            "request_id": request_id,
        }
        return pb.CheckAuthorizationRequest(**{**fields, **kw})  # type: ignore[arg-type]

    batch = [
        consuming("b-1"),
        consuming("b-1"),  # a retry inside the same batch: no second use
        consuming("b-2", enterprise="enterprises/not-a-uscc"),  # malformed: fails alone
        consuming("b-3"),
        consuming("b-4"),  # the third use of a two-use authorization
        consuming("", consume=False),  # a plain check: answered as of before the batch's uses
    ]
    results = node.consent.BatchCheckAuthorizations(pb.BatchCheckAuthorizationsRequest(requests=batch)).results
    assert [r.WhichOneof("result") for r in results] == [
        "response",
        "response",
        "error",
        "response",
        "response",
        "response",
    ]
    answers = [(r.response.decision, r.response.reason, r.response.uses) for r in results if r.HasField("response")]
    assert answers == [
        (pb.DECISION_ALLOW, pb.DECISION_REASON_AUTHORIZED, 1),
        (pb.DECISION_ALLOW, pb.DECISION_REASON_AUTHORIZED, 1),
        (pb.DECISION_ALLOW, pb.DECISION_REASON_AUTHORIZED, 2),
        (pb.DECISION_DENY, pb.DECISION_REASON_USE_LIMIT_REACHED, 2),
        (pb.DECISION_ALLOW, pb.DECISION_REASON_AUTHORIZED, 0),
    ]
    bad = results[2].error
    assert (bad.code, bad.reason, bad.metadata["field"]) == (
        grpc.StatusCode.INVALID_ARGUMENT.value[0],
        error_reason_pb2.ERROR_REASON_INVALID_USCC,
        "enterprise",
    )
    uses = node.consent.ListAuthorizationUses(pb.ListAuthorizationUsesRequest(authorization=name)).uses
    assert [u.request_id for u in uses] == ["b-1", "b-3"]
    # The whole batch again, as a gateway would retry it: nothing more is used.
    again = node.consent.BatchCheckAuthorizations(pb.BatchCheckAuthorizationsRequest(requests=batch[:2])).results
    assert [(r.response.decision, r.response.authorization) for r in again] == [(pb.DECISION_ALLOW, name)] * 2
    assert node.consent.GetAuthorization(pb.GetAuthorizationRequest(name=name)).authorization.uses == 2
    for size in (0, 101):
        requests = [consuming(f"n-{i}") for i in range(size)]
        assert reason(
            lambda requests=requests: node.consent.BatchCheckAuthorizations(
                pb.BatchCheckAuthorizationsRequest(requests=requests)
            )
        ) == (grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD")


def test_bad_input_is_refused_with_its_reason(node: Node) -> None:
    bad = node.alice.grant(node.bank)
    bad.signature.signature = bytes(64)
    assert reason(lambda: node.consent.GrantAuthorization(bad)) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "ERROR_REASON_SIGNATURE_INVALID",
    )
    forged = Enterprise(node.alice.uscc, key=node.bob.key).grant(node.bank)
    assert reason(lambda: node.consent.GrantAuthorization(forged)) == (
        grpc.StatusCode.UNAUTHENTICATED,
        "ERROR_REASON_SIGNATURE_INVALID",
    )
    assert reason(lambda: node.consent.GrantAuthorization(node.alice.grant("institutions/nobody"))) == (
        grpc.StatusCode.NOT_FOUND,
        "ERROR_REASON_INSTITUTION_NOT_FOUND",
    )
    secret = node.alice.grant(node.bank, items=("TAX_FINANCIAL_STATEMENT",))
    assert reason(lambda: node.consent.GrantAuthorization(secret)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_COMMERCIAL_SECRET",
    )
    name = node.consent.GrantAuthorization(node.alice.grant(node.bank)).authorization.name
    assert reason(lambda: node.consent.RevokeAuthorization(node.bob.revoke(name))) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "ERROR_REASON_PERMISSION_DENIED",
    )


def test_removing_the_requester_revokes_its_authorizations_and_gateways_learn_it(node: Node) -> None:
    name = node.consent.GrantAuthorization(node.alice.grant(node.bank)).authorization.name
    replica = Replica(node.consent_address, "gw-e2e").start()
    try:
        replica.wait_serving()
        assert replica.decide(node.bank, node.alice.name, "PRE_LOAN", ("TAX_PAYMENT",)).allowed
        node.registry.admin.RemoveInstitution(admin_pb.RemoveInstitutionRequest(name=node.bank, change=change()))
        deadline = time.monotonic() + 30
        while check(node, node.alice).reason != pb.DECISION_REASON_REVOKED:
            assert time.monotonic() < deadline, "the removal never reached consent"
            time.sleep(0.1)
        got = node.consent.GetAuthorization(pb.GetAuthorizationRequest(name=name)).authorization
        assert got.state == pb.AUTHORIZATION_STATE_REVOKED
        events = node.consent.ListAuthorizationEvents(pb.ListAuthorizationEventsRequest(authorization=name)).events
        assert events[-1].event_type == pb.EVENT_TYPE_REVOKED_REQUESTER_REMOVED
        # Automatic revocation goes through the same barrier: once recorded, the replica has it.
        replica.wait_revision(events[-1].revision)
        assert not replica.decide(node.bank, node.alice.name, "PRE_LOAN", ("TAX_PAYMENT",)).allowed
    finally:
        replica.close()


def _publish(node: Node, edit: Callable[[list[dict[str, Any]]], None]) -> None:
    """Publish the registry's next sharing list version: the current one with ``edit`` applied to its items."""
    lists = sl_grpc.SharingListServiceStub(node.registry.channel)
    content = yaml.safe_load(lists.GetSharingList(sl_pb.GetSharingListRequest(include_yaml=True)).yaml_text)
    content["version"] += 1
    edit(content["items"])
    lists.PublishSharingList(
        sl_pb.PublishSharingListRequest(yaml_text=yaml.safe_dump(content, allow_unicode=True), change=change())
    )


def test_a_sharing_list_version_published_after_start_up_decides_what_may_be_granted(node: Node) -> None:
    new = "TAX_PAYMENT_QUARTERLY"
    # Consent has read the list the registry started with: the new item is unknown, SI_ARREARS may be authorized.
    assert reason(lambda: node.consent.GrantAuthorization(node.alice.grant(node.bank, items=(new,)))) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_UNKNOWN_DATA_ITEM",
    )
    node.consent.GrantAuthorization(node.alice.grant(node.bank, items=("SI_ARREARS",)))

    def edit(items: list[dict[str, Any]]) -> None:
        quarterly = dict(next(i for i in items if i["code"] == "TAX_PAYMENT"), code=new, name="纳税情况信息（按季）")
        items.append(quarterly)
        next(i for i in items if i["code"] == "SI_ARREARS")["openness"] = "COMMERCIAL_SECRET"

    _publish(node, edit)
    # Consent refreshes the list every 0.2 s: the new item becomes grantable, and nothing else may refuse it meanwhile.
    deadline = time.monotonic() + 30
    while True:
        try:
            granted = node.consent.GrantAuthorization(node.alice.grant(node.bank, items=(new,)))
            break
        except grpc.RpcError as exc:
            info = error_info(exc)
            assert info is not None
            assert info.reason == "ERROR_REASON_UNKNOWN_DATA_ITEM", info.reason
            assert time.monotonic() < deadline, "the published version never reached consent"
            time.sleep(0.1)
    assert list(granted.authorization.items) == [new]
    # The same version made SI_ARREARS a commercial secret: never authorized, named or through its category.
    assert reason(lambda: node.consent.GrantAuthorization(node.bob.grant(node.bank, items=("SI_ARREARS",)))) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "ERROR_REASON_COMMERCIAL_SECRET",
    )
    by_category = node.consent.GrantAuthorization(node.bob.grant(node.bank, items=(), categories=("SOCIAL_INSURANCE",)))
    assert list(by_category.authorization.covered_items) == ["SI_HEADCOUNT"]
