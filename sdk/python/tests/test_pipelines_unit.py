"""Pipeline tracking's pure parts, without a server: strings as external datasets, step IO, the context managers'
calls, @tt.step's dependencies from the data, the terminal DAG and the CLI's arguments.

The fake PipelineService below only records requests and answers as the contract says (StartStep by
pipeline run, name and instance; a cache key matching an earlier succeeded instance is CACHED).
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any, Dict, Iterator, List, Tuple

import pytest

import traintrack as tt
from traintrack import _lineage, _pipeline_io
from traintrack._gen.v1 import lineage_pb2, pipeline_pb2
from traintrack.cli import main
from traintrack.cli._dag import draw
from traintrack.pipelines import Pipelines


class FakePipelineService:
    def __init__(self) -> None:
        self.requests: List[Tuple[str, Any]] = []
        self.instances: Dict[Tuple[str, str, int], pipeline_pb2.StepInstance] = {}
        self.by_id: Dict[str, Tuple[str, str, int]] = {}
        self.lock = threading.Lock()

    def _log(self, name: str, request: Any) -> None:
        with self.lock:
            self.requests.append((name, request))

    def CreatePipeline(self, r: Any) -> Any:
        self._log("CreatePipeline", r)
        return pipeline_pb2.CreatePipelineResponse(pipeline=pipeline_pb2.Pipeline(name=r.name, project=r.project))

    def StartPipelineRun(self, r: Any) -> Any:
        self._log("StartPipelineRun", r)
        run = pipeline_pb2.PipelineRun(id=f"pr-{r.request_id[:8]}", pipeline=r.pipeline, status=pipeline_pb2.PIPELINE_RUN_STATUS_RUNNING, params=r.params)
        return pipeline_pb2.StartPipelineRunResponse(run=run)

    def FinishPipelineRun(self, r: Any) -> Any:
        self._log("FinishPipelineRun", r)
        return pipeline_pb2.FinishPipelineRunResponse(run=pipeline_pb2.PipelineRun(id=r.pipeline_run_id, status=r.status))

    def StartStep(self, r: Any) -> Any:
        self._log("StartStep", r)
        with self.lock:
            key = (r.pipeline_run_id, r.name, r.instance)
            if key not in self.instances:
                earlier = [i for i in self.instances.values() if r.cache_key and i.cache_key == r.cache_key and i.status == pipeline_pb2.STEP_STATUS_SUCCEEDED]
                status = pipeline_pb2.STEP_STATUS_CACHED if earlier else pipeline_pb2.STEP_STATUS_RUNNING
                step_id = f"st-{len(self.instances)}"
                self.instances[key] = pipeline_pb2.StepInstance(
                    id=step_id, instance=r.instance, status=status, cache_key=r.cache_key, run_id=r.run_id, cached_from=earlier[0].id if earlier else ""
                )
                self.by_id[step_id] = key
            step = self.instances[key]
        return pipeline_pb2.StartStepResponse(step=step, cached=step.status == pipeline_pb2.STEP_STATUS_CACHED)

    def FinishStep(self, r: Any) -> Any:
        self._log("FinishStep", r)
        with self.lock:
            step = self.instances[self.by_id[r.step_id]]
            step.status = r.status
            step.message = r.message
        return pipeline_pb2.FinishStepResponse(step=step)

    def RecordStepIO(self, r: Any) -> Any:
        self._log("RecordStepIO", r)
        return pipeline_pb2.RecordStepIOResponse()

    def of(self, name: str) -> List[Any]:
        return [r for n, r in self.requests if n == name]

    def started(self) -> Dict[Tuple[str, int], List[str]]:
        """(step, instance) → its upstream, as StartStep was told."""
        return {(r.name, r.instance): list(r.upstream) for r in self.of("StartStep")}


class FakeTransport:
    def __init__(self) -> None:
        self.pipelines = FakePipelineService()

    def call(self, method: Any, request: Any, *, what: str, retry: bool = True) -> Any:
        return method(request)


@pytest.fixture
def fake() -> Iterator[Tuple[Any, FakePipelineService]]:
    transport = FakeTransport()
    client = SimpleNamespace(_transport=transport)
    client.pipelines = Pipelines(client)  # type: ignore[arg-type]
    yield client, transport.pipelines


# --- strings and objects as step IO ---------------------------------------------------


@pytest.mark.parametrize(
    "text, namespace, name",
    [
        ("s3://raw/churn/2026-11-29", "s3://raw", "churn/2026-11-29"),
        ("s3://raw", "s3://raw", "/"),
        ("s3://raw/", "s3://raw", "/"),
        ("gs://bucket/a/b.parquet", "gs://bucket", "a/b.parquet"),
        ("postgres://db:5432/shop.public.customers", "postgres://db:5432", "shop.public.customers"),
        ("file:///data/x.csv", "file", "/data/x.csv"),
        ("/data/x.csv", "file", "/data/x.csv"),
        ("/", "file", "/"),
        ("warehouse/public.customers", "warehouse", "public.customers"),
        ("dag/task/output", "dag", "task/output"),
        ("  s3://raw/k  ", "s3://raw", "k"),
    ],
)
def test_a_string_is_an_external_dataset_by_the_documented_rule(text: str, namespace: str, name: str) -> None:
    assert _pipeline_io.parse_external(text) == tt.ExternalDataset(namespace, name)


@pytest.mark.parametrize("text", ["public.customers", "", "   ", "ns/", "s3://", "://bucket/key"])
def test_a_string_without_a_namespace_is_refused_with_the_forms_that_work(text: str) -> None:
    with pytest.raises(tt.InvalidArgument, match="not an external dataset"):
        _pipeline_io.parse_external(text)


def test_every_kind_of_thing_becomes_one_step_io_and_reads_back_the_same() -> None:
    items = [tt.DatasetRef("churn", "1.0.1"), tt.ModelRef("churn-xgb", 3), tt.RunArtefactRef("run_1", "model/"), tt.ExternalDataset("s3://raw", "k", '{"a":1}')]
    protos = [_pipeline_io.to_proto(i) for i in items]
    assert [p.WhichOneof("ref") for p in protos] == ["dataset", "model", "run_artefact", "external"]
    assert [_pipeline_io.from_proto(p) for p in protos] == items
    assert _pipeline_io.to_proto("s3://raw/k").external == pipeline_pb2.ExternalDataset(namespace="s3://raw", name="k")
    assert _pipeline_io.to_proto(tt.RunArtefacts("run_2", "m/")).run_artefact == pipeline_pb2.RunArtefactRef(run_id="run_2", path="m/")
    with pytest.raises(tt.InvalidArgument, match="cannot be a step's input or output"):
        _pipeline_io.to_proto(42)
    with pytest.raises(tt.InvalidArgument, match="not a run"):
        tt.RunArtefactRef("", "x")


def test_lineage_starts_at_a_pipeline_run_or_an_external_dataset_and_reads_the_new_kinds() -> None:
    assert _lineage.start_request("pipeline-run:pr_1")[1] == lineage_pb2.GetLineageGraphRequest(pipeline_run_id="pr_1")
    root, request = _lineage.start_request(tt.ExternalDataset("s3://raw", "k"))
    assert root == "external:s3://raw/k" and request.external == lineage_pb2.ExternalDatasetRef(namespace="s3://raw", name="k")
    _, full = _lineage.graph_request("pipeline-run:pr_1", depth=0, direction="both", kinds=["pipeline_step", "external_dataset"], max_nodes=0)
    assert list(full.kinds) == [lineage_pb2.LINEAGE_NODE_KIND_PIPELINE_STEP, lineage_pb2.LINEAGE_NODE_KIND_EXTERNAL_DATASET]
    response = lineage_pb2.GetLineageGraphResponse(
        nodes=[
            lineage_pb2.LineageGraphNode(kind=lineage_pb2.LINEAGE_NODE_KIND_PIPELINE_STEP, id="step:pr_1/train", pipeline_run_id="pr_1", step="train"),
            lineage_pb2.LineageGraphNode(kind=lineage_pb2.LINEAGE_NODE_KIND_EXTERNAL_DATASET, id="external:s3://raw/k", external=lineage_pb2.ExternalDatasetRef(namespace="s3://raw", name="k")),
        ],
        edges=[lineage_pb2.LineageGraphEdge(kind=lineage_pb2.LINEAGE_EDGE_KIND_TRACKED_AS, to="run:r")],
    )
    graph = _lineage.graph_from("pipeline-run:pr_1", response)
    assert graph.pipeline_steps == [("pr_1", "train")] and graph.external_datasets == [tt.ExternalDataset("s3://raw", "k")]
    assert graph.edges[0].kind == "tracked_as" and graph.nodes[0].kind == "pipeline_step"
    # An external dataset's node starts a graph of its own.
    assert _lineage.start_request(graph.nodes[1])[1].external.name == "k"


# --- the context managers -------------------------------------------------------------


def test_a_clean_pipeline_run_succeeds_and_a_raising_step_fails_with_its_message(fake: Tuple[Any, FakePipelineService]) -> None:
    client, service = fake
    pipe = client.pipelines.get_or_create("nightly", project="churn")
    with pytest.raises(ValueError, match="boom"):
        with pipe.run(params={"date": "2026-11-29", "n": 3}) as prun:
            with prun.step("extract", outputs=["s3://raw/k"]) as s:
                s.input("warehouse/public.customers")
            with prun.step("train", after=[s]):
                raise ValueError("boom")
    assert service.of("StartPipelineRun")[0].params == {"date": "2026-11-29", "n": "3"}
    assert service.started() == {("extract", 0): [], ("train", 0): ["extract"]}
    first, second = service.of("FinishStep")
    assert (first.status, [o.external.name for o in first.outputs]) == (pipeline_pb2.STEP_STATUS_SUCCEEDED, ["k"])
    assert (second.status, second.message, list(second.outputs)) == (pipeline_pb2.STEP_STATUS_FAILED, "ValueError: boom", [])
    assert service.of("RecordStepIO")[0].inputs[0].external.namespace == "warehouse"
    assert service.of("FinishPipelineRun")[0].status == pipeline_pb2.PIPELINE_RUN_STATUS_FAILED


def test_a_cached_step_says_so_and_is_not_finished_again(fake: Tuple[Any, FakePipelineService]) -> None:
    client, service = fake
    pipe = client.pipelines.get_or_create("nightly")
    ran = []
    for _ in range(2):
        with pipe.run() as prun, prun.step("features", cache_key="k1") as s:
            if not s.cached:
                ran.append(s.id)
    assert len(ran) == 1 and s.cached and s.cached_from == ran[0]
    assert len(service.of("FinishStep")) == 1
    assert [r.status for r in service.of("FinishPipelineRun")] == [pipeline_pb2.PIPELINE_RUN_STATUS_SUCCEEDED] * 2


def test_env_hands_the_run_and_step_to_another_process(fake: Tuple[Any, FakePipelineService], monkeypatch: pytest.MonkeyPatch) -> None:
    client, service = fake
    with client.pipelines.get_or_create("p").run() as prun:
        s = prun.start_step("remote")
        env = s.env()
        assert env == {"TRAINTRACK_STEP_ID": s.id, "TRAINTRACK_PIPELINE_RUN_ID": prun.id} and prun.env() == {"TRAINTRACK_PIPELINE_RUN_ID": prun.id}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    child = tt.current_step(client)
    assert child.id == s.id
    child.output("s3://out/x")
    child.finish()
    assert service.of("FinishStep")[-1].step_id == s.id and service.of("RecordStepIO")[-1].step_id == s.id
    monkeypatch.delenv("TRAINTRACK_STEP_ID")
    with pytest.raises(tt.FailedPrecondition, match="no current step"):
        tt.current_step(client)


# --- @tt.step -------------------------------------------------------------------------


@tt.step
def extract(day: str) -> Dict[str, str]:
    return {"day": day}


@tt.step
def split(rows: Dict[str, str]) -> Tuple[List[int], List[int], Dict[str, str]]:
    return [1, 2, 3], [4, 5], rows  # the input passed back is still extract's


@tt.step
def clean(rows: Dict[str, str]) -> Dict[str, str]:
    return dict(rows, clean="yes")  # holds extract's strings: they stay extract's


@tt.step(name="score")
def score_shard(rows: Dict[str, str], shard: int) -> str:
    return f"scores-{shard}"


@tt.step
def combine(parts: List[str], extra: Any = None) -> str:
    return "combined:" + ",".join(parts)


@tt.step
def report(value: int) -> int:
    return value


def test_decorated_steps_take_their_upstream_from_the_values_passed(fake: Tuple[Any, FakePipelineService]) -> None:
    client, service = fake
    with client.pipelines.get_or_create("p").run():
        rows = extract(f"2026-11-{29}")
        train, test, same_rows = split(rows)
        clean(same_rows)
        parts = [score_shard(rows, shard=i) for i in range(3)]
        combined = combine(parts, extra=test)
        report(1)  # a small int from nowhere: no upstream
    assert combined == "combined:scores-0,scores-1,scores-2"
    assert service.started() == {
        ("extract", 0): [],
        ("split", 0): ["extract"],
        ("clean", 0): ["extract"],
        ("score", 0): ["extract"],
        ("score", 1): ["extract"],
        ("score", 2): ["extract"],
        ("combine", 0): ["score", "split"],
        ("report", 0): [],
    }
    # Outside a pipeline run a decorated function is a plain function.
    assert extract("x") == {"day": "x"} and len(service.of("StartStep")) == 8


def test_a_fan_out_from_threads_counts_instances_once_each(fake: Tuple[Any, FakePipelineService]) -> None:
    client, service = fake
    with client.pipelines.get_or_create("p").run():
        rows = extract("d")
        with ThreadPoolExecutor(4) as pool:
            list(pool.map(lambda i: score_shard(rows, shard=i), range(10)))
    assert sorted(i for (name, i), up in service.started().items() if name == "score" and up == ["extract"]) == list(range(10))


def test_a_decorated_step_that_raises_fails_and_one_whose_key_matches_is_skipped(fake: Tuple[Any, FakePipelineService]) -> None:
    client, service = fake
    calls: List[int] = []

    @tt.step(cache_key=True)
    def expensive(n: int) -> List[int]:
        calls.append(n)
        assert tt.current_step().name == "expensive"
        return [n]

    @tt.step
    def broken(x: Any) -> None:
        raise RuntimeError("no disk")

    pipe = client.pipelines.get_or_create("p")
    with pipe.run():
        first = expensive(1000)
    with pytest.raises(RuntimeError):
        with pipe.run():
            again = expensive(1000)
            broken(again)
    assert calls == [1000] and isinstance(again, tt.CachedStep) and again.cached_from is not None
    assert service.started()[("broken", 0)] == ["expensive"]
    assert service.of("FinishStep")[-1].message == "RuntimeError: no disk"
    assert first == [1000]
    assert tt.source_hash(expensive.__wrapped__, (1,), {}) != tt.source_hash(expensive.__wrapped__, (2,), {})  # type: ignore[attr-defined]


# --- the terminal DAG and the CLI -----------------------------------------------------

T0 = datetime(2026, 11, 29, 1, 0, 0, tzinfo=timezone.utc)


def test_the_dag_is_drawn_by_layer_with_marks_timing_and_upstream() -> None:
    def step(name: str, status: str, seconds: float, count: int = 1, **by: int) -> tt.StepInfo:
        return tt.StepInfo(name, status, T0, T0 + timedelta(seconds=seconds), (), count, by or {status: count}, (), ())

    run = tt.PipelineRunInfo("pr_1", "nightly", "failed", T0, T0 + timedelta(minutes=5), "manual", {"date": "2026-11-29"}, {})
    failed = tt.StepInstance("i", 0, "failed", T0, T0, None, "", None, "ValueError: boom\ntraceback…")
    steps = (step("extract", "succeeded", 12.34), step("score", "failed", 250, 10, succeeded=9, failed=1), step("train", "skipped", 0))
    steps = steps[:1] + (tt.StepInfo(**{**steps[1].__dict__, "instances": (failed,)}),) + steps[2:]
    dag = tt.PipelineDAG(run, steps, ())
    graph = tt.PipelineGraph(
        "pr_1",
        (tt.PipelineGraphNode("extract", "extract", "succeeded", 1, 0), tt.PipelineGraphNode("score", "score", "failed", 10, 1), tt.PipelineGraphNode("train", "train", "skipped", 1, 2)),
        (tt.StepEdge("extract", "score"), tt.StepEdge("score", "train", from_data=True)),
    )
    text = draw(graph, dag)
    lines = text.splitlines()
    assert lines[0].startswith("nightly  run pr_1  failed  2026-11-29 01:00:00Z -> 2026-11-29 01:05:00Z  trigger: manual")
    assert lines[1] == "params: date=2026-11-29"
    body = [line.rstrip() for line in lines[3:10]]
    assert body[0] == "layer 0" and body[2] == "layer 1" and body[5] == "layer 2"
    assert "[+] extract" in body[1] and "12.3s" in body[1]
    assert "[x] score x10" in body[3] and "4m10s" in body[3] and "<- extract" in body[3] and "(9 succeeded, 1 failed)" in body[3]
    assert body[4].strip() == "! ValueError: boom"
    assert "[-] train" in body[6] and "<- score~" in body[6]
    assert draw(tt.PipelineGraph("pr_1")) == "(no steps yet)"


def test_the_cli_parses_pipelines_commands() -> None:
    from traintrack.cli.main import build_parser

    args = build_parser().parse_args(["pipelines", "show", "nightly", "--run", "plr_1", "--expand"])
    assert (args.name, args.run_id, args.expand, args.run.__name__) == ("nightly", "plr_1", True, "show_run")
    out, err = io.StringIO(), io.StringIO()
    assert main(["pipelines", "show"], env={}, stdout=out, stderr=err) == 2
    assert "NAME" in err.getvalue() or "required" in err.getvalue()
    err = io.StringIO()
    assert main(["pipelines", "ls", "--limit", "x"], env={}, stdout=out, stderr=err) == 2
    assert main(["pipelines", "--help"], env={}, stdout=out, stderr=io.StringIO()) == 0
