"""A 1 GiB artefact goes up and comes back down with a flat client memory profile."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Callable, Iterator, TypeVar

import psutil
import pytest
from support.files import sha256_of, sparse_file
from support.server import ServerProcess, unique

import traintrack as tt

MiB = 1024 * 1024
GiB = 1024 * MiB
# What streaming may cost on top of what the process held before: gRPC's
# buffers, one chunk in flight, the hash state. A buffered file would cost 1 GiB.
MAX_GROWTH = 100 * MiB

T = TypeVar("T")


def peak_rss_growth(work: Callable[[], T]) -> "tuple[T, int]":
    """Runs ``work`` while sampling this process's RSS; returns its result and the peak growth in bytes."""
    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = baseline
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, process.memory_info().rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        result = work()
    finally:
        done.set()
        sampler.join()
    return result, max(peak, process.memory_info().rss) - baseline


@pytest.fixture
def one_gib(tmp_path: Path) -> Iterator[Path]:
    yield sparse_file(tmp_path / "one-gib.bin", GiB + 4321)


# One backend only, to keep the run short: the client's memory does not depend on the server's storage.
@pytest.mark.parametrize("server", ["embedded"], indirect=True)
def test_a_1_gib_artefact_streams_up_and_down_in_flat_client_memory(server: ServerProcess, client: tt.Client, one_gib: Path) -> None:
    expected = sha256_of(one_gib)
    ds = tt.Dataset(name=unique("large"), version="1").add_file(one_gib)

    saved, up_growth = peak_rss_growth(lambda: client.datasets.save(ds))

    (artefact,) = saved.artefacts
    assert (artefact.size, artefact.sha256) == (one_gib.stat().st_size, expected)
    assert up_growth < MAX_GROWTH, f"the client's RSS grew by {up_growth / MiB:.0f} MiB during a 1 GiB upload"

    def read_back() -> str:
        hasher = hashlib.sha256()
        with saved.open(artefact.name) as stream:
            for block in iter(lambda: stream.read(4 * MiB), b""):
                hasher.update(block)
        return hasher.hexdigest()

    digest, down_growth = peak_rss_growth(read_back)
    assert digest == expected
    assert down_growth < MAX_GROWTH, f"the client's RSS grew by {down_growth / MiB:.0f} MiB during a 1 GiB download"
