"""One SQLite node shared by this package's tests, with suspended, proxied and unknown platforms for the matrix."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from creditnode.registry.v1 import participants_pb2 as pb
from creditnode.registry.v1 import registry_admin_service_pb2 as admin_pb
from tests.gateway_support import admitted
from tests.registry_helpers import change
from tests.reliability.cluster import Cluster, cluster


@dataclass
class SharedNode:
    """The cluster plus the extra identities: a suspended direct platform, a suspended proxied one, an unknown one."""

    c: Cluster
    extra_certs: dict[str, tuple[bytes, bytes]] = field(default_factory=dict)


@pytest.fixture(scope="package")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedNode]:
    tmp = tmp_path_factory.mktemp("shared-node")

    def sqlite(label: str) -> str:
        return f"sqlite:///{tmp / f'{label}.db'}"

    with cluster(Path(tmp), sqlite) as c:
        node = SharedNode(c)
        assert c.registry is not None
        assert c.pki is not None
        _, cert, key = admitted(c.registry, "hanzhong")
        node.extra_certs["hanzhong"] = (cert, key)
        admitted(c.registry, "county2", kind=pb.PLATFORM_KIND_COUNTY, proxy="platforms/qinxinrong")
        for name in ("platforms/hanzhong", "platforms/county2"):
            c.registry.admin.SuspendPlatform(admin_pb.SuspendPlatformRequest(name=name, change=change()))
        node.extra_certs["ghost"] = c.pki.issue(uri="spiffe://creditnode/platforms/ghost")
        for _ in range(3):
            c.add_enterprise()
        yield node
