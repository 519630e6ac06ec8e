"""The publicity period (公示期) through real registry, consent and gateway processes: a penalty whose period is over
leaves in no platform's report, one still within it does, and the enterprise itself still sees both."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from creditnode.registry.v1 import records_pb2 as rec_pb
from creditnode.registry.v1 import records_pb2_grpc as rec_grpc
from tests.consent_support.signing import ts
from tests.e2e.gateway.test_gateway_e2e import _self_query, report
from tests.gateway_support import Node, running_node
from tests.integration.registry.records_support import wire_value


@pytest.fixture
def node(tmp_path: Path, database_url: str) -> Iterator[Node]:
    with running_node(tmp_path, database_url, full=False) as n:
        yield n


def _penalty(node: Node, source: str, decided: datetime) -> str:
    fields = {
        "decision_number": f"陕市监罚〔{decided.year}〕{source}号",
        "decided_on": decided.date(),
        "penalty_type": "罚款",
        "amount_yuan": Decimal("5000.00"),
        "authority": "西安市市场监督管理局",
    }
    resp = rec_grpc.RecordIngestionServiceStub(node.registry.channel).IngestBatch(
        rec_pb.IngestBatchRequest(
            records=[
                rec_pb.IngestRecord(
                    sequence=1,
                    item_code="AMR_PENALTY",
                    source_record_id=source,
                    source_version=1,
                    uscc=node.enterprise.uscc,
                    event_time=ts(decided),
                    fields={k: wire_value(v) for k, v in fields.items()},
                )
            ]
        ),
        metadata=(("x-creditnode-department", "sx-amr"),),
    )
    assert resp.results[0].outcome == rec_pb.RECORD_OUTCOME_ACCEPTED, resp.results[0]
    return resp.results[0].record


def test_a_penalty_past_its_publicity_period_is_not_in_a_report_and_a_current_one_is(node: Node) -> None:
    now = datetime.now(UTC)
    # AMR_PENALTY is published 36 months: one decided 37 months ago is over, one decided a month ago is not.
    ended = _penalty(node, "p-old", now - timedelta(days=37 * 31))
    shown = _penalty(node, "p-new", now - timedelta(days=30))

    # Asked twice: the second answer comes from the gateway's record cache, which must not hold the old one either.
    for _ in range(2):
        resp = report(node, items=["AMR_PENALTY"])
        assert [r.record.name for r in resp.records] == [shown]
        assert resp.records[0].record.publicity_end_time.ToDatetime(UTC) > now

    # The enterprise's own self-query still shows what the node keeps.
    mine = node.callers["xian"].stub.SelfQuery(_self_query(node, items=("AMR_PENALTY",)), timeout=10)
    assert {r.record.name for r in mine.records} == {ended, shown}
