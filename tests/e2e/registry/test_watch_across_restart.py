"""A watcher survives a registry restart: it resumes from its last revision and misses nothing, repeats nothing."""

from __future__ import annotations

import json
from pathlib import Path

import grpc

from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from tests.processes import start_service
from tests.registry_helpers import RegistryClient


def _drain(client: RegistryClient, start: int, want: set[str], timeout: float = 20) -> tuple[int, list[str]]:
    """Follow the watch from ``start`` until every name in ``want`` was seen; return (revision, names seen)."""
    seen: list[str] = []
    revision = start
    stream = client.registry.WatchParticipants(
        rs_pb.WatchParticipantsRequest(start_revision=start, kinds=[rs_pb.PARTICIPANT_KIND_PLATFORM]), timeout=timeout
    )
    for response in stream:
        revision = response.revision
        seen += [e.participant.platform.name for e in response.events]
        if want <= set(seen):
            stream.cancel()
            break
    return revision, seen


def test_watch_resumes_after_the_registry_is_killed_and_restarted(port: int, tmp_path: Path, database_url: str) -> None:
    env = {"DATABASE_URL": database_url, "VAR_DIR": str(tmp_path), "CA_AUTOCREATE": "true"}
    registry = start_service("registry", port, tmp_path, env)
    try:
        registry.wait_serving()
        with grpc.insecure_channel(registry.address) as ch:
            client = RegistryClient(ch)
            client.admitted_platform("xian")
            revision, first = _drain(client, 0, {"platforms/xian"})
            assert first == ["platforms/xian"]
        registry.kill()  # SIGKILL: no goodbye

        registry = start_service("registry", port, tmp_path, env)
        registry.wait_serving()
        with grpc.insecure_channel(registry.address) as ch:
            client = RegistryClient(ch)
            client.admitted_platform("baoji")
            later, seen = _drain(client, revision, {"platforms/baoji"})
            assert later > revision
            assert set(seen) == {"platforms/baoji"}  # nothing before the revision again, nothing lost after it
        assert registry.terminate(timeout=10) == 0, registry.log()  # a hang past 10 s raises, with the stacks
        events = [json.loads(line)["event"] for line in registry.log().splitlines() if line.startswith("{")]
        # Stopped cleanly: "stopping", then what was in flight (its rpc lines), then "stopped" last.
        assert "stopping" in events
        assert events[-1] == "stopped"
    finally:
        registry.kill()
