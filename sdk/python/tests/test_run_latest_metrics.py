"""RunInfo.latest_metrics: each run's latest value of every metric it logged, read with the run."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from typing import Dict, Tuple

from support.server import unique

import traintrack as tt

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def latest(info: tt.RunInfo) -> Dict[str, Tuple[float, int, object]]:
    return {key: (p.value, p.step, p.timestamp) for key, p in info.latest_metrics.items()}


def test_latest_metrics_follow_the_highest_step_then_time_then_arrival(client: tt.Client) -> None:
    project = unique("latest")
    run = client.start_run(project=project, experiment="e")
    assert run.info.latest_metrics == {}
    assert client.runs.get(run.id).latest_metrics == {}

    P = tt.MetricPoint
    client.runs.log_metrics(run.id, [P("loss", 0.9, 1, at(1)), P("loss", 0.5, 5, at(5)), P("loss", 0.7, 3, at(3))], batch_id="1")
    # A slow rank's late point at a lower step is not the latest.
    client.runs.log_metrics(run.id, [P("loss", 0.1, 2, at(100), rank=1, host="gpu-1")], batch_id="2")
    # Ties on the step: the later timestamp, then the last written.
    client.runs.log_metrics(run.id, [P("acc", 0.8, 10, at(2)), P("acc", 0.7, 10, at(1))], batch_id="3")
    client.runs.log_metrics(run.id, [P("lr", 0.01, 7, at(7)), P("lr", 0.02, 7, at(7))], batch_id="4")
    client.runs.log_metrics(run.id, [P("grad", float("nan"), 4, at(4)), P("norm", float("inf"), 4, at(4))], batch_id="5")
    got = client.runs.get(run.id)
    assert list(got.latest_metrics) == ["acc", "grad", "loss", "lr", "norm"]
    assert got.latest_metrics["loss"] == tt.MetricPoint("loss", 0.5, 5, at(5))
    assert latest(got)["acc"] == (0.8, 10, at(2))
    assert latest(got)["lr"] == (0.02, 7, at(7))
    assert math.isnan(got.latest_metrics["grad"].value)
    assert got.latest_metrics["norm"].value == float("inf")

    # A resent batch id changes nothing, whatever it holds.
    again = client.runs.log_metrics(run.id, [P("loss", 99.0, 1000, at(1000))], batch_id="1")
    assert again.deduplicated
    assert client.runs.get(run.id).latest_metrics["loss"].step == 5

    # The background logger's points too, once flushed; refresh() reads them.
    run.log({"loss": 0.25}, step=6)
    run.flush()
    assert run.refresh().latest_metrics["loss"].value == 0.25
    run.finish()
    assert run.info.latest_metrics["loss"].step == 6


def test_list_and_search_carry_latest_metrics(client: tt.Client) -> None:
    project = unique("latest-pages")
    P = tt.MetricPoint
    low = client.start_run(project=project, experiment="e")
    high = client.start_run(project=project, experiment="e")
    empty = client.start_run(project=project, experiment="e")
    client.runs.log_metrics(low.id, [P("loss", 0.9, 1, at(1)), P("loss", 0.2, 2, at(2))])
    # high's latest is step 5 though step 1 arrived after it.
    client.runs.log_metrics(high.id, [P("loss", 0.8, 5, at(5)), P("loss", 0.1, 1, at(6))])

    listed = {r.run_id: latest(r) for r in client.runs.list(project)}
    assert listed == {low.id: {"loss": (0.2, 2, at(2))}, high.id: {"loss": (0.8, 5, at(5))}, empty.id: {}}
    below = list(client.runs.search(project, metrics=[("loss", "<", 0.5)]))
    assert [(r.run_id, r.latest_metrics["loss"].value) for r in below] == [(low.id, 0.2)]
    for r in (low, high, empty):
        r.finish()


def test_latest_metrics_hold_the_first_100_keys_and_say_when_there_are_more(client: tt.Client) -> None:
    run = client.start_run(project=unique("latest"), experiment="e")
    client.runs.log_metrics(run.id, [tt.MetricPoint(f"k{i:03d}", float(i), 1) for i in range(120)], batch_id="1")
    got = client.runs.get(run.id)
    assert list(got.latest_metrics) == [f"k{i:03d}" for i in range(100)]
    assert got.latest_metrics_truncated is True
    assert client.runs.metric_history(run.id, "k119")[run.id].points[0].value == 119.0


def test_metric_history_of_more_runs_than_one_response_holds_is_asked_for_in_groups(client: tt.Client) -> None:
    project = unique("history")
    ids = []
    for i in range(11):
        run = client.start_run(project=project, experiment="e")
        client.runs.log_metrics(run.id, [tt.MetricPoint("loss", float(i), 1)], batch_id="1")
        ids.append(run.id)
    # 11 runs × 100,000 points is past the server's 1,000,000-point response.
    history = client.runs.metric_history(ids, "loss", max_points=100_000)
    assert [history[run_id].points[0].value for run_id in ids] == [float(i) for i in range(11)]
