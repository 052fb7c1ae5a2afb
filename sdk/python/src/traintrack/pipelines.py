"""``client.pipelines``: pipelines, their runs and each run's DAG of steps (PipelineService).

Example::

    pipe = client.pipelines.get_or_create("nightly-churn", project="churn")
    with pipe.run(params={"date": "2026-11-29"}) as prun:
        with prun.step("extract", outputs=["s3://raw/churn/2026-11-29"]) as s: ...
        with prun.step("train", after=["extract"], run=True) as s:   # the step is also a tracked run
            s.run.log({"auc": 0.93})
    client.pipelines.get_run(prun.id).steps          # status, timing, upstream, inputs, outputs
    prun.graph().to_mermaid()

Steps in another process: pass ``s.env()`` (or ``prun.env()``) into its environment; there,
``tt.current_step()`` (or ``client.pipelines.current_run()``) picks them up.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING, Iterator, Mapping, Optional

from ._gen.v1 import pipeline_pb2
from ._models import to_datetime
from ._pages import paged
from ._pipeline_models import PipelineDAG, PipelineGraph, PipelineRunInfo, StepEdge, StepInfo
from ._pipeline_run import ENV_PIPELINE_RUN_ID, ENV_STEP_ID, PipelineRun, current_pipeline_run
from ._pipeline_step import PipelineStep, current_step_in_context
from .errors import AlreadyExists, FailedPrecondition

if TYPE_CHECKING:
    from .client import Client


class Pipeline:
    """A pipeline: ``run()`` starts a run of it, ``runs()`` lists them.

    Attributes:
        name, project, description: As created.
        namespace: OpenLineage's job namespace, for pipelines recorded from OpenLineage events.
        created_at: When it was created (UTC).
    """

    def __init__(self, client: "Client", p: pipeline_pb2.Pipeline) -> None:
        self._client = client
        self.name: str = p.name
        self.project: str = p.project
        self.description: str = p.description
        self.namespace: str = p.namespace
        self.created_at: Optional[datetime] = to_datetime(p.created_at)

    def __repr__(self) -> str:
        return f"Pipeline(name={self.name!r}, project={self.project!r})"

    def run(self, *, params: Optional[Mapping[str, object]] = None, trigger: str = "", request_id: Optional[str] = None) -> PipelineRun:
        """A run of this pipeline, started on ``with`` (or first use), finished when the block ends.

        Args:
            params: The run's parameters (values stored as ``str(value)``).
            trigger: What started it: ``"schedule"``, ``"manual"``, an orchestrator's run id…
            request_id: Makes a retried start return the run started first (e.g. an orchestrator's
                run id, so a re-executed driver records into the same run); by default fresh.
        """
        return PipelineRun(self._client, self.name, project=self.project, params=params, trigger=trigger, request_id=request_id)

    def runs(self, *, page_size: int = 100) -> Iterator[PipelineRunInfo]:
        """Its runs, newest first; paged lazily."""
        return self._client.pipelines.runs(self.name, page_size=page_size)


class Pipelines:
    """Pipelines and their runs, as ``client.pipelines``; see the module's example."""

    def __init__(self, client: "Client") -> None:
        self._client = client
        self._t = client._transport
        self._env_step: Optional[PipelineStep] = None

    def create(self, name: str, *, project: Optional[str] = None, description: str = "") -> Pipeline:
        """Creates a pipeline; a retry with the same project and description returns it, anything else by that name is AlreadyExists."""
        request = pipeline_pb2.CreatePipelineRequest(name=name, project=project or "", description=description)
        return Pipeline(self._client, self._t.call(self._t.pipelines.CreatePipeline, request, what="CreatePipeline").pipeline)

    def get_or_create(self, name: str, *, project: Optional[str] = None, description: str = "") -> Pipeline:
        """The pipeline ``name``, created (in ``project``) when missing; an existing one is returned as it is."""
        try:
            return self.create(name, project=project, description=description)
        except AlreadyExists:
            return self.get(name)

    def get(self, name: str) -> Pipeline:
        """A pipeline by name; NotFound when absent."""
        request = pipeline_pb2.GetPipelineRequest(name=name)
        return Pipeline(self._client, self._t.call(self._t.pipelines.GetPipeline, request, what="GetPipeline").pipeline)

    def list(self, project: Optional[str] = None, *, page_size: int = 100) -> Iterator[Pipeline]:
        """The pipelines (of ``project``) by name; paged lazily."""

        def fetch(token: str) -> pipeline_pb2.ListPipelinesResponse:
            request = pipeline_pb2.ListPipelinesRequest(project=project or "", page_size=page_size, page_token=token)
            page: pipeline_pb2.ListPipelinesResponse = self._t.call(self._t.pipelines.ListPipelines, request, what="ListPipelines")
            return page

        return paged(fetch, lambda page: page.pipelines, lambda p: Pipeline(self._client, p))

    def runs(self, name: str, *, page_size: int = 100) -> Iterator[PipelineRunInfo]:
        """The runs of pipeline ``name``, newest first; paged lazily."""

        def fetch(token: str) -> pipeline_pb2.ListPipelineRunsResponse:
            request = pipeline_pb2.ListPipelineRunsRequest(pipeline=name, page_size=page_size, page_token=token)
            page: pipeline_pb2.ListPipelineRunsResponse = self._t.call(self._t.pipelines.ListPipelineRuns, request, what="ListPipelineRuns")
            return page

        return paged(fetch, lambda page: page.runs, PipelineRunInfo._from_proto)

    def start_run(
        self, name: str, *, project: Optional[str] = None, params: Optional[Mapping[str, object]] = None, trigger: str = "", request_id: Optional[str] = None,
    ) -> PipelineRun:  # fmt: skip
        """A run of pipeline ``name``, which the server creates (in ``project``) when missing; see Pipeline.run."""
        return PipelineRun(self._client, name, project=project, params=params, trigger=trigger, request_id=request_id, create_pipeline=True)

    def get_run(self, pipeline_run_id: str, *, expand_instances: bool = False) -> PipelineDAG:
        """A run with its DAG: steps (topological order) with status, timing, upstream, instances by status, inputs and outputs; edges.

        ``expand_instances=True`` also lists each step's instances (``step.instances``).
        """
        request = pipeline_pb2.GetPipelineRunRequest(pipeline_run_id=pipeline_run_id, expand_instances=expand_instances)
        r = self._t.call(self._t.pipelines.GetPipelineRun, request, what="GetPipelineRun")
        return PipelineDAG(PipelineRunInfo._from_proto(r.run), tuple(StepInfo._from_proto(s) for s in r.steps), tuple(StepEdge._from_proto(e) for e in r.edges))

    def graph(self, pipeline_run_id: str, *, expand: bool = False) -> PipelineGraph:
        """A run's DAG for drawing: nodes with their layer, edges, Mermaid and DOT text; ``expand`` gives one node per fan-out instance."""
        request = pipeline_pb2.GetPipelineGraphRequest(pipeline_run_id=pipeline_run_id, expand=expand)
        return PipelineGraph._from_proto(pipeline_run_id, self._t.call(self._t.pipelines.GetPipelineGraph, request, what="GetPipelineGraph"), expand)

    def attach(self, pipeline_run_id: str) -> PipelineRun:
        """A run started elsewhere (another process, an orchestrator), to record steps into; it is not finished by this process
        unless you call ``finish()`` or use it in a ``with`` block."""
        info = self.get_run(pipeline_run_id).run
        return PipelineRun(self._client, info.pipeline, info=info)

    def current_run(self) -> PipelineRun:
        """The pipeline run of the innermost ``with pipe.run()``, else the one TRAINTRACK_PIPELINE_RUN_ID names (``prun.env()``).

        FailedPrecondition when there is neither.
        """
        found = current_pipeline_run()
        if found is not None:
            return found
        run_id = os.environ.get(ENV_PIPELINE_RUN_ID)
        if not run_id:
            raise FailedPrecondition(f"no current pipeline run: use it inside 'with pipe.run()', or set {ENV_PIPELINE_RUN_ID} (prun.env())")
        return self.attach(run_id)

    def current_step(self) -> PipelineStep:
        """The step of the innermost ``with prun.step()`` or ``@tt.step`` call, else the one TRAINTRACK_STEP_ID names (``s.env()``).

        In a child process the step came started: record its IO, then ``finish()`` it (or use it in a ``with`` block,
        which finishes it succeeded, or failed when the block raises). FailedPrecondition when there is none.
        """
        found = current_step_in_context()
        if found is not None:
            return found
        step_id = os.environ.get(ENV_STEP_ID)
        if not step_id:
            raise FailedPrecondition(f"no current step: use it inside 'with prun.step()' or a @tt.step function, or set {ENV_STEP_ID} (s.env())")
        if self._env_step is None or self._env_step.id != step_id:
            self._env_step = self.step_by_id(step_id)  # one object per process, however often it is asked for
        return self._env_step

    def step_by_id(self, step_id: str) -> PipelineStep:
        """A started step instance by id, to record IO and finish it from wherever."""
        return PipelineStep(self._client, None, f"step {step_id}", step_id=step_id)
