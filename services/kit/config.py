"""Typed settings from environment variables, validated at start-up with messages that name the variable."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[2]


class SettingsError(SystemExit):
    """Raised at start-up when the environment is missing or has a wrong setting; exits with status 2."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ServiceSettings(BaseSettings):
    """Settings every service shares. Each service subclasses it to add its own (e.g. downstream ``*_ADDR``)."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, frozen=True)

    # listen_addr is host:port the gRPC server binds to.
    listen_addr: str = Field(default="127.0.0.1:0", pattern=r"^[^\s:]+:\d{1,5}$")
    # database_url is a SQLAlchemy URL; empty means the embedded SQLite file var/<service>.db.
    database_url: str = ""
    # var_dir is where embedded databases and keys live by default.
    var_dir: Path = REPO_ROOT / "var"
    # log_level is the minimum level that reaches stdout.
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    # shutdown_grace_seconds is how long in-flight calls get after SIGTERM; handlers still running then get at most
    # kit.server.STOP_MARGIN_SECONDS more to return before the stop hooks run.
    shutdown_grace_seconds: float = Field(default=5.0, gt=0, le=120)
    # shutdown_drain_seconds is how long health says NOT_SERVING before the server stops accepting calls.
    shutdown_drain_seconds: float = Field(default=0.0, ge=0, le=60)
    # reflection enables gRPC server reflection (internal listeners and the dev gateway).
    reflection: bool = True
    # max_workers bounds the server's thread pool.
    max_workers: int = Field(default=32, ge=2, le=1024)
    # metrics_port serves Prometheus metrics on /metrics when non-zero.
    metrics_port: int = Field(default=0, ge=0, le=65535)
    # otel_exporter_otlp_endpoint turns trace export on when set (standard OpenTelemetry variable).
    otel_exporter_otlp_endpoint: str = ""
    # sqlite_synchronous is SQLite's durability level; FULL makes each commit survive power loss.
    sqlite_synchronous: str = Field(default="FULL", pattern=r"^(FULL|NORMAL|EXTRA)$")

    @field_validator("listen_addr")
    @classmethod
    def _port_exists(cls, value: str) -> str:
        # the pattern lets five digits through; the server would fail to bind much later, naming no variable
        if int(value.rsplit(":", 1)[1]) > 65535:
            raise ValueError("the port must be at most 65535")
        return value

    def check_serving(self) -> None:
        """Raise SettingsError if a setting needed only to serve (not to migrate) is missing; none by default."""

    def resolved_database_url(self, service: str) -> str:
        if self.database_url:
            return self.database_url
        self.var_dir.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{self.var_dir / f'{service}.db'}"


S = TypeVar("S", bound=BaseSettings)


def load_settings(cls: type[S]) -> S:
    """Build settings from the environment, or stop with a message naming each bad variable."""
    try:
        return cls()
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"])
            problems.append(f"{field.upper()}: {err['msg']}")
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
