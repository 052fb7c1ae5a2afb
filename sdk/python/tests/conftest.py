"""Fixtures: the real Traintrack server on each backend, and clients for it.

The server runs as a child process (``node --import tsx src/main.ts`` from the
repository root), once per backend for the whole session: ``embedded`` always,
``postgres+minio`` when test/scripts/with-services.sh exported PostgreSQL and
MinIO. Without them a developer's run skips that backend; under CI=true it fails.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest
from support.proxy import BreakingProxy
from support.server import BACKENDS, ServerProcess, in_ci, services_available

import traintrack as tt


@pytest.fixture(scope="session", params=BACKENDS)
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A running server on one backend, shared by the tests of that backend."""
    backend: str = request.param
    if backend == "postgres+minio" and not services_available():
        why = "PostgreSQL and MinIO are not running: run the tests through test/scripts/with-services.sh (npm test)"
        if in_ci():
            pytest.fail(f"{why}; CI=true forbids skipping the postgres+minio backend")
        pytest.skip(why)
    process = ServerProcess(backend, tmp_path_factory.mktemp(backend.replace("+", "-")))
    process.start()
    yield process
    process.stop()


@pytest.fixture
def client(server: ServerProcess) -> Iterator[tt.Client]:
    """A client of ``server`` authenticated with its admin key, without progress bars."""
    with tt.Client(url=server.url, api_key=server.api_key, progress=False) as c:
        yield c


@pytest.fixture
def proxy(server: ServerProcess) -> Iterator[BreakingProxy]:
    """A loopback proxy to ``server`` that tests can break (reset connections) or take down and bring back."""
    p = BreakingProxy(("127.0.0.1", server.port))
    yield p
    p.close()


@pytest.fixture
def random_file(tmp_path: Path) -> Callable[..., Path]:
    """Writes a file of ``size`` random bytes (``name`` under tmp_path) and returns its path."""

    def make(size: int, name: str = "data.bin") -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            remaining = size
            while remaining:
                n = min(remaining, 4 * 1024 * 1024)
                f.write(os.urandom(n))
                remaining -= n
        return path

    return make
