"""Load a reproducible demo Shaanxi province into a running node, through its public APIs only.

Shaanxi's 10 prefecture-level cities and the Yangling zone each get an admitted platform; 秦信融 (the provincial
aggregator) proxies county platforms; about 20 banks connect through the platforms; a few thousand enterprises with
valid generated USCCs and Ed25519 keys register; the departments of the sharing list are registered, and each
department delivers synthetic records (tools/demo_records.py) for the first ``--record-enterprises`` enterprises.

Everything derives from ``--seed``. Every mutation carries a request_id derived from the seed, so running the loader
again against the same node changes nothing. Platform keys/certificates and enterprise keys are written under
``var/demo/`` so that examples (and platform client tools) can use them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import sys
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID
from google.protobuf.timestamp_pb2 import Timestamp

from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import records_pb2 as rec_pb
from creditnode.registry.v1 import records_pb2_grpc as rec_grpc
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from creditnode.registry.v1 import registry_admin_service_pb2_grpc as admin_grpc
from creditnode.registry.v1 import registry_service_pb2 as rs_pb
from creditnode.registry.v1 import registry_service_pb2_grpc as rs_grpc
from creditnode.registry.v1 import sharing_list_pb2 as sl_pb
from services.registry.domain.sharing_list import CHINA_TZ
from services.registry.domain.uscc import ALPHABET, make_uscc
from tools.demo_records import DEFAULT_AS_OF, generate

ROOT = Path(__file__).resolve().parents[1]
SHARING_LIST = ROOT / "services" / "registry" / "data" / "sharing_list.yaml"
ACTOR = "demo-loader"

# (platform_id, name, region code): the 10 prefecture-level cities and the Yangling demonstration zone.
CITIES = [
    ("xian", "西安市融资信用服务平台", "610100"),
    ("tongchuan", "铜川市融资信用服务平台", "610200"),
    ("baoji", "宝鸡市融资信用服务平台", "610300"),
    ("xianyang", "咸阳市融资信用服务平台", "610400"),
    ("weinan", "渭南市融资信用服务平台", "610500"),
    ("yanan", "延安市融资信用服务平台", "610600"),
    ("hanzhong", "汉中市融资信用服务平台", "610700"),
    ("yulin", "榆林市融资信用服务平台", "610800"),
    ("ankang", "安康市融资信用服务平台", "610900"),
    ("shangluo", "商洛市融资信用服务平台", "611000"),
    ("yangling", "杨凌示范区融资信用服务平台", "610403"),
]
AGGREGATOR = ("qinxinrong", "秦信融（陕西省融资信用服务平台）", "610000")
# County platforms too weak to dock directly: they dock through 秦信融.
PROXIED = [
    ("zhouzhi", "周至县融资信用服务平台", "610124"),
    ("lantian", "蓝田县融资信用服务平台", "610122"),
    ("luonan", "洛南县融资信用服务平台", "611021"),
]
BANKS = [
    ("icbc-sx", "中国工商银行陕西省分行"),
    ("abc-sx", "中国农业银行陕西省分行"),
    ("boc-sx", "中国银行陕西省分行"),
    ("ccb-sx", "中国建设银行陕西省分行"),
    ("bocom-sx", "交通银行陕西省分行"),
    ("psbc-sx", "中国邮政储蓄银行陕西省分行"),
    ("cdb-sx", "国家开发银行陕西省分行"),
    ("adbc-sx", "中国农业发展银行陕西省分行"),
    ("xa-bank", "西安银行"),
    ("changan-bank", "长安银行"),
    ("sx-rcu", "陕西省农村信用社联合社"),
    ("qinnong-bank", "西安秦农农村商业银行"),
    ("cmb-xa", "招商银行西安分行"),
    ("spdb-xa", "上海浦东发展银行西安分行"),
    ("citic-xa", "中信银行西安分行"),
    ("cib-xa", "兴业银行西安分行"),
    ("cmbc-xa", "中国民生银行西安分行"),
    ("ceb-xa", "中国光大银行西安分行"),
    ("hxb-xa", "华夏银行西安分行"),
    ("pab-xa", "平安银行西安分行"),
]
INDUSTRIES = ["科技", "商贸", "农业", "制造", "建筑", "物流", "食品", "医药", "文化", "能源"]


def _request_id(seed: int, *parts: str) -> str:
    return "demo-" + hashlib.sha256(f"{seed}:{':'.join(parts)}".encode()).hexdigest()[:40]


def _ts(dt: datetime) -> Timestamp:
    t = Timestamp()
    t.FromDatetime(dt)
    return t


def _change(seed: int, *parts: str, reason: str = "demo province") -> admin_pb.Change:
    return admin_pb.Change(actor=ACTOR, reason=reason, request_id=_request_id(seed, *parts))


def _platform_key(out: Path, platform_id: str) -> ec.EllipticCurvePrivateKey:
    """The platform's own client key: created once and reused, so replays get a certificate for the same key."""
    path = out / "platforms" / platform_id / "client.key"
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return key


def _csr(key: ec.EllipticCurvePrivateKey, platform_id: str) -> str:
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, platform_id)]))
        .sign(key, hashes.SHA256())
    )
    return csr.public_bytes(serialization.Encoding.PEM).decode()


class Loader:
    def __init__(self, channel: grpc.Channel, seed: int, out: Path) -> None:
        self.channel = channel
        self.admin = admin_grpc.RegistryAdminServiceStub(channel)
        self.registry = rs_grpc.RegistryServiceStub(channel)
        self.seed = seed
        self.out = out
        self.now = datetime.now(UTC)

    def departments(self) -> int:
        listed = yaml.safe_load(SHARING_LIST.read_text(encoding="utf-8"))["departments"]
        for d in listed:
            kind = pb.DEPARTMENT_KIND_UTILITY if d["kind"] == "UTILITY" else pb.DEPARTMENT_KIND_GOVERNMENT
            self.admin.CreateDepartment(
                admin_pb.CreateDepartmentRequest(
                    code=d["code"], display_name=d["name"], kind=kind, change=_change(self.seed, "dept", d["code"])
                )
            )
        return len(listed)

    def _status(self, resource: str) -> int:
        try:
            return int(self.registry.GetPlatform(rs_pb.GetPlatformRequest(name=resource)).platform.status)
        except grpc.RpcError as exc:
            if exc.code() == grpc.StatusCode.NOT_FOUND:
                return pb.PLATFORM_STATUS_UNSPECIFIED
            raise

    def platform(self, platform_id: str, name: str, region: str, kind: int, proxy: str = "") -> None:
        """Take the platform as far as ADMITTED from wherever it stands (a rerun finds it admitted and moves on)."""
        resource = f"platforms/{platform_id}"
        status = self._status(resource)
        if status == pb.PLATFORM_STATUS_UNSPECIFIED:
            self.admin.CreatePlatform(
                admin_pb.CreatePlatformRequest(
                    platform_id=platform_id,
                    display_name=name,
                    kind=kind,
                    region_code=region,
                    docking=pb.DOCKING_PROXIED if proxy else pb.DOCKING_DIRECT,
                    proxy=proxy,
                    change=_change(self.seed, "create", platform_id, reason="申请接入"),
                )
            )
            status = pb.PLATFORM_STATUS_APPLIED
        if status == pb.PLATFORM_STATUS_APPLIED:
            self.admin.StartPlatformReview(
                admin_pb.StartPlatformReviewRequest(name=resource, change=_change(self.seed, "review", platform_id))
            )
            status = pb.PLATFORM_STATUS_UNDER_REVIEW
        if status != pb.PLATFORM_STATUS_UNDER_REVIEW:
            return
        for kind_ in (pb.ASSESSMENT_KIND_SECURITY, pb.ASSESSMENT_KIND_AUTHORIZATION):
            self.admin.RecordAssessment(
                admin_pb.RecordAssessmentRequest(
                    name=resource,
                    assessment=pb.Assessment(
                        kind=kind_,
                        assessor="陕西省信息安全测评中心",
                        assessed_on=_ts(self.now - timedelta(days=30)),
                        result=pb.ASSESSMENT_RESULT_PASSED,
                        findings="符合接入要求",
                        expires_on=_ts(self.now + timedelta(days=335)),
                    ),
                    change=admin_pb.Change(actor=ACTOR, reason="demo province"),
                )
            )
        csr = "" if proxy else _csr(_platform_key(self.out, platform_id), platform_id)
        resp = self.admin.AdmitPlatform(
            admin_pb.AdmitPlatformRequest(
                name=resource, csr_pem=csr, change=_change(self.seed, "admit", platform_id, reason="评估通过，准予接入")
            )
        )
        if resp.credential.certificate_pem:
            folder = self.out / "platforms" / platform_id
            (folder / "client.crt").write_text(resp.credential.certificate_pem)
            (folder / "ca.crt").write_text(resp.credential.ca_certificate_pem)

    def banks(self, platforms: list[str]) -> None:
        rng = random.Random(self.seed)
        for i, (bank_id, name) in enumerate(BANKS):
            self.admin.CreateInstitution(
                admin_pb.CreateInstitutionRequest(
                    institution_id=bank_id,
                    display_name=name,
                    licence_number=f"B{rng.randrange(10**4, 10**5)}H{rng.randrange(10**8, 10**9)}",
                    type=pb.INSTITUTION_TYPE_BANK,
                    platform=f"platforms/{platforms[i % len(platforms)]}",
                    change=_change(self.seed, "bank", bank_id),
                )
            )

    def enterprises(self, count: int, platforms: list[tuple[str, str]]) -> list[str]:
        rng = random.Random(self.seed + 1)
        keys: dict[str, str] = {}
        jobs = []
        seen: set[str] = set()
        while len(jobs) < count:
            platform_id, region = rng.choice(platforms)
            body = "".join(rng.choice(ALPHABET[:10] + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
            uscc = make_uscc("9", "1", region, body)
            if uscc in seen:
                continue
            seen.add(uscc)
            secret = hashlib.sha256(f"{self.seed}:key:{uscc}".encode()).digest()
            key = Ed25519PrivateKey.from_private_bytes(secret)
            raw = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            keys[uscc] = secret.hex()
            name = f"陕西{rng.choice('秦汉唐华长丰盛泰')}{rng.choice('信达源宏远鑫诚')}{rng.choice(INDUSTRIES)}有限公司"
            jobs.append(
                rs_pb.RegisterEnterpriseRequest(
                    platform=f"platforms/{platform_id}",
                    uscc=uscc,
                    display_name=name,
                    public_key=raw,
                    request_id=_request_id(self.seed, "enterprise", uscc),
                )
            )
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(self.registry.RegisterEnterprise, jobs))
        keys_file = self.out / "enterprise_keys.json"
        keys_file.write_text(json.dumps(keys, indent=0))
        keys_file.chmod(0o600)
        return [job.uscc for job in jobs]

    def records(self, usccs: list[str]) -> dict[str, int]:
        """Each department delivers its records in batches; request ids follow the seed, so a rerun is a replay."""
        by_department: dict[str, list[rec_pb.IngestRecord]] = {}
        for r in generate(usccs, self.seed, as_of=_records_as_of()):
            by_department.setdefault(r["department"], []).append(_wire_record(r))
        ingestion = rec_grpc.RecordIngestionServiceStub(self.channel)
        counts: dict[str, int] = {}

        def send(job: tuple[str, int, list[rec_pb.IngestRecord]]) -> rec_pb.IngestBatchResponse:
            department, index, batch = job
            request = rec_pb.IngestBatchRequest(
                request_id=_request_id(self.seed, "records", department, str(index), str(len(usccs))), records=batch
            )
            md = (("x-creditnode-department", department),)
            return ingestion.IngestBatch(request, metadata=md, timeout=120)  # type: ignore[no-any-return]

        jobs = [
            (department, i, recs[i : i + 1000])
            for department, recs in sorted(by_department.items())
            for i in range(0, len(recs), 1000)
        ]
        with ThreadPoolExecutor(max_workers=2) as pool:
            for resp in pool.map(send, jobs):
                for outcome in ("accepted", "duplicate", "parked", "rejected"):
                    counts[outcome] = counts.get(outcome, 0) + getattr(resp.counts, outcome)
        return counts


def _records_as_of() -> datetime:
    # Fixed, so a rerun sends the same records; a day earlier while the default lies ahead of the clock.
    now = datetime.now(UTC)
    return DEFAULT_AS_OF if now > DEFAULT_AS_OF else datetime(2026, 11, 28, 12, tzinfo=CHINA_TZ)


def _wire_value(value: object) -> rec_pb.FieldValue:
    if isinstance(value, bool):
        return rec_pb.FieldValue(bool_value=value)
    if isinstance(value, int):
        return rec_pb.FieldValue(int_value=value)
    if isinstance(value, Decimal):
        return rec_pb.FieldValue(decimal_value=format(value, "f"))
    if isinstance(value, date):
        return rec_pb.FieldValue(date_value=sl_pb.CalendarDate(year=value.year, month=value.month, day=value.day))
    return rec_pb.FieldValue(string_value=str(value))


def _wire_record(r: dict[str, Any]) -> rec_pb.IngestRecord:
    return rec_pb.IngestRecord(
        item_code=r["item_code"],
        list_version=r["list_version"],
        source_record_id=r["source_record_id"],
        source_version=r["source_version"],
        uscc=r["uscc"],
        event_time=_ts(r["event_time"]),
        fields={k: _wire_value(v) for k, v in r["fields"].items()},
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--registry", default=os.environ.get("REGISTRY_ADDR", "127.0.0.1:50052"))
    parser.add_argument("--seed", type=int, default=20231231)
    parser.add_argument("--enterprises", type=int, default=int(os.environ.get("DEMO_ENTERPRISES", "2000")))
    parser.add_argument(
        "--record-enterprises",
        type=int,
        default=int(os.environ.get("DEMO_RECORD_ENTERPRISES", "150")),
        help="enterprises that get records",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "var" / "demo")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with grpc.insecure_channel(args.registry) as channel:
        loader = Loader(channel, args.seed, args.out)
        departments = loader.departments()
        for platform_id, name, region in CITIES:
            loader.platform(platform_id, name, region, pb.PLATFORM_KIND_CITY)
        loader.platform(*AGGREGATOR, pb.PLATFORM_KIND_AGGREGATOR)
        for platform_id, name, region in PROXIED:
            loader.platform(platform_id, name, region, pb.PLATFORM_KIND_COUNTY, proxy=f"platforms/{AGGREGATOR[0]}")
        direct = [c[0] for c in CITIES]
        loader.banks(direct)
        usccs = loader.enterprises(args.enterprises, [(c[0], c[2]) for c in CITIES] + [(p[0], p[2]) for p in PROXIED])
        records = loader.records(usccs[: args.record_enterprises])
        coverage = loader.registry.GetCoverage(rs_pb.GetCoverageRequest())
    print(
        f"demo province: {coverage.platforms_admitted} platforms admitted, "
        f"{coverage.institutions_connected} institutions, {coverage.enterprises_registered} enterprises, "
        f"{departments} departments, records {records} (keys and certificates under {args.out})"
    )


if __name__ == "__main__":
    sys.exit(main())
