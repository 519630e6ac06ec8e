"""A whole node as real processes that can be SIGKILLed and restarted on the same port with the same settings."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from creditnode.gateway.v1 import gateway_service_pb2_grpc as gw_grpc
from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from tests.conftest import free_port
from tests.consent_support.signing import Enterprise
from tests.gateway_support import Caller, Pki, admitted, create_departments, gateway_channel, seed_records
from tests.processes import ServiceProcess, start_service
from tests.registry_helpers import RegistryClient, change, random_uscc

CONSENT_ENV = {"WATCH_HEARTBEAT_SECONDS": "0.05", "WATCH_LEASE_SECONDS": "0.6", "WATCH_LEASE_MARGIN_SECONDS": "0.2"}
NO_QUOTA = {"QUOTA_REQUESTS_PER_MINUTE": "0", "QUOTA_ENTERPRISES_PER_DAY": "0"}


@dataclass
class Service:
    """One service process with what it takes to start it again identically."""

    name: str
    module: str
    port: int
    env: dict[str, str]
    tmp: Path
    health: str = ""  # the address to probe (the gateway's plain health listener)
    proc: ServiceProcess | None = None

    def start(self) -> None:
        self.proc = start_service(self.module, self.port, self.tmp, self.env)

    def wait(self, timeout: float = 90.0) -> None:
        assert self.proc is not None
        probe = ServiceProcess(self.name, self.health or self.proc.address, self.proc.proc, self.proc.log_path)
        probe.wait_serving(timeout)

    def sigkill(self) -> None:
        assert self.proc is not None
        if self.proc.proc.poll() is None:
            os.kill(self.proc.proc.pid, signal.SIGKILL)
        self.proc.proc.wait(10)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.proc.poll() is None


@dataclass
class Cluster:
    """registry, consent, scoring, objection and gateway replicas; platforms, institutions and enterprises."""

    tmp: Path
    make_db: Callable[[str], str]
    gateway_env: dict[str, str] = field(default_factory=dict)
    services: dict[str, Service] = field(default_factory=dict)
    channels: list[grpc.Channel] = field(default_factory=list)
    callers: dict[str, Caller] = field(default_factory=dict)
    certs: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)
    enterprises: list[Enterprise] = field(default_factory=list)
    pki: Pki | None = None
    registry: RegistryClient | None = None

    def _service(self, name: str, env: dict[str, str], health: bool = False, module: str = "") -> Service:
        svc = Service(name, module or name, free_port(), env, self.tmp)
        if health:
            hp = free_port()
            svc.env["HEALTH_LISTEN_ADDR"] = svc.health = f"127.0.0.1:{hp}"
        self.services[name] = svc
        svc.start()
        return svc

    def start(self) -> Cluster:
        t = self.tmp
        reg_dir = t / "registry"
        env = {"DATABASE_URL": self.make_db("registry"), "VAR_DIR": str(reg_dir), "CA_AUTOCREATE": "true"}
        registry = self._service("registry", env)
        registry.wait()
        consent = self._service(
            "consent", {"DATABASE_URL": self.make_db("consent"), "REGISTRY_ADDR": registry.address, **CONSENT_ENV}
        )
        internal = f"127.0.0.1:{free_port()}"
        scoring = self._service(
            "scoring",
            {
                "DATABASE_URL": self.make_db("scoring"),
                "REGISTRY_ADDR": registry.address,
                "CONSENT_ADDR": consent.address,
            },
        )
        objection = self._service(
            "objection",
            {
                "DATABASE_URL": self.make_db("objection"),
                "VAR_DIR": str(t / "objection-var"),
                "REGISTRY_ADDR": registry.address,
                "SCORING_ADDR": scoring.address,
                "GATEWAY_ADDR": internal,
                "DISPATCH_INTERVAL_SECONDS": "0.2",
            },
        )
        for svc in (consent, scoring, objection):
            svc.wait()
        rch = grpc.insecure_channel(registry.address)
        self.channels.append(rch)
        self.registry = RegistryClient(rch)
        self.pki = Pki.load(reg_dir / "registry-ca", t / "pki")
        server_cert, server_key = self.pki.issue(server=True)
        self.base_gateway_env = {
            "REGISTRY_ADDR": registry.address,
            "CONSENT_ADDR": consent.address,
            "SCORING_ADDR": scoring.address,
            "OBJECTION_ADDR": objection.address,
            "VAR_DIR": str(t / "gateway-var"),
            "TLS_CERT_FILE": str(self.pki.write("server.crt", server_cert)),
            "TLS_KEY_FILE": str(self.pki.write("server.key", server_key)),
            "TLS_CLIENT_CA_FILE": str(self.pki.write("ca.crt", self.pki.ca_pem)),
            **NO_QUOTA,
            **self.gateway_env,
        }
        self._participants()
        self.add_gateway("gateway", internal)
        for name, (cert, key) in self.certs.items():
            self.callers[name] = self.connect(cert, key)
        return self

    def _participants(self) -> None:
        client = self.registry
        assert client is not None
        create_departments(client)
        for pid, kind, proxy in (
            ("xian", pb.PLATFORM_KIND_CITY, ""),
            ("qinxinrong", pb.PLATFORM_KIND_AGGREGATOR, ""),
            ("county", pb.PLATFORM_KIND_COUNTY, "platforms/qinxinrong"),
            ("baoji", pb.PLATFORM_KIND_CITY, ""),
        ):
            _, cert, key = admitted(client, pid, kind=kind, proxy=proxy)
            if cert:
                self.certs[pid] = (cert, key)
        self.institution("boc-xian", "xian")
        self.institution("icbc-baoji", "baoji")
        self.add_enterprise()

    def institution(self, iid: str, platform: str) -> None:
        assert self.registry is not None
        self.registry.admin.CreateInstitution(
            admin_pb.CreateInstitutionRequest(
                institution_id=iid,
                display_name=f"{iid} 银行",
                licence_number=f"B0003H2610100{len(iid):02d}",
                type=pb.INSTITUTION_TYPE_BANK,
                platform=f"platforms/{platform}",
                change=change(),
            )
        )

    def add_enterprise(self, platform: str = "xian") -> Enterprise:
        assert self.registry is not None
        ent = Enterprise(random_uscc())
        self.registry.registry.RegisterEnterprise(
            rs_pb.RegisterEnterpriseRequest(
                platform=f"platforms/{platform}",
                uscc=ent.uscc,
                display_name="陕西测试科技有限公司",
                public_key=ent.public_key,
            )
        )
        seed_records(self.registry.channel, ent.uscc)
        self.enterprises.append(ent)
        return ent

    def add_gateway(self, label: str, internal: str = "") -> Service:
        env = {
            **self.base_gateway_env,
            "DATABASE_URL": self.make_db(label),
            "REPLICA_ID": label,
            "INTERNAL_LISTEN_ADDR": internal or f"127.0.0.1:{free_port()}",
        }
        svc = self._service(label, env, health=True, module="gateway")
        svc.wait()
        return svc

    @property
    def gateway(self) -> Service:
        return self.services["gateway"]

    def internal(self, label: str = "gateway") -> str:
        return self.services[label].env["INTERNAL_LISTEN_ADDR"]

    def connect(self, cert: bytes | None, key: bytes | None, label: str = "gateway") -> Caller:
        assert self.pki is not None
        ch = gateway_channel(self.services[label].address, self.pki.ca_pem, cert, key)
        self.channels.append(ch)
        return Caller("", cert or b"", key or b"", gw_grpc.GatewayServiceStub(ch), ch)

    def restart(self, label: str) -> None:
        svc = self.services[label]
        svc.start()
        svc.wait()

    def rss_kb(self) -> dict[str, int]:
        """VmRSS of every live service process, from /proc/<pid>/status."""
        out: dict[str, int] = {}
        for label, svc in self.services.items():
            if not svc.alive():
                continue
            for line in Path(f"/proc/{svc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out[label] = int(line.split()[1])
        return out

    def close(self) -> None:
        for ch in self.channels:
            ch.close()
        for svc in reversed(list(self.services.values())):
            if svc.proc is not None:
                with contextlib.suppress(Exception):
                    svc.proc.terminate(10)
                svc.proc.kill()


@contextlib.contextmanager
def cluster(tmp: Path, make_db: Callable[[str], str], **gateway_env: str) -> Iterator[Cluster]:
    c = Cluster(tmp, make_db, dict(gateway_env))
    try:
        yield c.start()
    finally:
        c.close()
