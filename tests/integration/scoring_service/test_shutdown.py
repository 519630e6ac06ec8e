"""The scoring composition root's shutdown order: watchers stopped and joined, then channels closed, then the engine."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from services.kit import runtime as kit_runtime
from services.scoring import main
from services.scoring.clients import registry as registry_client
from tests.conftest import fresh_database
from tests.integration.scoring_service.servers import Fakes, scoring_settings, start_fakes


@pytest.fixture
def fakes() -> Iterator[Fakes]:
    f = start_fakes()
    yield f
    f.stop()


class _Recorded:
    """What the shutdown did, in order, with whether any watcher thread was still running at each step."""

    def __init__(self) -> None:
        self.steps: list[tuple[str, bool]] = []
        self.watchers: list[Any] = []

    def step(self, name: str) -> None:
        self.steps.append((name, any(w._thread.is_alive() for w in self.watchers)))


class _Channel(grpc.Channel):
    """A real channel whose close is recorded (stubs use the rest through it unchanged)."""

    def __init__(self, inner: grpc.Channel, recorded: _Recorded) -> None:
        self._inner, self._recorded = inner, recorded

    def subscribe(self, callback: Any, try_to_connect: bool = False) -> None:
        self._inner.subscribe(callback, try_to_connect)

    def unsubscribe(self, callback: Any) -> None:
        self._inner.unsubscribe(callback)

    def unary_unary(self, *args: Any, **kwargs: Any) -> Any:
        return self._inner.unary_unary(*args, **kwargs)

    def unary_stream(self, *args: Any, **kwargs: Any) -> Any:
        return self._inner.unary_stream(*args, **kwargs)

    def stream_unary(self, *args: Any, **kwargs: Any) -> Any:
        return self._inner.stream_unary(*args, **kwargs)

    def stream_stream(self, *args: Any, **kwargs: Any) -> Any:
        return self._inner.stream_stream(*args, **kwargs)

    def close(self) -> None:
        self._recorded.step("close_channel")
        self._inner.close()


def _recording(cls: type, recorded: _Recorded) -> type:
    class Recording(cls):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            recorded.watchers.append(self)

        def close(self) -> None:
            recorded.step(f"stop_{self.name}")
            super().close()

        def join(self, timeout: float = 5.0) -> Any:
            result = super().join(timeout)
            recorded.step(f"join_{self.name}")
            return result

    return Recording


def test_watchers_are_joined_before_their_channels_close_and_the_engine_goes_last(
    registry_server: str, fakes: Fakes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = _Recorded()
    make_channel = main.make_channel
    monkeypatch.setattr(main, "make_channel", lambda *a, **kw: _Channel(make_channel(*a, **kw), recorded))
    monkeypatch.setattr(main, "ParticipantWatcher", _recording(registry_client.ParticipantWatcher, recorded))
    monkeypatch.setattr(main, "RecordChangeWatcher", _recording(registry_client.RecordChangeWatcher, recorded))

    def start_runtime(*args: Any, **kwargs: Any) -> kit_runtime.Runtime:
        runtime = kit_runtime.start_runtime(*args, **kwargs)
        dispose = runtime.engine.dispose

        def recorded_dispose(*a: Any, **kw: Any) -> None:
            recorded.step("dispose_engine")
            dispose(*a, **kw)

        monkeypatch.setattr(runtime.engine, "dispose", recorded_dispose)
        return runtime

    monkeypatch.setattr(main, "start_runtime", start_runtime)
    db = fresh_database(tmp_path, "scoring")
    server = main.build(scoring_settings(next(db), tmp_path, registry_server, fakes), configure_logs=False)
    try:
        for watcher in recorded.watchers:
            watcher.connected.wait()  # both streams open and blocked on the next message: the case to shut down
        server.stop(0)
    finally:
        server.stop(0)  # a second stop is a no-op; here only so a failure above leaves nothing running
        for _ in db:
            pass

    names = [name for name, _ in recorded.steps]
    assert sorted(n for n in names if n.startswith("join_")) == ["join_participants", "join_records"]
    last_join = max(i for i, n in enumerate(names) if n.startswith("join_"))
    first_close = names.index("close_channel")
    assert last_join < first_close, names  # every consumer joined before any channel closes
    assert names.count("close_channel") == 3  # registry, records and consent, each once
    assert names[-1] == "dispose_engine"
    # nothing still running when channels close or the engine goes
    assert not any(alive for name, alive in recorded.steps if name in ("close_channel", "dispose_engine")), (
        recorded.steps
    )
