"""Helpers for gateway tests: a PKI around the registry's CA, mTLS channels, and a whole node as real processes."""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import itertools
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import text

from creditnode.gateway.v1 import gateway_service_pb2 as gw
from creditnode.gateway.v1 import gateway_service_pb2_grpc as gw_grpc
from creditnode.objection.v1 import objection_service_pb2 as ob
from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import records_pb2 as rec_pb
from creditnode.registry.v1 import records_pb2_grpc as rec_grpc
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from creditnode.registry.v1 import sharing_list_pb2 as sl_pb
from services.kit.db import make_engine
from services.kit.status import error_info
from services.registry.domain.sharing_list import DEFAULT_SHARING_LIST_PATH
from tests.conftest import free_port, fresh_database
from tests.consent_support.signing import Enterprise, now_s, rfc3339
from tests.processes import ServiceProcess, start_service
from tests.registry_helpers import RegistryClient, change, csr_pem, random_uscc, ts

_ids = itertools.count(1)


def signed_objection(
    signer: Enterprise, objection: ob.FileObjectionRequest, *, nonce: str = "", key_id: str = ""
) -> gw.FileObjectionRequest:
    """The gateway's FileObjectionRequest for an enterprise's objection, signed by ``signer`` over the lines the
    gateway proto describes (written from that text, not from the gateway's code: if the two disagree, signatures stop
    verifying). The objection is copied with its receive_time kept to whole seconds, as signed."""
    o = ob.FileObjectionRequest()
    o.CopyFrom(objection)
    o.receive_time.nanos = 0
    nonce, key_id, signed_at = nonce or secrets.token_hex(16), key_id or signer.key_id, now_s()

    def sha(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    lines = [
        "creditnode.gateway.v1.FileObjection",
        f"enterprise={o.enterprise}",
        f"filer={o.filer}",
        "records=" + ",".join(sorted(f"{r.record}@{r.version}" for r in o.records)),
        f"evaluation={o.evaluation}",
        f"reasons_sha256={sha(o.reasons)}",
        "attachment_sha256=" + ",".join(sorted(o.attachment_sha256)),
        f"statement_sha256={sha(o.statement)}",
        "receive_time=" + (rfc3339(o.receive_time.ToDatetime(UTC)) if o.HasField("receive_time") else ""),
        f"request_id={o.request_id}",
        f"key_id={key_id}",
        f"nonce={nonce}",
        f"signed_at={rfc3339(signed_at)}",
    ]
    signature = gw.EnterpriseSignature(
        key_id=key_id, nonce=nonce, signed_at=ts(signed_at), signature=signer.key.sign("\n".join(lines).encode())
    )
    return gw.FileObjectionRequest(objection=o, signature=signature)


ID_NUMBER = "610103199001011234"
PHONE = "13912345678"
PERSON = "欧阳娜娜"


@dataclass
class Pki:
    """The registry's CA (read from its files) plus helpers to mint certificates the tests need."""

    ca_cert: x509.Certificate
    ca_key: Any
    ca_pem: bytes
    dir: Path

    @classmethod
    def load(cls, ca_dir: Path, out: Path) -> Pki:
        pem = (ca_dir / "ca.crt").read_bytes()
        key = serialization.load_pem_private_key((ca_dir / "ca.key").read_bytes(), password=None)
        out.mkdir(parents=True, exist_ok=True)
        return cls(x509.load_pem_x509_certificate(pem), key, pem, out)

    def issue(
        self, *, uri: str | None = None, server: bool = False, issuer_key: Any = None, issuer: Any = None
    ) -> tuple[bytes, bytes]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        sans: list[x509.GeneralName] = []
        if uri:
            sans.append(x509.UniformResourceIdentifier(uri))
        if server:
            sans += [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "gateway-test")]))
            .issuer_name((issuer or self.ca_cert).subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        cert = builder.sign(issuer_key or self.ca_key, hashes.SHA256())
        return cert.public_bytes(serialization.Encoding.PEM), key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    def ca_key_pem(self) -> bytes:
        return bytes(
            self.ca_key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )

    def write(self, name: str, data: bytes) -> Path:
        path = self.dir / name
        path.write_bytes(data)
        return path


def other_ca() -> tuple[x509.Certificate, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not the node CA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def gateway_channel(address: str, ca_pem: bytes, cert: bytes | None, key: bytes | None) -> grpc.Channel:
    creds = grpc.ssl_channel_credentials(root_certificates=ca_pem, private_key=key, certificate_chain=cert)
    return grpc.secure_channel(address, creds, options=[("grpc.ssl_target_name_override", "localhost")])


@dataclass
class Caller:
    """A platform holding a certificate, with its gateway stub."""

    name: str
    cert: bytes
    key: bytes
    stub: gw_grpc.GatewayServiceStub
    channel: grpc.Channel


def report_code(caller: Caller, enterprise: str) -> grpc.StatusCode:
    """The status of one public-item report by ``caller`` (its channel is closed after): how a TLS check is seen."""
    try:
        caller.stub.GetCreditReport(
            gw.GetCreditReportRequest(enterprise=enterprise, purpose="PRE_LOAN", item_codes=["REG_BASIC"]),
            timeout=10,
        )
        return grpc.StatusCode.OK
    except grpc.RpcError as exc:
        return exc.code()
    finally:
        caller.channel.close()


def create_departments(client: RegistryClient) -> None:
    listed = yaml.safe_load(DEFAULT_SHARING_LIST_PATH.read_text(encoding="utf-8"))["departments"]
    for d in listed:
        kind = pb.DEPARTMENT_KIND_UTILITY if d["kind"] == "UTILITY" else pb.DEPARTMENT_KIND_GOVERNMENT
        client.admin.CreateDepartment(
            admin_pb.CreateDepartmentRequest(code=d["code"], display_name=d["name"], kind=kind, change=change())
        )


def _value(v: object) -> rec_pb.FieldValue:
    if isinstance(v, bool):
        return rec_pb.FieldValue(bool_value=v)
    if isinstance(v, int):
        return rec_pb.FieldValue(int_value=v)
    if isinstance(v, Decimal):
        return rec_pb.FieldValue(decimal_value=format(v, "f"))
    if isinstance(v, date):
        return rec_pb.FieldValue(date_value=sl_pb.CalendarDate(year=v.year, month=v.month, day=v.day))
    return rec_pb.FieldValue(string_value=str(v))


def seed_records(channel: grpc.Channel, uscc: str) -> None:
    """One record of each data class: public with personal data, non-public, opt-in, commercial secret."""
    now = datetime.now(UTC)
    month = (now.replace(day=1) - timedelta(days=1)).replace(day=15, hour=4)
    rows = [
        (
            "sx-amr",
            "REG_BASIC",
            now - timedelta(hours=1),
            {
                "enterprise_name": "陕西测试科技有限公司",
                "established_on": date(2015, 3, 1),
                "registered_capital_yuan": Decimal("1000000.00"),
                "industry_code": "I6510",
                "enterprise_type": "有限责任公司",
                "status": "ACTIVE",
                "region_code": "610103",
                "legal_representative": PERSON,
                "legal_rep_id_number": ID_NUMBER,
                "contact_phone": PHONE,
            },
        ),
        ("sx-tax", "TAX_PAYMENT", month, {"period": month.strftime("%Y-%m"), "tax_paid_yuan": Decimal("1234.56")}),
        (
            "sx-tax",
            "TAX_INVOICE",
            month,
            {
                "period": month.strftime("%Y-%m"),
                "invoices_issued_count": 12,
                "sales_amount_yuan": Decimal("99000.00"),
            },
        ),
        (
            "sx-tax",
            "TAX_FINANCIAL_STATEMENT",
            now - timedelta(days=2),
            {
                "year": now.year - 1,
                "revenue_yuan": Decimal("5000000.00"),
                "profit_yuan": Decimal("300000.00"),
                "total_assets_yuan": Decimal("8000000.00"),
                "total_liabilities_yuan": Decimal("2000000.00"),
            },
        ),
    ]
    stub = rec_grpc.RecordIngestionServiceStub(channel)
    for dept, item, at, fields in rows:
        resp = stub.IngestBatch(
            rec_pb.IngestBatchRequest(
                records=[
                    rec_pb.IngestRecord(
                        sequence=1,
                        item_code=item,
                        source_record_id=f"{item.lower()}-{next(_ids)}",
                        source_version=1,
                        uscc=uscc,
                        event_time=ts(at),
                        fields={k: _value(v) for k, v in fields.items()},
                    )
                ]
            ),
            metadata=(("x-creditnode-department", dept),),
        )
        assert resp.results[0].outcome == rec_pb.RECORD_OUTCOME_ACCEPTED, resp.results[0]


def admitted(client: RegistryClient, platform_id: str, kind: int = pb.PLATFORM_KIND_CITY, proxy: str = "") -> Any:
    """A platform admitted through the registry; returns (platform, certificate PEM, key PEM) (no cert if proxied)."""
    client.admin.CreatePlatform(
        admin_pb.CreatePlatformRequest(
            platform_id=platform_id,
            display_name=f"{platform_id} 平台",
            kind=kind,  # type: ignore[arg-type]
            region_code="610100",
            docking=pb.DOCKING_PROXIED if proxy else pb.DOCKING_DIRECT,
            proxy=proxy,
            change=change(),
        )
    )
    name = f"platforms/{platform_id}"
    client.admin.StartPlatformReview(admin_pb.StartPlatformReviewRequest(name=name, change=change()))
    client.passed_assessments(name)
    csr, key = ("", None) if proxy else csr_pem(platform_id)
    resp = client.admin.AdmitPlatform(admin_pb.AdmitPlatformRequest(name=name, csr_pem=csr, change=change()))
    if key is None:
        return resp.platform, b"", b""
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return resp.platform, resp.credential.certificate_pem.encode(), key_pem


@dataclass
class Node:
    registry: RegistryClient
    registry_address: str
    consent_address: str
    pki: Pki
    tmp: Path
    gateway: ServiceProcess
    gateway_env: dict[str, str]
    enterprise: Enterprise
    callers: dict[str, Caller] = field(default_factory=dict)
    procs: list[ServiceProcess] = field(default_factory=list)

    def connect(self, name: str, cert: bytes | None, key: bytes | None, address: str | None = None) -> Caller:
        ch = gateway_channel(address or self.gateway.address, self.pki.ca_pem, cert, key)
        return Caller(name, cert or b"", key or b"", gw_grpc.GatewayServiceStub(ch), ch)

    def start_gateway(self, label: str, database_url: str, **extra: str) -> ServiceProcess:
        env = {**self.gateway_env, "DATABASE_URL": database_url, "REPLICA_ID": label, **extra}
        health_port = free_port()
        env["HEALTH_LISTEN_ADDR"] = f"127.0.0.1:{health_port}"
        if self.procs and any(p.name == "gateway" for p in self.procs):  # a further replica: its own internal port
            env["INTERNAL_LISTEN_ADDR"] = f"127.0.0.1:{free_port()}"
        proc = start_service("gateway", free_port(), self.tmp, env)
        proc.health_address = f"127.0.0.1:{health_port}"
        self.procs.append(proc)
        proc.wait_serving(60)
        return proc


@contextlib.contextmanager
def running_node(tmp_path: Path, database_url: str, *, full: bool = True, **gateway_env: str) -> Iterator[Node]:
    """registry + consent (+ scoring + objection when ``full``) + gateway as processes; platforms xian (direct),
    qinxinrong (aggregator), county (proxied by qinxinrong), baoji (direct); institution boc-xian of xian."""
    procs: list[ServiceProcess] = []
    channels: list[grpc.Channel] = []
    with contextlib.ExitStack() as stack:
        try:
            registry_db = stack.enter_context(contextlib.contextmanager(fresh_database)(tmp_path, "registry"))
            consent_db = stack.enter_context(contextlib.contextmanager(fresh_database)(tmp_path, "consent"))
            reg_dir = tmp_path / "registry"
            registry = start_service(
                "registry",
                free_port(),
                tmp_path,
                {"DATABASE_URL": registry_db, "VAR_DIR": str(reg_dir), "CA_AUTOCREATE": "true"},
            )
            procs.append(registry)
            registry.wait_serving(60)
            consent = start_service(
                "consent",
                free_port(),
                tmp_path,
                {
                    "DATABASE_URL": consent_db,
                    "REGISTRY_ADDR": registry.address,
                    "WATCH_HEARTBEAT_SECONDS": "0.05",
                    "WATCH_LEASE_SECONDS": "0.6",
                    "WATCH_LEASE_MARGIN_SECONDS": "0.2",
                },
            )
            procs.append(consent)
            consent.wait_serving(60)
            internal = f"127.0.0.1:{free_port()}"
            scoring_addr = objection_addr = "127.0.0.1:9"  # nothing listens: relays answer UNAVAILABLE
            if full:
                scoring_db = stack.enter_context(contextlib.contextmanager(fresh_database)(tmp_path, "scoring"))
                objection_db = stack.enter_context(contextlib.contextmanager(fresh_database)(tmp_path, "objection"))
                scoring = start_service(
                    "scoring",
                    free_port(),
                    tmp_path,
                    {"DATABASE_URL": scoring_db, "REGISTRY_ADDR": registry.address, "CONSENT_ADDR": consent.address},
                )
                procs.append(scoring)
                objection = start_service(
                    "objection",
                    free_port(),
                    tmp_path,
                    {
                        "DATABASE_URL": objection_db,
                        "VAR_DIR": str(tmp_path / "objection-var"),
                        "REGISTRY_ADDR": registry.address,
                        "SCORING_ADDR": scoring.address,
                        "GATEWAY_ADDR": internal,
                        "DISPATCH_INTERVAL_SECONDS": "0.2",
                    },
                )
                procs.append(objection)
                scoring.wait_serving(60)
                objection.wait_serving(60)
                scoring_addr, objection_addr = scoring.address, objection.address
            rch = grpc.insecure_channel(registry.address)
            channels.append(rch)
            client = RegistryClient(rch)
            pki = Pki.load(reg_dir / "registry-ca", tmp_path / "pki")
            server_cert, server_key = pki.issue(server=True)
            env = {
                "REGISTRY_ADDR": registry.address,
                "CONSENT_ADDR": consent.address,
                "SCORING_ADDR": scoring_addr,
                "OBJECTION_ADDR": objection_addr,
                "INTERNAL_LISTEN_ADDR": internal,
                "VAR_DIR": str(tmp_path / "gateway-var"),
                "TLS_CERT_FILE": str(pki.write("server.crt", server_cert)),
                "TLS_KEY_FILE": str(pki.write("server.key", server_key)),
                "TLS_CLIENT_CA_FILE": str(pki.write("ca.crt", pki.ca_pem)),
                **gateway_env,
            }
            # Participants and records before the gateway starts, so its first listing has them.
            create_departments(client)
            _, xian_cert, xian_key = admitted(client, "xian")
            _, qxr_cert, qxr_key = admitted(client, "qinxinrong", kind=pb.PLATFORM_KIND_AGGREGATOR)
            admitted(client, "county", kind=pb.PLATFORM_KIND_COUNTY, proxy="platforms/qinxinrong")
            _, other_cert, other_key = admitted(client, "baoji")
            client.admin.CreateInstitution(
                admin_pb.CreateInstitutionRequest(
                    institution_id="boc-xian",
                    display_name="中国银行西安分行",
                    licence_number="B0003H261010001",
                    type=pb.INSTITUTION_TYPE_BANK,
                    platform="platforms/xian",
                    change=change(),
                )
            )
            ent = Enterprise(random_uscc())
            client.registry.RegisterEnterprise(
                rs_pb.RegisterEnterpriseRequest(
                    platform="platforms/xian",
                    uscc=ent.uscc,
                    display_name="陕西测试科技有限公司",
                    public_key=ent.public_key,
                )
            )
            seed_records(rch, ent.uscc)
            node = Node(client, registry.address, consent.address, pki, tmp_path, registry, env, ent, procs=procs)
            node.gateway = node.start_gateway("gw-a", database_url)
            for name, cert, key in (
                ("xian", xian_cert, xian_key),
                ("qinxinrong", qxr_cert, qxr_key),
                ("baoji", other_cert, other_key),
            ):
                node.callers[name] = node.connect(f"platforms/{name}", cert, key)
                channels.append(node.callers[name].channel)
            yield node
        finally:
            for ch in channels:
                ch.close()
            for p in reversed(procs):
                p.terminate()
                p.kill()


def leaf_payloads(database_url: str, indexes: list[int]) -> list[dict[str, Any]]:
    """The disclosure-log payloads at these leaf indexes, read from the gateway's database."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            entries = [
                conn.execute(text("SELECT entry FROM evidence_leaves WHERE leaf_index = :i"), {"i": i}).scalar_one()
                for i in indexes
            ]
    finally:
        engine.dispose()
    return [json.loads(entry)["payload"] for entry in entries]


def denial_leaf(database_url: str, error: grpc.RpcError) -> dict[str, Any]:
    """The disclosure-log payload a refusal's ErrorInfo names as its receipt."""
    info = error_info(error)
    assert info is not None
    assert "receipt_leaf_index" in info.metadata, f"{info.reason} was not recorded in the disclosure log"
    return leaf_payloads(database_url, [int(info.metadata["receipt_leaf_index"])])[0]
