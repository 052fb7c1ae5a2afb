"""Experiment tracking from Python: runs, params, the background metric logger, its spool, distributed ranks."""

from __future__ import annotations

import math
import multiprocessing
import random
import re
import threading
import time
from pathlib import Path
from typing import Iterator, List

import pytest
from support.proxy import BreakingProxy
from support.ranks import log_as_rank
from support.server import ServerProcess, unique

import traintrack as tt

FAST_RETRIES = tt.RetryPolicy(max_retries=5, initial_backoff=0.1, max_backoff=0.5)


@pytest.fixture
def proxied(proxy: BreakingProxy, server: ServerProcess) -> Iterator[tt.Client]:
    """A client whose connection goes through ``proxy``, which can take the server away."""
    with tt.Client(url=proxy.url, api_key=server.api_key, progress=False, retry=FAST_RETRIES) as c:
        yield c


def wait_until(condition: "object", timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_a_run_ends_finished_or_failed_with_its_block(client: tt.Client, tmp_path: Path) -> None:
    project = unique("churn")
    (tmp_path / "churn.csv").write_text("id,label\n1,yes\n")
    dataset = client.datasets.save(tt.Dataset(name=unique("inputs"), version="1.0.1").add_file(tmp_path / "churn.csv"))
    with client.start_run(project=project, experiment="xgb-sweep", params={"lr": 0.1}, tags={"team": "ml"}, name="good") as run:
        assert run.status == "running"
        run.use_dataset(client.datasets.get(dataset.name, version="1.0.1"))
        run.set_tags({"stage": "tuning"})
        run.log({"loss": 0.25, "acc": 0.9}, step=1)
    assert run.status == "finished"
    info = client.runs.get(run.id)
    assert (info.status, info.name, info.project, info.experiment) == ("finished", "good", project, "xgb-sweep")
    assert info.params == {"lr": "0.1"} and info.tags == {"team": "ml", "stage": "tuning"}
    assert info.inputs == [dataset.ref]
    assert info.end_time is not None and info.start_time is not None and info.end_time >= info.start_time
    run.finish()  # ending twice does nothing

    with pytest.raises(RuntimeError, match="diverged"):
        with client.start_run(project=project, experiment="xgb-sweep", params={"lr": 10}) as failing:
            failing.log({"loss": float("nan")}, step=1)
            raise RuntimeError("diverged")
    assert failing.status == "failed"
    assert client.runs.get(failing.id).status == "failed"

    assert [r.run_id for r in client.runs.search(project, status="failed")] == [failing.id]
    assert [r.run_id for r in client.runs.search(project, params={"lr": 0.1})] == [run.id]
    assert [r.run_id for r in client.runs.search(project, metrics=[("loss", "<", 0.5)])] == [run.id]
    assert {r.run_id for r in client.runs.list(project)} == {run.id, failing.id}
    with pytest.raises(tt.NotFound):
        client.runs.get("run_doesnotexist")

    # One run per rank in a group, unless shared.
    ranks = [client.start_run(project=project, experiment="ddp", group="job-1", rank=k) for k in range(2)]
    for r in ranks:
        r.finish()
    assert len({r.id for r in ranks}) == 2
    grouped = list(client.runs.list(project, group="job-1"))
    assert sorted((r.rank, r.group, r.status) for r in grouped) == [(0, "job-1", "finished"), (1, "job-1", "finished")]


def test_params_are_set_once(client: tt.Client) -> None:
    with client.start_run(project=unique("params"), experiment="e", params={"lr": 0.1}) as run:
        run.log_params({"lr": 0.1, "depth": 6})  # the same value again is fine
        with pytest.raises(tt.FailedPrecondition, match="lr"):
            run.log_params({"lr": 0.2})
        assert run.refresh().params == {"lr": "0.1", "depth": "6"}


def test_twenty_thousand_points_through_the_background_logger_arrive_exactly(client: tt.Client) -> None:
    rng = random.Random(5)
    values = [rng.uniform(-1e6, 1e6) for _ in range(20_000)]
    with client.start_run(project=unique("bulk"), experiment="e") as run:
        started = time.monotonic()
        for step, value in enumerate(values):
            run.log({"loss": value}, step=step)
        assert time.monotonic() - started < 5, "log() should only queue"
    (series,) = client.runs.metric_history(run.id, "loss").values()
    assert len(series.points) == 20_000
    assert series.steps == list(range(20_000))
    assert series.values == values
    assert not series.downsampled
    downsampled = client.runs.metric_history([run.id], "loss", max_points=100)[run.id]
    assert downsampled.downsampled and len(downsampled.points) <= 100
    assert min(downsampled.values) == min(values) and max(downsampled.values) == max(values)


def test_a_resent_batch_is_written_once(client: tt.Client) -> None:
    with client.start_run(project=unique("resend"), experiment="e") as run:
        points = [tt.MetricPoint("loss", 1.0 / (i + 1), step=i) for i in range(1000)]
        first = client.runs.log_metrics(run.id, points, batch_id="batch-1")
        again = client.runs.log_metrics(run.id, points, batch_id="batch-1")
        assert (first.points_accepted, first.deduplicated) == (1000, False)
        assert (again.points_accepted, again.deduplicated) == (0, True)
    assert len(client.runs.metric_history(run.id, "loss")[run.id].points) == 1000


def test_eight_processes_log_into_one_shared_run(client: tt.Client, server: ServerProcess) -> None:
    project, group, steps = unique("ddp"), unique("job"), 1000
    context = multiprocessing.get_context("spawn")
    results: "multiprocessing.Queue[str]" = context.Queue()
    processes = [
        context.Process(target=log_as_rank, args=(server.url, server.api_key, project, group, rank, steps, results)) for rank in range(8)
    ]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=60)
        assert p.exitcode == 0
    run_ids = {results.get(timeout=5) for _ in processes}
    assert len(run_ids) == 1, "every rank must log into the one shared run"
    (run_id,) = run_ids
    points = client.runs.metric_history(run_id, "loss")[run_id].points
    assert len(points) == 8 * steps
    assert sorted((p.rank, p.step, p.value) for p in points) == [
        (rank, step, float(rank * 1_000_000 + step)) for rank in range(8) for step in range(steps)
    ]
    info = client.runs.get(run_id)
    assert (info.status, info.group, info.params) == ("finished", group, {"world_size": "8"})


def test_a_full_queue_drops_under_the_drop_policy_and_stays_bounded(proxied: tt.Client, proxy: BreakingProxy, tmp_path: Path) -> None:
    options = tt.LoggerOptions(queue_size=1000, batch_size=500, on_full="drop", offline_after=60, spool_dir=str(tmp_path))
    run = proxied.start_run(project=unique("drop"), experiment="e", logger=options)
    proxy.down()  # the logger retries its first batch; the queue fills
    with pytest.warns(RuntimeWarning, match="dropping points"):
        for step in range(5000):
            run.log({"loss": step}, step=step)
    assert len(run._logger._queue) <= 1000
    assert 5000 - 1000 - options.max_in_flight * 500 <= run.dropped < 5000  # queued, and batches in flight
    proxy.up()
    run.finish(timeout=30)
    kept = proxied.runs.metric_history(run.id, "loss")[run.id].points
    assert len(kept) == 5000 - run.dropped


def test_a_full_queue_blocks_under_the_block_policy(proxied: tt.Client, proxy: BreakingProxy, tmp_path: Path) -> None:
    options = tt.LoggerOptions(queue_size=100, batch_size=50, offline_after=60, spool_dir=str(tmp_path))
    run = proxied.start_run(project=unique("block"), experiment="e", logger=options)
    proxy.down()
    logger = threading.Thread(target=lambda: [run.log({"loss": s}, step=s) for s in range(1000)])
    logger.start()
    time.sleep(1.0)
    assert logger.is_alive(), "log() should wait for room in the queue"
    assert len(run._logger._queue) <= 100
    proxy.up()
    logger.join(timeout=30)
    run.finish(timeout=30)
    assert run.dropped == 0
    assert proxied.runs.metric_history(run.id, "loss")[run.id].steps == list(range(1000))


def test_an_unreachable_server_spools_batches_and_replays_them_in_order(
    proxied: tt.Client, proxy: BreakingProxy, tmp_path: Path
) -> None:
    spool = tmp_path / "spool"
    # One batch in flight (two could be written in either order), one step and one timestamp: the history
    # is then in order of arrival, which is the order logged, which the values number.
    options = tt.LoggerOptions(batch_size=200, batch_interval=0.05, offline_after=0.5, spool_dir=str(spool), max_in_flight=1)
    run = proxied.start_run(project=unique("spool"), experiment="e", logger=options)
    when = time.time()
    log = lambda values: [run.log({"loss": v}, step=0, timestamp=when) for v in values]  # noqa: E731
    log(range(0, 1000))
    run.flush()

    proxy.down()
    log(range(1000, 3000))
    wait_until(lambda: run._logger.spooled_points == 2000, 20, "2000 spooled points")
    files = sorted(p.name for p in Path(run.spool_dir).iterdir())
    assert files[0] == ".lock", "a live logger holds its spool directory's lock"
    assert len(files) == 11 and all(re.fullmatch(r"\d{12}-[0-9a-f-]{36}\.batch", f) for f in files[1:]), files
    assert Path(run.spool_dir).parent == spool / run.id
    with pytest.raises(tt.MetricsNotDelivered, match="2000 points in 10 batches spooled") as raised:
        run.flush(timeout=0.5)
    assert (raised.value.spooled, raised.value.rejected) == (2000, 0)
    log(range(3000, 3500))  # newer points wait behind the spooled ones

    proxy.up()
    run.finish(timeout=30)
    values = proxied.runs.metric_history(run.id, "loss")[run.id].values
    assert values == [float(v) for v in range(3500)]
    assert not spool.joinpath(run.id).exists()


def test_batches_in_flight_when_connections_break_arrive_once_each(proxied: tt.Client, proxy: BreakingProxy, tmp_path: Path) -> None:
    options = tt.LoggerOptions(batch_size=500, batch_interval=0.05, offline_after=30, spool_dir=str(tmp_path))
    assert options.max_in_flight == 2
    run = proxied.start_run(project=unique("flight"), experiment="e", logger=options)
    for part in range(3):
        proxy.break_after(40_000)  # about two and a half batches on: every connection is reset mid-batch
        for step in range(part * 5000, (part + 1) * 5000):
            run.log({"loss": step}, step=step)
        run.flush(timeout=30)
    assert proxy.breaks == 3
    run.finish(timeout=30)
    # Resent batches (their responses lost, or never sent) are written once: every step, once.
    assert proxied.runs.metric_history(run.id, "loss")[run.id].steps == list(range(15_000))


def test_nan_and_infinities_round_trip(client: tt.Client) -> None:
    with client.start_run(project=unique("nan"), experiment="e") as run:
        for step, value in enumerate([float("nan"), float("inf"), float("-inf"), 1.5]):
            run.log({"loss": value}, step=step)
    values = client.runs.metric_history(run.id, "loss")[run.id].values
    assert len(values) == 4 and math.isnan(values[0]) and values[1:] == [math.inf, -math.inf, 1.5]


def test_bad_points_are_refused_when_logged(client: tt.Client) -> None:
    with client.start_run(project=unique("bad"), experiment="e") as run:
        for bad in ({"bad key!": 1.0}, {"k" * 251: 1.0}, {"": 1.0}, {"loss": "high"}):
            with pytest.raises(tt.InvalidArgument):
                run.log(bad, step=1)  # type: ignore[arg-type]
        with pytest.raises(tt.InvalidArgument):
            run.log({"loss": 1.0}, step=2**53)
        run.log({"a/b c.d-e_f": 1.0})
    assert client.runs.metric_history(run.id, "a/b c.d-e_f")[run.id].values == [1.0]


def test_points_the_server_rejects_are_raised_by_flush_not_lost_silently(client: tt.Client) -> None:
    run = client.start_run(project=unique("rejected"), experiment="e")
    run._logger._run_id = "run_doesnotexist"  # every batch now names a run the server does not know
    for step in range(10):
        run.log({"loss": 1.0}, step=step)
    with pytest.raises(tt.MetricsNotDelivered, match="10 points rejected") as raised:
        run.flush()
    assert raised.value.rejected == 10 and isinstance(raised.value.errors[0], tt.NotFound)
    run.finish()
    assert client.runs.get(run.id).status == "finished"
