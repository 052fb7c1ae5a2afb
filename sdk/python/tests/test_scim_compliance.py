"""The SCIM 2.0 endpoints (/scim/v2) checked by the real compliance tool, scim2-tester.

It reads the discovery documents, then creates, reads, lists, replaces,
patches and deletes Users and Groups as an identity provider would, and
grades each step against RFC 7643/7644. Every check must pass: SUCCESS,
COMPLIANT (a SHOULD followed) or ACCEPTABLE (a MAY used). The list of checks
with their statuses is printed (run pytest with -s to see it).
"""

from __future__ import annotations

import sys
from typing import Callable

import grpc
import pytest
from support.server import ServerProcess

from traintrack._gen.v1 import api_key_pb2, api_key_pb2_grpc

if sys.version_info < (3, 10):
    pytest.skip("scim2-tester needs Python 3.10 or newer", allow_module_level=True)

import httpx2  # noqa: E402
from scim2_client.engines.httpx2 import SyncSCIMClient  # noqa: E402
from scim2_tester import Status, check_server  # noqa: E402

PASSING = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}


def scim_key(server: ServerProcess) -> str:
    """A new API key of scope SCIM of the bootstrap owner, as an administrator creates one for an identity provider."""
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        keys = api_key_pb2_grpc.ApiKeyServiceStub(channel)
        created = keys.CreateApiKey(
            api_key_pb2.CreateApiKeyRequest(name="scim2-tester", scope=api_key_pb2.API_KEY_SCOPE_SCIM),
            metadata=(("authorization", f"Bearer {server.api_key}"),),
            timeout=30,
        )
    return str(created.secret)


def test_scim2_tester_passes_every_check(server: ServerProcess, record_property: Callable[[str, object], None]) -> None:
    key = scim_key(server)
    with httpx2.Client(base_url=f"{server.url}/scim/v2", headers={"Authorization": f"Bearer {key}"}, timeout=30) as http:
        results = check_server(SyncSCIMClient(http))

    assert results, "scim2-tester ran no check"
    print(f"\nscim2-tester against {server.backend}: {len(results)} checks")
    lines = []
    for r in results:
        where = f"[{r.resource_type}] " if r.resource_type else ""
        lines.append(f"{r.status.name:<10} {where}{r.title}: {(r.reason or '').splitlines()[0][:120] if r.reason else ''}")
    print("\n".join(f"  {line}" for line in lines))
    # Also in the JUnit report (TRAINTRACK_PYTEST_JUNIT), where a -q run keeps it.
    record_property("scim2_tester_checks", "\n".join(lines))
    failures = [r for r in results if r.status not in PASSING]
    assert not failures, "scim2-tester checks that did not pass:\n" + "\n".join(
        f"  {r.status.name} [{r.resource_type or '-'}] {r.title}: {r.reason}" for r in failures
    )
