"""Recording many steps of a pipeline run at once (RecordSteps): for orchestrators, importers and benchmarks.

Each ``tt.StepRecord`` is one step instance as far as it got (started, or ended with its status);
``prun.record_steps(records)`` sends them in order, a call per 1,000 steps (the server's limit per
call, with 10,000 upstream names and 10,000 inputs and outputs), so a step's upstream steps must
come before it in the list or have started earlier. Each call is one transaction on the server
and idempotent: a retry finds the instances it recorded, and the first end of each wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Iterable, List, Optional, Sequence, Union

from ._gen.v1 import pipeline_pb2
from ._pipeline_io import StepIOLike, to_proto
from ._pipeline_models import StepInstance, step_status
from ._roles import timestamp
from .errors import InvalidArgument

if TYPE_CHECKING:
    from ._transport import Transport

#: RecordSteps's limits per call (pipeline.proto).
MAX_STEPS_PER_CALL = 1000
MAX_UPSTREAM_NAMES_PER_CALL = 10_000
MAX_IO_PER_CALL = 10_000

_STATUSES = ("running", "pending", "succeeded", "failed", "skipped")


@dataclass
class StepRecord:
    """One step instance for ``prun.record_steps``.

    Example::

        prun.record_steps([
            tt.StepRecord("extract", outputs=["s3://raw/2026-11-29"]),
            tt.StepRecord("train", after=["extract"], status="failed", message="CUDA out of memory"),
        ])

    ``status``: ``"succeeded"`` (the default), ``"failed"``, ``"skipped"`` (ended), or ``"running"``,
    ``"pending"`` (started, ended by a later record or call). ``start_time``/``end_time``: when it
    started and ended (the server's time when None). ``cache_key`` works as in ``prun.step``.
    """

    name: str
    after: Sequence[str] = ()
    status: str = "succeeded"
    instance: int = 0
    inputs: Sequence[StepIOLike] = ()
    outputs: Sequence[StepIOLike] = ()
    cache_key: str = ""
    run_id: str = ""
    start_time: Optional[datetime] = None
    end_time: Optional[datetime] = None
    message: str = ""

    def _to_proto(self) -> pipeline_pb2.RecordedStep:
        if self.status not in _STATUSES:
            raise InvalidArgument(f"step {self.name!r}: status must be one of {', '.join(_STATUSES)}, not {self.status!r}")
        step = pipeline_pb2.RecordedStep(
            name=self.name, instance=self.instance, upstream=list(self.after), cache_key=self.cache_key, run_id=self.run_id,
            inputs=[to_proto(i) for i in self.inputs], outputs=[to_proto(o) for o in self.outputs], status=step_status(self.status),
            message=self.message,
        )  # fmt: skip
        if self.start_time is not None:
            step.start_time.CopyFrom(timestamp(self.start_time))
        if self.end_time is not None:
            step.end_time.CopyFrom(timestamp(self.end_time))
        return step


def batches(steps: Iterable[pipeline_pb2.RecordedStep]) -> Iterable[List[pipeline_pb2.RecordedStep]]:
    """The steps in order, cut into calls within RecordSteps's limits."""
    batch: List[pipeline_pb2.RecordedStep] = []
    names = ios = 0
    for step in steps:
        n, io = len(step.upstream), len(step.inputs) + len(step.outputs)
        if batch and (len(batch) == MAX_STEPS_PER_CALL or names + n > MAX_UPSTREAM_NAMES_PER_CALL or ios + io > MAX_IO_PER_CALL):
            yield batch
            batch, names, ios = [], 0, 0
        batch.append(step)
        names, ios = names + n, ios + io
    if batch:
        yield batch


def record_steps(t: "Transport", pipeline_run_id: str, records: Iterable[Union[StepRecord, pipeline_pb2.RecordedStep]]) -> List[StepInstance]:
    """Sends the records in order (RecordSteps, a call per batch); the instances as recorded, in the same order."""
    protos = (r._to_proto() if isinstance(r, StepRecord) else r for r in records)
    out: List[StepInstance] = []
    for batch in batches(protos):
        request = pipeline_pb2.RecordStepsRequest(pipeline_run_id=pipeline_run_id, steps=batch)
        response = t.call(t.pipelines.RecordSteps, request, what=f"RecordSteps ({len(batch)} steps)")
        out.extend(StepInstance._from_proto(s) for s in response.steps)
    return out
