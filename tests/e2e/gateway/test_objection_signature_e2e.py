"""An objection filed as an enterprise, through the real gateway and objection service: accepted only as the enterprise
signed it (unsigned, another enterprise's key, or a field altered after signing is refused and recorded as a denial);
an institution still files unsigned."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from creditnode.gateway.v1 import gateway_service_pb2 as gw
from creditnode.objection.v1 import objection_service_pb2 as ob
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from services.gateway.client_lib import ObjectionSigner, PlatformClient, SelfQuerySigner
from services.kit.status import error_info
from tests.consent_support.signing import Enterprise, ts
from tests.gateway_support import Node, denial_leaf, running_node, signed_objection
from tests.registry_helpers import random_uscc

BANK = "institutions/boc-xian"


@pytest.fixture
def node(tmp_path: Path, database_url: str) -> Iterator[Node]:
    with running_node(tmp_path, database_url) as n:
        yield n


def refused(call: Callable[[], object], database_url: str) -> tuple[grpc.StatusCode, str, dict[str, object]]:
    """The refusal's code and reason, and the disclosure-log leaf its ErrorInfo names as its receipt."""
    with pytest.raises(grpc.RpcError) as err:
        call()
    info = error_info(err.value)
    assert info is not None
    return err.value.code(), info.reason, denial_leaf(database_url, err.value)


def test_an_enterprise_objection_is_filed_only_as_the_enterprise_signed_it(node: Node, database_url: str) -> None:
    e = node.enterprise
    xian = node.callers["xian"]
    stub = xian.stub
    client = PlatformClient.connect(node.gateway.address, node.pki.ca_pem, xian.cert, xian.key, server_name="localhost")
    try:
        # The enterprise's own records (raw, as its self-query sees them): the targets it objects to.
        mine = {
            r.record.item_code: r.record
            for r in client.self_query(SelfQuerySigner(e.name, e.key_id, e.key).sign()).records
        }
        tax = mine["TAX_PAYMENT"]
        objection = ob.FileObjectionRequest(
            platform="platforms/forged",
            filer_kind=ob.FILER_KIND_ENTERPRISE,
            filer=e.name,
            enterprise=e.uscc,
            records=[ob.RecordTarget(record=tax.name, version=tax.version)],
            reasons="we paid this tax in full,\nsee receipt = attached",
            attachment_sha256=[secrets.token_hex(32)],
            statement="paid on 2026-10-01",
            request_id=secrets.token_hex(8),
        )
        objection.receive_time.CopyFrom(ts(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)))

        # Unsigned: refused as a self-query without its signature is, and recorded.
        code, reason, leaf = refused(
            lambda: stub.FileObjection(gw.FileObjectionRequest(objection=objection), timeout=10), database_url
        )
        assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD")
        assert (leaf["type"], leaf["decision"], leaf["caller"], leaf["enterprise"]) == (
            "FileObjection",
            "DENY",
            "platforms/xian",
            e.name,
        )

        # A signature without its time is malformed before the use case starts, as a self-query's: recorded too.
        timeless = signed_objection(e, objection)
        timeless.signature.ClearField("signed_at")
        code, reason, leaf = refused(lambda: stub.FileObjection(timeless, timeout=10), database_url)
        assert (code, reason) == (grpc.StatusCode.INVALID_ARGUMENT, "ERROR_REASON_INVALID_FIELD")
        assert (leaf["type"], leaf["decision"], leaf["enterprise"]) == ("FileObjection", "DENY", e.name)

        # Signed by another registered enterprise's key (its key id or the filer's): refused as a forged self-query.
        other = Enterprise(random_uscc())
        node.registry.registry.RegisterEnterprise(
            rs_pb.RegisterEnterpriseRequest(
                platform="platforms/xian",
                uscc=other.uscc,
                display_name="陕西另一科技有限公司",
                public_key=other.public_key,
            )
        )
        for forged in (signed_objection(other, objection), signed_objection(other, objection, key_id=e.key_id)):
            code, reason, leaf = refused(lambda r=forged: stub.FileObjection(r, timeout=10), database_url)  # type: ignore[misc]
            assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "ERROR_REASON_SIGNATURE_INVALID")
            assert (leaf["type"], leaf["decision"], leaf["enterprise"]) == ("FileObjection", "DENY", e.name)

        # Signed by the enterprise, then altered by the relaying platform: refused.
        for alter in (
            lambda o: setattr(o, "reasons", "the platform's own reasons"),
            lambda o: setattr(o, "statement", ""),
            lambda o: o.records[0].__setattr__("version", tax.version + 1),
            lambda o: o.attachment_sha256.append(secrets.token_hex(32)),
            lambda o: o.receive_time.__setattr__("seconds", o.receive_time.seconds - 86_400),
        ):
            altered = signed_objection(e, objection)
            alter(altered.objection)
            code, reason, _ = refused(lambda r=altered: stub.FileObjection(r, timeout=10), database_url)  # type: ignore[misc]
            assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "ERROR_REASON_SIGNATURE_INVALID")

        # Signed as the proto describes: filed as the caller's platform, with the enterprise's statement.
        request = signed_objection(e, objection)
        filed = stub.FileObjection(request, timeout=10).result.objection
        assert (filed.platform, filed.filer_kind, filed.filer) == ("platforms/xian", ob.FILER_KIND_ENTERPRISE, e.name)
        assert [line.statement for line in filed.lines] == ["paid on 2026-10-01"]
        # The same signed request again is a replay: refused, whatever the objection service would answer a retry.
        code, reason, _ = refused(lambda: stub.FileObjection(request, timeout=10), database_url)
        assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "ERROR_REASON_NONCE_REUSED")
        # A retry signed again (new nonce, same request id) returns the first result.
        again = stub.FileObjection(signed_objection(e, objection), timeout=10).result.objection
        assert again.name == filed.name

        # Through the platform client library: the enterprise's signer fills in and signs the rest.
        invoice = mine["TAX_INVOICE"]
        by_library = client.file_objection(
            ObjectionSigner(e.name, e.key_id, e.key).sign(
                ob.FileObjectionRequest(
                    records=[ob.RecordTarget(record=invoice.name, version=invoice.version)],
                    reasons="this invoice is not ours",
                )
            )
        )
        assert (by_library.platform, by_library.filer, by_library.enterprise) == ("platforms/xian", e.name, e.uscc)
        assert client.get_objection(by_library.name).name == by_library.name

        # An institution that received a record still objects to it unsigned, as before.
        report = stub.GetCreditReport(
            gw.GetCreditReportRequest(
                enterprise=e.name,
                purpose="PRE_LOAN",
                item_codes=["REG_BASIC"],
                institution=BANK,
                request_id=secrets.token_hex(8),
            ),
            timeout=10,
        )
        (received,) = [r.record for r in report.records]
        by_bank = ob.FileObjectionRequest(
            filer_kind=ob.FILER_KIND_INSTITUTION,
            filer=BANK,
            enterprise=e.uscc,
            records=[ob.RecordTarget(record=received.name, version=received.version)],
            reasons="the registered capital differs from the loan file",
            request_id=secrets.token_hex(8),
        )
        by_bank.receive_time.CopyFrom(ts(datetime.now(UTC) - timedelta(minutes=5)))
        bank_filed = stub.FileObjection(gw.FileObjectionRequest(objection=by_bank), timeout=10).result.objection
        assert (bank_filed.platform, bank_filed.filer_kind, bank_filed.filer) == (
            "platforms/xian",
            ob.FILER_KIND_INSTITUTION,
            BANK,
        )
    finally:
        client.close()
