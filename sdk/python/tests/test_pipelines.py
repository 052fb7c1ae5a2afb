"""Pipeline tracking from Python against the real server: the context managers, failures, caching, a fan-out,
steps finished in other processes, @tt.step's edges, the graph's texts, lineage and the CLI."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Dict, List

import pytest
from support.server import ServerProcess, unique

import traintrack as tt
from traintrack.cli import main


def saved_dataset(client: tt.Client, tmp_path: Path, name: str, version: str = "1.0.1", derived_from: Any = ()) -> tt.DatasetVersion:
    csv = tmp_path / f"{name}-{version}.csv"
    csv.write_text("tenure,plan,churn\n1,basic,1\n24,pro,0\n")
    return client.datasets.save(tt.Dataset(name=name, version=version, derived_from=derived_from).add_file(csv))


def child_env(server: ServerProcess, extra: Dict[str, str]) -> Dict[str, str]:
    return {**os.environ, "TRAINTRACK_URL": server.url, "TRAINTRACK_API_KEY": server.api_key, **extra}


class ThreeSteps:
    """The issue's example, run: extract → features (reads a dataset version, writes one) → train (a tracked run, writes a model)."""

    def __init__(self, client: tt.Client, tmp_path: Path) -> None:
        self.project, self.name, model = unique("churn"), unique("nightly-churn"), unique("churn-xgb")
        self.extracted = tt.ExternalDataset("s3://raw", f"churn/{unique('2026-11-29')}")  # a path of its own: the server outlives a test
        self.raw = saved_dataset(client, tmp_path, unique("customer_churn"))
        weights = tmp_path / "model" / "w.bin"
        weights.parent.mkdir()
        weights.write_bytes(b"weights")

        self.pipe = client.pipelines.get_or_create(self.name, project=self.project, description="nightly")
        with self.pipe.run(params={"date": "2026-11-29"}, trigger="manual") as prun:
            with prun.step("extract", outputs=[f"s3://raw/{self.extracted.name}"]) as s:
                pass
            with prun.step("features", after=["extract"]) as s:
                s.use_dataset(client.datasets.get(self.raw.name, version="1.0.1"))
                self.features = saved_dataset(client, tmp_path, unique("churn_features"), "1.0.0", derived_from=[self.raw])
                s.output(self.features)
            with prun.step("train", after=["features"], run=True) as s:
                assert s.run is not None
                s.use_dataset(self.features)
                s.run.log({"auc": 0.93})
                self.mv = s.run.log_model(weights.parent, name=model)
                s.output(self.mv)
                self.train_run = s.run
        self.prun = prun


def test_the_issues_three_step_pipeline_is_one_dag_drawn_by_the_cli(client: tt.Client, server: ServerProcess, tmp_path: Path) -> None:
    run = ThreeSteps(client, tmp_path)
    name, prun, train_run, mv = run.name, run.prun, run.train_run, run.mv
    assert client.pipelines.get_or_create(name).project == run.project  # an existing pipeline is returned as it is
    assert prun.status == "succeeded" and train_run.status == "finished"
    assert train_run.info.project == run.project and train_run.info.experiment == name

    dag = client.pipelines.get_run(prun.id, expand_instances=True)
    assert (dag.run.pipeline, dag.run.status, dag.run.params, dag.run.trigger) == (name, "succeeded", {"date": "2026-11-29"}, "manual")
    assert [s.name for s in dag.steps] == ["extract", "features", "train"]
    assert [s.status for s in dag.steps] == ["succeeded"] * 3
    assert dag.step("features").upstream == ("extract",) and dag.step("train").upstream == ("features",)
    assert {(e.from_step, e.to_step) for e in dag.edges} >= {("extract", "features"), ("features", "train")}
    assert dag.step("extract").outputs == (run.extracted,)
    assert dag.step("features").inputs == (run.raw.ref,) and dag.step("features").outputs == (run.features.ref,)
    assert dag.step("train").inputs == (run.features.ref,) and dag.step("train").outputs == (mv.ref,) and dag.step("train").instances[0].run_id == train_run.id
    assert all(s.start_time and s.end_time for s in dag.steps)
    assert [r.id for r in run.pipe.runs()] == [prun.id]

    graph = prun.graph()
    assert [(n.id, n.layer) for n in graph.nodes] == [("extract", 0), ("features", 1), ("train", 2)]
    for step in ("extract", "features", "train"):
        assert step in graph.to_mermaid() and step in graph.to_dot()
    assert graph.to_mermaid().lstrip().startswith("flowchart")

    env = {"HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path), "TRAINTRACK_URL": server.url, "TRAINTRACK_API_KEY": server.api_key}
    out = io.StringIO()
    err = io.StringIO()
    assert main(["pipelines", "show", name], env={**env, "TRAINTRACK_DEBUG": "1"}, stdout=out, stderr=err) == 0, err.getvalue()
    drawn = out.getvalue().splitlines()
    assert drawn[0].startswith(f"{name}  run {prun.id}  succeeded")
    assert [line for line in drawn if line.startswith("layer")] == ["layer 0", "layer 1", "layer 2"]
    assert any("[+] train" in line and "<- features" in line for line in drawn)
    out = io.StringIO()
    assert main(["pipelines", "ls", "--project", run.project, "--json"], env=env, stdout=out, stderr=io.StringIO()) == 0
    assert [p["name"] for p in json.loads(out.getvalue())] == [name]
    out = io.StringIO()
    assert main(["pipelines", "show", name, "--run", prun.id, "--json"], env=env, stdout=out, stderr=io.StringIO()) == 0
    assert [n["id"] for n in json.loads(out.getvalue())["graph"]["nodes"]] == ["extract", "features", "train"]
    out = io.StringIO()
    assert main(["pipelines", "runs", name], env=env, stdout=out, stderr=io.StringIO()) == 0
    assert prun.id in out.getvalue() and "3 succeeded" in out.getvalue()
    err = io.StringIO()
    assert main(["pipelines", "show", unique("nowhere")], env=env, stdout=io.StringIO(), stderr=err) == 5, err.getvalue()


def test_lineage_from_the_model_reaches_the_pipeline_step_and_its_data(client: tt.Client, tmp_path: Path) -> None:
    run = ThreeSteps(client, tmp_path)
    prun, mv = run.prun, run.mv
    up = client.lineage(mv, direction="upstream", depth=6)
    assert (prun.id, "train") in up.pipeline_steps
    assert f"run:{run.train_run.id}" in {n.id for n in up.nodes}
    assert any(e.kind == "tracked_as" for e in up.edges)
    assert {run.features.ref, run.raw.ref} <= set(up.dataset_versions)  # train read the features, derived from the raw data
    down = client.lineage(prun, direction="downstream", kinds=["model_version"], depth=4)
    assert mv.ref in down.model_versions
    made_by = client.lineage(run.extracted, direction="upstream")  # extract wrote it
    assert made_by.pipeline_steps == [(prun.id, "extract")] and made_by.external_datasets == [run.extracted]


def test_a_failed_step_fails_the_run_and_its_declared_downstream_is_skipped(client: tt.Client) -> None:
    pipe = client.pipelines.get_or_create(unique("failing"))
    with pytest.raises(ValueError, match="no rows"):
        with pipe.run() as prun:
            with prun.step("load") as s:
                prun.declare("report", after=["load"])  # waiting for "load" (which must have started)
                raise ValueError("no rows")
    dag = client.pipelines.get_run(prun.id, expand_instances=True)
    assert dag.run.status == "failed"
    load = dag.step("load")
    assert load.status == "failed" and load.instances[0].message == "ValueError: no rows"
    assert dag.step("report").status == "skipped"
    assert s.id == load.instances[0].id


def test_many_steps_recorded_at_once_form_one_dag_and_a_retry_changes_nothing(client: tt.Client) -> None:
    with client.pipelines.get_or_create(unique("bulk")).run() as prun:
        records = [tt.StepRecord("extract", outputs=["s3://bulk/raw"])]
        # 1,200 instances: two RecordSteps calls, the second naming a step of the first.
        records += [tt.StepRecord("score", after=["extract"], instance=i, inputs=["s3://bulk/raw"]) for i in range(1200)]
        records += [tt.StepRecord("train", after=["score"], status="failed", message="CUDA out of memory"), tt.StepRecord("publish", after=["train"], status="pending")]
        first = prun.record_steps(records)
        assert len(first) == 1203 and [s.status for s in first[-2:]] == ["failed", "skipped"]
        again = prun.record_steps(records)
        assert [s.id for s in again] == [s.id for s in first]
    dag = client.pipelines.get_run(prun.id)
    assert dag.step("score").instance_count == 1200 and dag.step("train").status == "failed"
    assert [dag.step(n).status for n in ("extract", "score", "publish")] == ["succeeded", "succeeded", "skipped"]
    with pytest.raises(tt.errors.InvalidArgument, match='upstream step "nowhere"'):
        prun.record_steps([tt.StepRecord("lost", after=["nowhere"])])


def test_a_step_with_the_key_of_an_earlier_success_is_cached(client: tt.Client) -> None:
    pipe = client.pipelines.get_or_create(unique("cached"))
    key = unique("features-v1")
    worked: List[str] = []
    for _ in range(2):
        with pipe.run() as prun, prun.step("features", cache_key=key, outputs=["s3://feat/v1"]) as s:
            if not s.cached:
                worked.append(s.id or "")
    assert len(worked) == 1 and s.cached and s.cached_from == worked[0]
    step = client.pipelines.get_run(prun.id).step("features")
    assert step.status == "cached" and step.outputs == (tt.ExternalDataset("s3://feat", "v1"),)
    assert prun.status == "succeeded"


def test_a_fan_out_of_ten_instances_is_one_step_collapsed_and_ten_expanded(client: tt.Client) -> None:
    with client.pipelines.get_or_create(unique("fan-out")).run() as prun:
        with prun.step("split"):
            pass
        for i in range(10):
            with prun.step("score", after=["split"], instance=i) as s:
                s.output(f"s3://scores/part-{i}")
    score = client.pipelines.get_run(prun.id).step("score")
    assert (score.instance_count, score.instances_by_status, score.status) == (10, {"succeeded": 10}, "succeeded")
    collapsed = prun.graph()
    assert [(n.id, n.instance_count) for n in collapsed.nodes] == [("split", 1), ("score", 10)]
    expanded = prun.graph(expand=True)
    assert sorted(n.id for n in expanded.nodes if n.step == "score") == sorted(f"score[{i}]" for i in range(10))


def test_steps_are_finished_and_started_from_other_processes_through_the_environment(client: tt.Client, server: ServerProcess) -> None:
    with client.pipelines.get_or_create(unique("multi-process")).run() as prun:
        s = prun.start_step("remote")
        finish_it = """
            import traintrack as tt
            with tt.current_step() as s:
                s.input("warehouse/public.customers")
                s.output("s3://out/remote")
        """
        subprocess.run([sys.executable, "-c", textwrap.dedent(finish_it)], env=child_env(server, s.env()), check=True, timeout=120)
        start_one = """
            import traintrack as tt
            prun = tt.Client().pipelines.current_run()
            with prun.step("child", after=["remote"]) as s:
                s.output("s3://out/child")
        """
        subprocess.run([sys.executable, "-c", textwrap.dedent(start_one)], env=child_env(server, prun.env()), check=True, timeout=120)
    dag = client.pipelines.get_run(prun.id)
    remote, child = dag.step("remote"), dag.step("child")
    assert remote.status == "succeeded" and remote.inputs == (tt.ExternalDataset("warehouse", "public.customers"),)
    assert remote.outputs == (tt.ExternalDataset("s3://out", "remote"),)
    assert child.status == "succeeded" and child.upstream == ("remote",)
    assert dag.run.status == "succeeded"


@tt.step
def extract(day: str) -> Dict[str, str]:
    tt.current_step().output(f"s3://raw/{day}")
    return {"day": day}


@tt.step
def clean(rows: Dict[str, str]) -> Dict[str, str]:
    return dict(rows, clean="yes")


@tt.step
def score(rows: Dict[str, str], shard: int) -> str:
    return f"scores-{shard}"


@tt.step(run=True)
def combine(parts: List[str], rows: Dict[str, str]) -> str:
    step = tt.current_step()
    assert step.run is not None
    step.run.log({"parts": len(parts)})
    return ",".join(parts)


def test_decorated_steps_are_joined_by_the_data_passed_between_them(client: tt.Client) -> None:
    with client.pipelines.get_or_create(unique("decorated"), project=unique("deco")).run() as prun:
        rows = extract("2026-11-29")
        cleaned = clean(rows)
        parts = [score(rows, shard=i) for i in range(3)]
        combine(parts, cleaned)
    dag = client.pipelines.get_run(prun.id, expand_instances=True)
    assert {s.name: sorted(s.upstream) for s in dag.steps} == {"extract": [], "clean": ["extract"], "score": ["extract"], "combine": ["clean", "score"]}
    assert dag.step("score").instance_count == 3 and dag.step("combine").instances[0].run_id
    assert dag.step("extract").outputs == (tt.ExternalDataset("s3://raw", "2026-11-29"),)
    assert [n.layer for n in prun.graph().nodes if n.id == "combine"] == [2]
