"""Broken connections and a restarted server: uploads and downloads resume, and nothing corrupt is accepted."""

from __future__ import annotations

import hashlib
import logging
import signal
import threading
from pathlib import Path
from typing import Callable, Iterator, List

import pytest
from support.files import sha256_of
from support.proxy import BreakingProxy
from support.server import ServerProcess, unique

import traintrack as tt

MiB = 1024 * 1024
SEGMENT = 5 * MiB  # the test servers' TRAINTRACK_SEGMENT_BYTES
FAST_RETRIES = tt.RetryPolicy(max_retries=20, initial_backoff=0.2, max_backoff=5.0)


@pytest.fixture
def proxied(proxy: BreakingProxy, server: ServerProcess) -> Iterator[tt.Client]:
    """A client whose connection goes through ``proxy``."""
    with tt.Client(url=proxy.url, api_key=server.api_key, progress=False, retry=FAST_RETRIES) as c:
        yield c


def resume_offsets(records: List[logging.LogRecord]) -> List[int]:
    return [r.resume_offset for r in records if hasattr(r, "resume_offset")]  # type: ignore[attr-defined]


def test_an_upload_cut_mid_stream_resumes_from_the_durable_offset(
    proxied: tt.Client, proxy: BreakingProxy, random_file: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    data = random_file(40 * MiB + 777, "big.bin")
    proxy.break_after(28 * MiB)
    caplog.set_level(logging.INFO, logger="traintrack")

    saved = proxied.datasets.save(tt.Dataset(name=unique("resumed"), version="1").add_file(data))

    assert proxy.breaks == 1
    offsets = resume_offsets(caplog.records)
    assert len(offsets) >= 1
    assert 0 < offsets[0] < data.stat().st_size, "the upload did not resume from durable bytes"
    assert offsets[0] % SEGMENT == 0
    (artefact,) = saved.artefacts
    assert (artefact.size, artefact.sha256) == (data.stat().st_size, sha256_of(data))
    with saved.open("big.bin") as stream:
        assert hashlib.sha256(stream.read()).hexdigest() == artefact.sha256


@pytest.mark.parametrize(("size", "resumes"), [(MiB, False), (MiB + 1, True)], ids=["1MiB-sent-again", "1MiB+1-resumed"])
def test_a_first_stream_that_breaks_resumes_its_upload_only_above_the_small_upload_limit(
    proxied: tt.Client, proxy: BreakingProxy, random_file: Callable[..., Path], caplog: pytest.LogCaptureFixture, size: int, resumes: bool
) -> None:
    """Above 1 MiB, CreateUpload names the upload first: a break before any durable byte resumes it at 0."""
    data = random_file(size, "edge.bin")
    proxy.break_after(MiB // 2)
    caplog.set_level(logging.INFO, logger="traintrack")

    saved = proxied.datasets.save(tt.Dataset(name=unique("edge"), version="1").add_file(data))

    assert proxy.breaks == 1
    resumed = {(vars(r)["upload_id"], vars(r)["resume_offset"]) for r in caplog.records if "resume_offset" in vars(r)}
    if resumes:
        assert resumed, "the upload started over instead of resuming"
        # Nothing was durable before the first segment; every stream wrote the one upload CreateUpload named.
        assert len(resumed) == 1 and next(iter(resumed))[1] == 0, resumed
    else:
        assert not resumed
        assert any("starting over" in r.getMessage() for r in caplog.records)
    (artefact,) = saved.artefacts
    assert (artefact.size, artefact.sha256) == (size, sha256_of(data))


def upload_across_a_restart(
    server: ServerProcess, proxy: BreakingProxy, client: tt.Client, data: Path, sig: int, caplog: pytest.LogCaptureFixture
) -> List[str]:
    """Saves ``data`` while the server is stopped with ``sig`` mid-upload and started again; returns the retry log."""
    restarted = threading.Event()

    def stop_and_start() -> None:
        def run() -> None:
            server.stop(sig)
            server.start()  # same port, same database and storage
            restarted.set()

        threading.Thread(target=run, daemon=True).start()

    proxy.break_after(20 * MiB, on_break=stop_and_start)
    caplog.set_level(logging.INFO, logger="traintrack")

    saved = client.datasets.save(tt.Dataset(name=unique("restarted"), version="1").add_file(data))

    assert restarted.is_set()
    assert any(offset > 0 for offset in resume_offsets(caplog.records)), "the upload started over instead of resuming"
    (artefact,) = saved.artefacts
    assert artefact.sha256 == sha256_of(data)
    return [r.getMessage() for r in caplog.records]


def test_an_upload_survives_a_server_restart(
    server: ServerProcess, proxy: BreakingProxy, proxied: tt.Client, random_file: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    upload_across_a_restart(server, proxy, proxied, random_file(30 * MiB + 5, "restart.bin"), signal.SIGTERM, caplog)


# One backend only: the crashed stream's write lease holds the upload for 30 s.
@pytest.mark.parametrize("server", ["embedded"], indirect=True)
def test_an_upload_survives_a_server_crash_by_waiting_out_the_write_lease(
    server: ServerProcess, proxy: BreakingProxy, proxied: tt.Client, random_file: Callable[..., Path], caplog: pytest.LogCaptureFixture
) -> None:
    log = upload_across_a_restart(server, proxy, proxied, random_file(30 * MiB + 5, "crash.bin"), signal.SIGKILL, caplog)
    assert any("ABORTED" in line for line in log), "expected the dead stream's write lease to refuse a resume at first"


def test_a_file_that_changes_during_a_resumed_upload_is_data_loss(
    proxied: tt.Client, proxy: BreakingProxy, random_file: Callable[..., Path], client: tt.Client
) -> None:
    data = random_file(30 * MiB, "changing.bin")

    def overwrite_the_start() -> None:
        with open(data, "r+b") as f:
            f.write(b"\0" * 1024)

    proxy.break_after(22 * MiB, on_break=overwrite_the_start)
    name = unique("changed")
    with pytest.raises(tt.DataLoss, match="does not match the file|changed while it was uploaded"):
        proxied.datasets.save(tt.Dataset(name=name, version="1").add_file(data))
    with pytest.raises(tt.NotFound):
        client.datasets.get(name)


def test_a_download_cut_mid_stream_resumes_and_is_verified(
    proxied: tt.Client, proxy: BreakingProxy, random_file: Callable[..., Path], tmp_path: Path
) -> None:
    data = random_file(12 * MiB + 3, "down.bin")
    saved = proxied.datasets.save(tt.Dataset(name=unique("download"), version="1").add_file(data))

    proxy.break_after(5 * MiB, direction="down")
    (path,) = saved.download(tmp_path / "out")

    assert proxy.breaks == 1
    assert path.read_bytes() == data.read_bytes()


def test_a_file_that_changes_while_it_is_uploaded_is_data_loss(client: tt.Client, tmp_path: Path) -> None:
    data = tmp_path / "growing.csv"
    data.write_text("x\n1\n")
    name = unique("growing")
    ds = tt.Dataset(name=name, version="1").add_file(data)
    stream = client._uploader._upload

    def append_meanwhile(path: str, *args: object) -> object:
        with open(path, "a") as f:
            f.write("2\n")
        return stream(path, *args)  # type: ignore[arg-type]

    client._uploader._upload = append_meanwhile  # type: ignore[method-assign]
    with pytest.raises(tt.DataLoss, match="changed while it was uploaded"):
        client.datasets.save(ds)
    with pytest.raises(tt.NotFound):
        client.datasets.get(name)


@pytest.mark.parametrize("server", ["embedded"], indirect=True)
def test_a_download_whose_bytes_do_not_match_their_sha256_is_data_loss(
    server: ServerProcess, client: tt.Client, random_file: Callable[..., Path], tmp_path: Path
) -> None:
    data = random_file(3 * MiB, "rotten.bin")
    saved = client.datasets.save(tt.Dataset(name=unique("rotten"), version="1").add_file(data))
    (artefact,) = saved.artefacts
    # Bit rot in the server's storage (local files): the one stored file holding these bytes.
    stored = (server.work_dir / "data" / "objects").rglob("*")
    (blob,) = [p for p in stored if p.is_file() and hashlib.sha256(p.read_bytes()).hexdigest() == artefact.sha256]
    with open(blob, "r+b") as f:
        f.seek(MiB)
        f.write(b"rot")

    with pytest.raises(tt.DataLoss, match="sha256"):
        saved.download(tmp_path / "out")
    assert not (tmp_path / "out" / "rotten.bin").exists()
    with saved.open("rotten.bin") as stream, pytest.raises(tt.DataLoss):
        stream.read()
