"""Spooled metric batches outlive their process: a killed logger's spool is replayed, once, in order."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Callable, Iterator, List

import pytest
from support.proxy import BreakingProxy
from support.server import ServerProcess, unique

import traintrack as tt
from traintrack._metric_encoding import point, request_header

FAST_RETRIES = tt.RetryPolicy(max_retries=5, initial_backoff=0.1, max_backoff=0.5)
# Every point at step 0 with one timestamp: a run's history is then in order of arrival, which the values number.
STAMP = 1_700_000_000.0

# A training process: starts a run through the proxy, waits for a line on stdin (the
# server is taken away meanwhile), logs `count` points and waits until all are spooled.
LOGGER = r"""
import sys, time
import traintrack as tt
url, key, spool, project, request_id, count, stamp = sys.argv[1:8]
retry = tt.RetryPolicy(max_retries=5, initial_backoff=0.1, max_backoff=0.5)
client = tt.Client(url=url, api_key=key, progress=False, retry=retry)
options = tt.LoggerOptions(batch_size=100, batch_interval=0.05, offline_after=0.3, spool_dir=spool)
run = client.start_run(project=project, experiment="e", request_id=request_id, logger=options)
print(run.id, flush=True)
sys.stdin.readline()
for value in range(int(count)):
    run.log({"loss": float(value)}, step=0, timestamp=float(stamp))
deadline = time.monotonic() + 60
while run._logger.spooled_points < int(count):
    if time.monotonic() > deadline:
        sys.exit("the points were not spooled within 60 s")
    time.sleep(0.02)
print("spooled", flush=True)
time.sleep(600)  # until killed
"""

# Replays a spool and prints what it did, as JSON: {run_id: [batches, points, deduplicated, rejected, busy]}.
REPLAYER = r"""
import json, sys
import traintrack as tt
url, key, spool = sys.argv[1:4]
with tt.Client(url=url, api_key=key, progress=False) as client:
    result = client.runs.replay_spool(spool_dir=spool)
print(json.dumps({run_id: [r.batches, r.points, r.deduplicated, r.rejected, r.busy] for run_id, r in result.items()}))
"""


@pytest.fixture
def proxied(proxy: BreakingProxy, server: ServerProcess) -> Iterator[tt.Client]:
    with tt.Client(url=proxy.url, api_key=server.api_key, progress=False, retry=FAST_RETRIES) as c:
        yield c


def killed_while_offline(proxy: BreakingProxy, server: ServerProcess, spool: Path, project: str, count: int, request_id: str = "") -> str:
    """Runs LOGGER in a new process, takes the server away, SIGKILLs it once ``count`` points are spooled; returns the run id."""
    child = subprocess.Popen(
        [sys.executable, "-c", LOGGER, proxy.url, server.api_key, str(spool), project, request_id or str(uuid.uuid4()), str(count), str(STAMP)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        run_id = child.stdout.readline().strip()
        assert run_id.startswith("run_"), "the logging process could not start its run"
        proxy.down()
        child.stdin.write("go\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "spooled", "the logging process did not spool its points"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
        proxy.up()
    return run_id


def batch_files(spool: Path, run_id: str) -> List[Path]:
    return sorted((spool / run_id).glob("*/*.batch"))


def loss(client: tt.Client, run_id: str) -> List[float]:
    return client.runs.metric_history(run_id, "loss")[run_id].values


def test_the_spool_of_a_killed_process_is_replayed_once_in_order(
    client: tt.Client, proxied: tt.Client, proxy: BreakingProxy, server: ServerProcess, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    run_id = killed_while_offline(proxy, server, spool, unique("killed"), 1000)
    files = batch_files(spool, run_id)
    assert len(files) >= 10 and loss(client, run_id) == [], "every point is on disk, none on the server"
    (files[0].parent / "000000009999-cut-short.partial").write_bytes(b"\x0a\x03ru")  # a write the kill cut short

    proxy.down()
    with pytest.raises(tt.Unavailable):
        proxied.runs.replay_spool(spool_dir=str(spool))
    assert batch_files(spool, run_id) == files, "what could not be sent stays spooled"
    proxy.up()

    result = client.runs.replay_spool(spool_dir=str(spool))
    assert result == {run_id: tt.SpoolReplay(run_id, batches=len(files), points=1000)}
    assert loss(client, run_id) == [float(v) for v in range(1000)]
    assert not (spool / run_id).exists()

    assert client.runs.replay_spool(spool_dir=str(spool)) == {}, "a second replay finds nothing"
    assert len(loss(client, run_id)) == 1000


def test_a_run_resumed_with_its_request_id_sends_the_leftovers_before_its_own_points(
    client: tt.Client, proxy: BreakingProxy, server: ServerProcess, tmp_path: Path
) -> None:
    spool, project, request_id = tmp_path / "spool", unique("resumed"), unique("trial")
    run_id = killed_while_offline(proxy, server, spool, project, 500, request_id)
    # One batch in flight: the new points then arrive in the order logged, which the assertion below relies on.
    options = tt.LoggerOptions(batch_size=100, max_in_flight=1, spool_dir=str(spool))
    with client.start_run(project=project, experiment="e", request_id=request_id, logger=options) as run:
        assert run.id == run_id
        for value in range(500, 700):
            run.log({"loss": float(value)}, step=0, timestamp=STAMP)
    assert loss(client, run_id) == [float(v) for v in range(700)]
    assert not (spool / run_id).exists()


def test_a_live_loggers_spool_is_left_to_it(client: tt.Client, proxied: tt.Client, proxy: BreakingProxy, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    options = tt.LoggerOptions(batch_size=100, batch_interval=0.05, offline_after=0.3, spool_dir=str(spool))
    run = proxied.start_run(project=unique("live"), experiment="e", logger=options)
    proxy.down()
    for value in range(300):
        run.log({"loss": float(value)}, step=0, timestamp=STAMP)
    wait_until(lambda: run._logger.spooled_points == 300, 20, "300 spooled points")
    files = batch_files(spool, run.id)

    assert client.runs.replay_spool(run.id, spool_dir=str(spool)) == {run.id: tt.SpoolReplay(run.id, busy=1)}
    assert batch_files(spool, run.id) == files and loss(client, run.id) == []

    proxy.up()
    run.finish(timeout=30)
    assert loss(client, run.id) == [float(v) for v in range(300)]


def test_two_processes_replaying_at_once_send_each_batch_once(client: tt.Client, proxy: BreakingProxy, server: ServerProcess, tmp_path: Path) -> None:
    spool = tmp_path / "spool"
    run_id = killed_while_offline(proxy, server, spool, unique("twice"), 2000)
    files = batch_files(spool, run_id)
    replayers = [
        subprocess.Popen([sys.executable, "-c", REPLAYER, server.url, server.api_key, str(spool)], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    done = [json.loads(p.communicate(timeout=120)[0]).get(run_id, [0, 0, 0, 0, 0]) for p in replayers]
    assert [sum(d[i] for d in done) for i in range(4)] == [len(files), 2000, 0, 0], done  # batches, points, deduplicated, rejected
    assert loss(client, run_id) == [float(v) for v in range(2000)]


def test_a_spool_without_a_lock_file_replays_once_its_process_is_gone(
    client: tt.Client, proxy: BreakingProxy, server: ServerProcess, tmp_path: Path
) -> None:
    # As SDK versions before the lock left it; plus a batch the server refuses (its run does not exist).
    spool = tmp_path / "spool"
    run_id = killed_while_offline(proxy, server, spool, unique("legacy"), 200)
    (writer,) = (spool / run_id).iterdir()
    (writer / ".lock").unlink()
    refused = request_header("run_doesnotexist", str(uuid.uuid4())) + point("loss", 1.0, 0, None)
    (writer / f"{9999:012d}-{uuid.uuid4()}.batch").write_bytes(refused)

    (result,) = client.runs.replay_spool(spool_dir=str(spool)).values()
    assert (result.points, result.rejected, result.deduplicated) == (200, 1, 0)
    assert len(result.errors) == 1 and isinstance(result.errors[0], tt.NotFound)
    assert loss(client, run_id) == [float(v) for v in range(200)]
    assert not (spool / run_id).exists()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)
