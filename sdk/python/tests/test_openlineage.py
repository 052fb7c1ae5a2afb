"""OpenLineage intake (POST /api/v1/lineage) fed by the real producer, openlineage-python.

Its HttpTransport sends a three-step pipeline under a parent run (START and
COMPLETE for the parent and for each child; inputs and outputs that make
extract -> transform -> load), with the test's API key as a Bearer token; the
DAG is then read back through GetPipelineRun. The same pipeline sent again,
reordered and with every event twice, must read back the same.
"""

from __future__ import annotations

import sys
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

import grpc
import pytest
from support.server import ServerProcess, unique

from traintrack._gen.v1 import pipeline_pb2, pipeline_pb2_grpc

if sys.version_info < (3, 10):
    pytest.skip("openlineage-python is pinned for Python 3.10 or newer", allow_module_level=True)

from openlineage.client import OpenLineageClient  # noqa: E402
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState  # noqa: E402
from openlineage.client.facet_v2 import job_type_job, parent_run, schema_dataset  # noqa: E402
from openlineage.client.transport.http import HttpConfig, HttpTransport  # noqa: E402

PRODUCER = "https://github.com/traintrack/sdk/python/tests"
T0 = datetime(2026, 11, 30, 1, 0, tzinfo=timezone.utc)


def at(minutes: int) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def lineage_client(server: ServerProcess) -> OpenLineageClient:
    """openlineage-python pointed at the server, as Airflow's or Spark's transport config would point it."""
    config = HttpConfig.from_dict({"url": server.url, "endpoint": "api/v1/lineage", "auth": {"type": "api_key", "apiKey": server.api_key}})
    return OpenLineageClient(transport=HttpTransport(config))


def pipeline_events(dag: str) -> List[RunEvent]:
    """The parent run of ``dag`` and its steps extract -> transform -> load, in the order they happen."""
    parent_id = str(uuid.uuid4())
    parent_job = Job(namespace="airflow", name=dag)
    parent_facet = parent_run.ParentRunFacet(
        run=parent_run.Run(runId=parent_id), job=parent_run.Job(namespace="airflow", name=dag)
    )
    task = {"jobType": job_type_job.JobTypeJobFacet(processingType="BATCH", integration="AIRFLOW", jobType="TASK")}
    orders = InputDataset(
        namespace="postgres://db:5432",
        name="shop.public.orders",
        facets={"schema": schema_dataset.SchemaDatasetFacet(fields=[schema_dataset.SchemaDatasetFacetFields(name="id", type="int")])},
    )
    raw = f"orders/{dag}"

    def child(name: str, start: int, inputs: List[InputDataset], outputs: List[OutputDataset]) -> List[RunEvent]:
        run = Run(runId=str(uuid.uuid4()), facets={"parent": parent_facet})
        job = Job(namespace="airflow", name=name, facets=task)
        return [
            RunEvent(eventType=RunState.START, eventTime=at(start), run=run, job=job, producer=PRODUCER, inputs=inputs),
            RunEvent(eventType=RunState.COMPLETE, eventTime=at(start + 1), run=run, job=job, producer=PRODUCER, inputs=inputs, outputs=outputs),
        ]

    parent = Run(runId=parent_id)
    return [
        RunEvent(eventType=RunState.START, eventTime=at(0), run=parent, job=parent_job, producer=PRODUCER),
        *child("extract", 1, [orders], [OutputDataset(namespace="s3://raw", name=raw)]),
        *child("transform", 3, [InputDataset(namespace="s3://raw", name=raw)], [OutputDataset(namespace="s3://clean", name=raw)]),
        *child("load", 5, [InputDataset(namespace="s3://clean", name=raw)], [OutputDataset(namespace="snowflake://acme", name="analytics.orders")]),
        RunEvent(eventType=RunState.COMPLETE, eventTime=at(7), run=parent, job=parent_job, producer=PRODUCER),
    ]


def io_names(items: Any) -> List[str]:
    """Each input or output as "<namespace> <name>" (external datasets), or its kind."""
    return [f"{x.external.namespace} {x.external.name}" if x.WhichOneof("ref") == "external" else str(x.WhichOneof("ref")) for x in items]


def dag_of(server: ServerProcess, dag: str) -> Dict[str, Any]:
    """The one run of pipeline ``dag`` through GetPipelineRun, with the pipeline's name written as DAG."""
    auth = (("authorization", f"Bearer {server.api_key}"),)
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = pipeline_pb2_grpc.PipelineServiceStub(channel)
        runs = stub.ListPipelineRuns(pipeline_pb2.ListPipelineRunsRequest(pipeline=dag), metadata=auth, timeout=30).runs
        assert len(runs) == 1, f"one pipeline run expected for {dag}, got {len(runs)}"
        got = stub.GetPipelineRun(pipeline_pb2.GetPipelineRunRequest(pipeline_run_id=runs[0].id), metadata=auth, timeout=30)
    steps = [
        {
            "name": s.name,
            "status": pipeline_pb2.StepStatus.Name(s.status),
            "start": s.start_time.ToJsonString(),
            "end": s.end_time.ToJsonString(),
            "inputs": [i.replace(dag, "DAG") for i in io_names(s.inputs)],
            "outputs": [o.replace(dag, "DAG") for o in io_names(s.outputs)],
        }
        for s in got.steps
    ]
    return {
        "status": pipeline_pb2.PipelineRunStatus.Name(got.run.status),
        "start": got.run.start_time.ToJsonString(),
        "end": got.run.end_time.ToJsonString(),
        "steps": steps,
        # "from" is a Python keyword: the generated field is reached with getattr.
        "edges": sorted(f"{getattr(e, 'from')} -> {e.to}{' (data)' if e.from_data else ''}" for e in got.edges),
    }


def test_openlineage_python_pipeline_reads_back_as_a_dag_whatever_the_order(server: ServerProcess) -> None:
    client = lineage_client(server)
    in_order, shuffled = unique("etl"), unique("etl")
    first = pipeline_events(in_order)
    for event in first:
        client.emit(event)
    events = pipeline_events(shuffled)
    # Ends before starts, children before their parent, every event twice.
    for event in [*reversed(events), *events[::2], *events[1::2]]:
        client.emit(event)

    got = dag_of(server, in_order)
    assert got == {
        "status": "PIPELINE_RUN_STATUS_SUCCEEDED",
        "start": "2026-11-30T01:00:00Z",
        "end": "2026-11-30T01:07:00Z",
        "steps": [
            {"name": "extract", "status": "STEP_STATUS_SUCCEEDED", "start": "2026-11-30T01:01:00Z", "end": "2026-11-30T01:02:00Z",
             "inputs": ["postgres://db:5432 shop.public.orders"], "outputs": ["s3://raw orders/DAG"]},
            {"name": "transform", "status": "STEP_STATUS_SUCCEEDED", "start": "2026-11-30T01:03:00Z", "end": "2026-11-30T01:04:00Z",
             "inputs": ["s3://raw orders/DAG"], "outputs": ["s3://clean orders/DAG"]},
            {"name": "load", "status": "STEP_STATUS_SUCCEEDED", "start": "2026-11-30T01:05:00Z", "end": "2026-11-30T01:06:00Z",
             "inputs": ["s3://clean orders/DAG"], "outputs": ["snowflake://acme analytics.orders"]},
        ],
        "edges": ["extract -> transform (data)", "transform -> load (data)"],
    }
    assert dag_of(server, shuffled) == got
    # The first run's own events again, reordered: nothing changes, and no second run appears.
    for event in reversed(first):
        client.emit(event)
    assert dag_of(server, in_order) == got


def test_openlineage_python_with_a_bad_key_is_refused(server: ServerProcess) -> None:
    config = HttpConfig.from_dict({"url": server.url, "endpoint": "api/v1/lineage", "auth": {"type": "api_key", "apiKey": "tt_not_a_key"}, "retry": {"total": 0}})
    client = OpenLineageClient(transport=HttpTransport(config))
    with pytest.raises(Exception, match="401"):
        client.emit(pipeline_events(unique("refused"))[0])
