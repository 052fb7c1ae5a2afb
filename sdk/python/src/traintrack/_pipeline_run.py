"""``PipelineRun``: a live run of a pipeline, its steps started from it, and which run is current.

The current pipeline run (the innermost ``with pipe.run()`` block) is what ``@tt.step`` functions
record into. It is a context variable, so concurrent asyncio tasks keep theirs apart; a thread
started inside the block (a ThreadPoolExecutor's worker, say) does not inherit context variables,
so it falls back to the pipeline run entered last in the process while one is open.
"""

from __future__ import annotations

import contextvars
import logging
import re
import threading
import uuid
from types import TracebackType
from typing import TYPE_CHECKING, Dict, Iterable, List, Mapping, Optional, Type, Union

from ._gen.v1 import pipeline_pb2
from ._pipeline_bulk import StepRecord, record_steps
from ._pipeline_io import StepIOLike
from ._pipeline_models import PipelineDAG, PipelineGraph, PipelineRunInfo, StepInstance, run_status
from ._pipeline_step import PipelineStep, StepRunOption
from .errors import TraintrackError

if TYPE_CHECKING:
    from .client import Client

log = logging.getLogger("traintrack")

#: The environment variables that carry a pipeline run and a step into another process.
ENV_PIPELINE_RUN_ID = "TRAINTRACK_PIPELINE_RUN_ID"
ENV_STEP_ID = "TRAINTRACK_STEP_ID"

_current: "contextvars.ContextVar[Optional[PipelineRun]]" = contextvars.ContextVar("traintrack_pipeline_run", default=None)
_open: List["PipelineRun"] = []
_open_lock = threading.Lock()
# An experiment name, as the server checks it: what a pipeline's name becomes for a step's run.
_NOT_EXPERIMENT = re.compile(r"[^A-Za-z0-9._-]")


def current_pipeline_run() -> Optional["PipelineRun"]:
    """The innermost ``with pipe.run()`` of this context, else the one entered last in the process, else None."""
    found = _current.get()
    if found is not None:
        return found
    with _open_lock:
        return _open[-1] if _open else None


class PipelineRun:
    """A run of a pipeline, started on ``with`` (or first use) and finished when the block ends.

    Example::

        with pipe.run(params={"date": "2026-11-29"}) as prun:
            with prun.step("extract", outputs=["s3://raw/churn/2026-11-29"]) as s: ...
        prun.id, prun.status            # "succeeded"; "failed" when the block raised

    The run ends SUCCEEDED when the block ends cleanly, FAILED when it raises (the exception
    propagates), ABORTED on Ctrl-C. ``prun.env()`` hands it to another process.
    """

    def __init__(
        self, client: "Client", pipeline: str, *, project: Optional[str] = None, params: Optional[Mapping[str, object]] = None,
        trigger: str = "", request_id: Optional[str] = None, create_pipeline: bool = False, info: Optional[PipelineRunInfo] = None,
    ) -> None:  # fmt: skip
        self._client = client
        self._t = client._transport
        self.pipeline = pipeline
        self._project = project
        self._request = pipeline_pb2.StartPipelineRunRequest(
            pipeline=pipeline, trigger=trigger, params={str(k): str(v) for k, v in (params or {}).items()},
            request_id=request_id or str(uuid.uuid4()), create_pipeline=create_pipeline, project=project or "",
        )  # fmt: skip
        self._info = info
        self._tokens: List["contextvars.Token[Optional[PipelineRun]]"] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PipelineRun(pipeline={self.pipeline!r}, id={self._info.id if self._info else None!r})"

    def start(self) -> "PipelineRun":
        """Starts the run (StartPipelineRun) unless it has started; a retry returns the run started first."""
        with self._lock:
            if self._info is None:
                response = self._t.call(self._t.pipelines.StartPipelineRun, self._request, what="StartPipelineRun")
                self._info = PipelineRunInfo._from_proto(response.run)
        return self

    @property
    def id(self) -> str:
        """The pipeline run's id, as the API knows it."""
        return self.info.id

    @property
    def info(self) -> PipelineRunInfo:
        """The run as last read (started, finished or refreshed)."""
        self.start()
        assert self._info is not None
        return self._info

    @property
    def status(self) -> str:
        return self.info.status

    def step(
        self, name: str, *, after: Iterable[Union[str, PipelineStep]] = (), inputs: Iterable[StepIOLike] = (), outputs: Iterable[StepIOLike] = (),
        run: StepRunOption = False, cache_key: Optional[str] = None, instance: int = 0,
    ) -> PipelineStep:  # fmt: skip
        """A step of this run, started on ``with`` (or ``.start()``) and finished when the block ends.

        Args:
            after: The steps it comes after (names or steps); they must have started.
            inputs: Read by it, sent with StartStep. ``outputs``: written by it, sent when it succeeds.
                Each is a DatasetVersion, ModelVersion, tt.RunArtefactRef, tt.ExternalDataset or a
                string (an external dataset: ``"s3://bucket/path"``; see tt.ExternalDataset).
            run: True starts a Traintrack run for the step (project: the pipeline's, experiment: its
                name), as ``s.run``, finished with the step; or an existing Run (or run id) to link.
            cache_key: e.g. the hash of its code and inputs: when an earlier succeeded instance of
                this pipeline had the same key, the step is recorded as cached and ``s.cached`` is True.
            instance: The instance of a fan-out step (0, 1, 2 …).
        """
        return PipelineStep(self._client, self, name, after=after, inputs=inputs, outputs=outputs, run=run, cache_key=cache_key, instance=instance)

    def start_step(
        self, name: str, *, after: Iterable[Union[str, PipelineStep]] = (), inputs: Iterable[StepIOLike] = (), run: StepRunOption = False,
        cache_key: Optional[str] = None, instance: int = 0,
    ) -> PipelineStep:  # fmt: skip
        """A step started now and left running: another process finishes it (``s.env()``, then ``tt.current_step()`` there)."""
        return self.step(name, after=after, inputs=inputs, run=run, cache_key=cache_key, instance=instance).start()

    def declare(self, name: str, *, after: Iterable[Union[str, PipelineStep]] = (), instance: int = 0) -> PipelineStep:
        """Records a step as pending (waiting) before it runs, so that the DAG shows it from the start and a failure
        upstream leaves it skipped when the run finishes. Run it later with ``prun.step(name)``."""
        step = PipelineStep(self._client, self, name, after=after, instance=instance, pending=True)
        return step.start()

    def record_steps(self, records: Iterable[Union[StepRecord, "pipeline_pb2.RecordedStep"]]) -> List[StepInstance]:
        """Records many steps at once (RecordSteps), in order: for orchestrators and importers that know
        steps after the fact, far faster than a ``with prun.step(...)`` per step.

        Each ``tt.StepRecord`` is one instance as far as it got; its ``after`` steps must come earlier in
        the list or have started before. Sent a call per 1,000 steps, each call one transaction and
        idempotent (a retry finds the instances it recorded; the first end of each wins). Returns the
        instances as recorded, in order (a cache hit is ``"cached"``).

        Example::

            prun.record_steps([tt.StepRecord("extract"), tt.StepRecord("train", after=["extract"], status="failed")])
        """
        return record_steps(self._t, self.id, records)

    def env(self) -> Dict[str, str]:
        """``{"TRAINTRACK_PIPELINE_RUN_ID": id}``: add it to a child process's environment to record steps of this run there."""
        return {ENV_PIPELINE_RUN_ID: self.id}

    def dag(self, *, expand_instances: bool = False) -> PipelineDAG:
        """The run with its steps, edges, inputs and outputs, as the server has them now."""
        dag = self._client.pipelines.get_run(self.id, expand_instances=expand_instances)
        self._info = dag.run
        return dag

    def graph(self, *, expand: bool = False) -> PipelineGraph:
        """The run's DAG (fan-outs collapsed, or one node per instance) with its Mermaid and DOT text."""
        return self._client.pipelines.graph(self.id, expand=expand)

    def finish(self, status: str = "succeeded") -> PipelineRunInfo:
        """Ends the run: ``"succeeded"``, ``"failed"`` or ``"aborted"``. Finishing again with the same status is a no-op."""
        request = pipeline_pb2.FinishPipelineRunRequest(pipeline_run_id=self.id, status=run_status(status))
        self._info = PipelineRunInfo._from_proto(self._t.call(self._t.pipelines.FinishPipelineRun, request, what="FinishPipelineRun").run)
        return self._info

    def _step_project(self) -> str:
        """The project a step's run goes to: the pipeline's (read when unknown), else "pipelines"."""
        if self._project is None:
            self._project = self._client.pipelines.get(self.pipeline).project
        return self._project or "pipelines"

    def _step_experiment(self) -> str:
        return _NOT_EXPERIMENT.sub("_", self.pipeline)[:128] or "pipeline"

    def __enter__(self) -> "PipelineRun":
        self.start()
        self._tokens.append(_current.set(self))
        with _open_lock:
            _open.append(self)
        return self

    def __exit__(self, kind: Optional[Type[BaseException]], error: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        _current.reset(self._tokens.pop())
        with _open_lock:
            _open.remove(self)
        if error is None:
            self.finish("succeeded")
            return
        status = "aborted" if isinstance(error, KeyboardInterrupt) else "failed"
        try:
            self.finish(status)
        except TraintrackError as failure:
            log.error("pipeline run %s: ending it as %s failed: %s", self.id, status, failure)
