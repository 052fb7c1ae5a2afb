"""``PipelineStep``: one step (or one instance of a fan-out step) of a pipeline run, live.

A ``with`` block cannot skip its own body, so a cached step says so and the body decides::

    with prun.step("features", cache_key=key) as s:
        if not s.cached:          # an earlier succeeded instance had this key: its outputs count
            build_features()
"""

from __future__ import annotations

import contextvars
import logging
from types import TracebackType
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional, Type, Union

from ._gen.v1 import pipeline_pb2
from ._pipeline_io import StepIOLike, to_proto
from ._pipeline_models import StepInstance, step_status
from .errors import InvalidArgument, TraintrackError

if TYPE_CHECKING:
    from ._pipeline_run import PipelineRun
    from .client import Client
    from .dataset import VersionLike
    from .runs import Run

log = logging.getLogger("traintrack")

#: ``run=`` of a step: False (none), True (start one for the step), or a Run or run id to link.
StepRunOption = Union[bool, "Run", str]
#: FinishStep's limit on a failure's message, in bytes.
_MESSAGE_BYTES = 4096

_current: "contextvars.ContextVar[Optional[PipelineStep]]" = contextvars.ContextVar("traintrack_pipeline_step", default=None)


def current_step_in_context() -> Optional["PipelineStep"]:
    """The step of the innermost ``with prun.step()`` (or ``@tt.step`` call) of this context, else None."""
    return _current.get()


def failure_message(error: BaseException) -> str:
    """``"ValueError: boom"``, cut to FinishStep's 4,096 bytes without splitting a character."""
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text.encode("utf-8")[:_MESSAGE_BYTES].decode("utf-8", errors="ignore")


class PipelineStep:
    """A step of a pipeline run: started on ``with`` (or ``start()``), finished when the block ends.

    Attributes:
        name, instance: The step and its instance (0 unless a fan-out).
        id: The step instance's id (after start), which ``s.env()`` hands to another process.
        cached: True when its cache key matched an earlier succeeded instance: skip the work.
        run: The Traintrack run tracking it (``run=True``), or None.

    The block ending cleanly finishes it SUCCEEDED with the declared ``outputs``; an exception
    finishes it FAILED with the exception's message, and propagates.
    """

    def __init__(
        self, client: "Client", prun: Optional["PipelineRun"], name: str, *, after: Iterable[Union[str, "PipelineStep"]] = (),
        inputs: Iterable[StepIOLike] = (), outputs: Iterable[StepIOLike] = (), run: StepRunOption = False,
        cache_key: Optional[str] = None, instance: int = 0, step_id: Optional[str] = None, pending: bool = False,
    ) -> None:  # fmt: skip
        if isinstance(run, bool) and run and prun is None:
            raise InvalidArgument("run=True needs the step's pipeline run")
        self._client = client
        self._t = client._transport
        self._prun = prun
        self.name = name
        self.instance = instance
        self._upstream = [a.name if isinstance(a, PipelineStep) else str(a) for a in after]
        self._inputs = [to_proto(i) for i in inputs]  # checked now: a bad item fails before anything starts
        self._outputs = [to_proto(o) for o in outputs]
        self._run_option = run
        self._cache_key = cache_key or ""
        self._pending = pending
        self.run: Optional["Run"] = run if not isinstance(run, (bool, str)) else None
        self.id: Optional[str] = step_id
        self.cached = False
        self.info: Optional[StepInstance] = None
        self._owned_run = False
        self._finished = False
        self._tokens: List["contextvars.Token[Optional[PipelineStep]]"] = []

    def __repr__(self) -> str:
        return f"PipelineStep(name={self.name!r}, instance={self.instance}, id={self.id!r}, cached={self.cached})"

    def start(self) -> "PipelineStep":
        """StartStep (by pipeline run, name and instance: a retry finds the same instance); a started step is left as it is."""
        if self.id is not None:
            return self
        assert self._prun is not None
        run_id = self._run_option if isinstance(self._run_option, str) else ""
        if self._run_option is True:
            self.run = self._client.start_run(
                self._prun._step_project(), self._prun._step_experiment(), name=self.name if self.instance == 0 else f"{self.name}[{self.instance}]",
                tags={"pipeline": self._prun.pipeline, "pipeline_run": self._prun.id, "step": self.name},
            )  # fmt: skip
            self._owned_run = True
        if self.run is not None:
            run_id = self.run.id
        request = pipeline_pb2.StartStepRequest(
            pipeline_run_id=self._prun.id, name=self.name, instance=self.instance, upstream=self._upstream,
            cache_key=self._cache_key, run_id=run_id, inputs=self._inputs, pending=self._pending,
        )  # fmt: skip
        try:
            response = self._t.call(self._t.pipelines.StartStep, request, what=f"StartStep {self.name}")
        except BaseException:
            if self._owned_run and self.run is not None:
                self.run.finish("failed")  # a run for a step that never started
            raise
        self.info = StepInstance._from_proto(response.step)
        self.id = self.info.id
        self.cached = response.cached
        return self

    @property
    def cached_from(self) -> Optional[str]:
        """For a cached step: the id of the instance whose result it reuses."""
        return self.info.cached_from if self.info else None

    def input(self, *items: StepIOLike) -> None:
        """Records what the step read (RecordStepIO): dataset or model versions, run artefacts, external datasets, strings."""
        self._record(inputs=[to_proto(i) for i in items])

    def output(self, *items: StepIOLike) -> None:
        """Records what the step wrote (RecordStepIO), at once: lineage has it even if the step fails later."""
        self._record(outputs=[to_proto(o) for o in items])

    def use_dataset(self, *versions: "VersionLike") -> None:
        """Records Traintrack dataset versions the step read (a DatasetVersion, tt.DatasetRef, ("name", "version"), "name@version")."""
        from .dataset import as_ref

        self.input(*(as_ref(v) for v in versions))

    def _record(self, *, inputs: Iterable[pipeline_pb2.StepIO] = (), outputs: Iterable[pipeline_pb2.StepIO] = ()) -> None:
        request = pipeline_pb2.RecordStepIORequest(step_id=self._started_id(), inputs=list(inputs), outputs=list(outputs))
        if request.inputs or request.outputs:
            self._t.call(self._t.pipelines.RecordStepIO, request, what=f"RecordStepIO {self.name}")

    def env(self) -> Dict[str, str]:
        """``{"TRAINTRACK_PIPELINE_RUN_ID": …, "TRAINTRACK_STEP_ID": …}`` for a child process; there ``tt.current_step()`` is this step."""
        from ._pipeline_run import ENV_PIPELINE_RUN_ID, ENV_STEP_ID

        found = {ENV_STEP_ID: self._started_id()}
        if self._prun is not None:
            found[ENV_PIPELINE_RUN_ID] = self._prun.id
        return found

    def finish(self, status: str = "succeeded", *, message: str = "", outputs: Iterable[StepIOLike] = ()) -> StepInstance:
        """Ends the step: ``"succeeded"``, ``"failed"`` or ``"skipped"``, with ``outputs`` (added to those declared).

        A run it started (``run=True``) is finished with it: "finished", or "failed".
        Finishing again with the same status is a no-op on the server.
        """
        code = step_status(status)
        if self._owned_run and self.run is not None:
            self.run.finish("finished" if status == "succeeded" else "failed")
        sent = self._outputs + [to_proto(o) for o in outputs] if status == "succeeded" else []
        request = pipeline_pb2.FinishStepRequest(step_id=self._started_id(), status=code, outputs=sent, message=message)
        self.info = StepInstance._from_proto(self._t.call(self._t.pipelines.FinishStep, request, what=f"FinishStep {self.name}").step)
        self._finished = True
        return self.info

    def _started_id(self) -> str:
        if self.id is None:
            self.start()
        assert self.id is not None
        return self.id

    def __enter__(self) -> "PipelineStep":
        self.start()
        self._tokens.append(_current.set(self))
        return self

    def __exit__(self, kind: Optional[Type[BaseException]], error: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        _current.reset(self._tokens.pop())
        if self._finished:
            return  # the body finished it itself
        if error is None:
            if self.cached:
                self._end_cached_run()
                return  # the server recorded it cached, outputs and all
            self.finish("succeeded")
            return
        try:
            self.finish("failed", message=failure_message(error))
        except TraintrackError as failure:
            # The block's own exception propagates; this one is only logged.
            log.error("step %s: recording its failure failed: %s", self.name, failure)

    def _end_cached_run(self) -> None:
        if self._owned_run and self.run is not None:
            try:
                self.run.set_tags({"cached_from": self.cached_from or ""})
                self.run.finish("finished")
            except TraintrackError as failure:
                log.warning("step %s: ending the run of a cached step failed: %s", self.name, failure)
