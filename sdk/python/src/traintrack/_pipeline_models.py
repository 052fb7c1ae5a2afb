"""Plain, immutable values of ``client.pipelines``: pipeline runs as the server has them, their DAG and its graph.

Statuses are strings as people read them: a step is ``"pending"``, ``"running"``, ``"succeeded"``,
``"failed"``, ``"skipped"`` or ``"cached"``; a pipeline run ``"running"``, ``"succeeded"``,
``"failed"`` or ``"aborted"`` (``"unspecified"`` from a server that did not say).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Dict, List, Optional, Tuple

from ._gen.v1 import pipeline_pb2
from ._models import to_datetime
from ._pipeline_io import StepIOItem, from_proto
from .errors import InvalidArgument

STEP_STATUSES: Dict[str, "pipeline_pb2.StepStatus"] = {
    "pending": pipeline_pb2.STEP_STATUS_PENDING,
    "running": pipeline_pb2.STEP_STATUS_RUNNING,
    "succeeded": pipeline_pb2.STEP_STATUS_SUCCEEDED,
    "failed": pipeline_pb2.STEP_STATUS_FAILED,
    "skipped": pipeline_pb2.STEP_STATUS_SKIPPED,
    "cached": pipeline_pb2.STEP_STATUS_CACHED,
}
_STEP_NAMES: Dict[int, str] = {int(code): name for name, code in STEP_STATUSES.items()}
RUN_STATUSES: Dict[str, "pipeline_pb2.PipelineRunStatus"] = {
    "running": pipeline_pb2.PIPELINE_RUN_STATUS_RUNNING,
    "succeeded": pipeline_pb2.PIPELINE_RUN_STATUS_SUCCEEDED,
    "failed": pipeline_pb2.PIPELINE_RUN_STATUS_FAILED,
    "aborted": pipeline_pb2.PIPELINE_RUN_STATUS_ABORTED,
}
_RUN_NAMES: Dict[int, str] = {int(code): name for name, code in RUN_STATUSES.items()}


def step_status(name: str) -> "pipeline_pb2.StepStatus":
    try:
        return STEP_STATUSES[name]
    except KeyError:
        raise InvalidArgument(f"unknown step status {name!r}: use one of {', '.join(STEP_STATUSES)}") from None


def run_status(name: str) -> "pipeline_pb2.PipelineRunStatus":
    try:
        return RUN_STATUSES[name]
    except KeyError:
        raise InvalidArgument(f"unknown pipeline run status {name!r}: use one of {', '.join(RUN_STATUSES)}") from None


def step_status_name(code: int) -> str:
    return _STEP_NAMES.get(code, "unspecified")


@dataclass(frozen=True)
class PipelineRunInfo:
    """A pipeline run as the server has it.

    Attributes:
        id: Issued by the server; what ``client.pipelines.get_run`` and ``client.lineage`` take.
        trigger: What started it (``"schedule"``, ``"manual"``, a user, an orchestrator's run id…).
        step_counts: Step instances by status, e.g. ``{"succeeded": 3, "failed": 1}``.
    """

    id: str
    pipeline: str
    status: str
    start_time: Optional[datetime]
    end_time: Optional[datetime]
    trigger: str
    params: Dict[str, str]
    step_counts: Dict[str, int]

    @classmethod
    def _from_proto(cls, r: pipeline_pb2.PipelineRun) -> PipelineRunInfo:
        return cls(
            id=r.id, pipeline=r.pipeline, status=_RUN_NAMES.get(r.status, "unspecified"), start_time=to_datetime(r.start_time),
            end_time=to_datetime(r.end_time), trigger=r.trigger, params=dict(r.params), step_counts=dict(r.step_counts),
        )  # fmt: skip


@dataclass(frozen=True)
class StepInstance:
    """One instance of a step (0 for a step that is not a fan-out).

    Attributes:
        run_id: The Traintrack run tracking it, or None.
        cached_from: For a cached instance, the id of the instance whose result was reused.
        message: Why it failed, when it did.
    """

    id: str
    instance: int
    status: str
    start_time: Optional[datetime]
    end_time: Optional[datetime]
    run_id: Optional[str]
    cache_key: str
    cached_from: Optional[str]
    message: str

    @classmethod
    def _from_proto(cls, s: pipeline_pb2.StepInstance) -> StepInstance:
        return cls(
            id=s.id, instance=s.instance, status=step_status_name(s.status), start_time=to_datetime(s.start_time), end_time=to_datetime(s.end_time),
            run_id=s.run_id or None, cache_key=s.cache_key, cached_from=s.cached_from or None, message=s.message,
        )  # fmt: skip


@dataclass(frozen=True)
class StepInfo:
    """A step of a pipeline run, its instances together (a fan-out is one step).

    Attributes:
        status: Failed if any instance failed, else running if any runs, else pending if any waits,
            else succeeded / cached / skipped.
        upstream: The names of the steps it comes after.
        instances_by_status: e.g. ``{"succeeded": 480, "running": 20}``.
        inputs, outputs: What its instances read and wrote (DatasetRef, ModelRef, RunArtefactRef, ExternalDataset).
        instances: Each instance, when asked for (``expand_instances=True``); else empty.
    """

    name: str
    status: str
    start_time: Optional[datetime]
    end_time: Optional[datetime]
    upstream: Tuple[str, ...]
    instance_count: int
    instances_by_status: Dict[str, int]
    inputs: Tuple[StepIOItem, ...]
    outputs: Tuple[StepIOItem, ...]
    instances: Tuple[StepInstance, ...] = ()

    @classmethod
    def _from_proto(cls, s: pipeline_pb2.Step) -> StepInfo:
        return cls(
            name=s.name, status=step_status_name(s.status), start_time=to_datetime(s.start_time), end_time=to_datetime(s.end_time),
            upstream=tuple(s.upstream), instance_count=s.instance_count, instances_by_status=dict(s.instances_by_status),
            inputs=tuple(from_proto(i) for i in s.inputs), outputs=tuple(from_proto(o) for o in s.outputs),
            instances=tuple(StepInstance._from_proto(i) for i in s.instances),
        )  # fmt: skip


@dataclass(frozen=True)
class StepEdge:
    """``from_step`` → ``to_step``; ``from_data`` when it follows the data (one wrote what the other read), not a declared upstream."""

    from_step: str
    to_step: str
    from_data: bool = False

    @classmethod
    def _from_proto(cls, e: pipeline_pb2.StepEdge) -> StepEdge:
        return cls(getattr(e, "from"), e.to, e.from_data)


@dataclass(frozen=True)
class PipelineDAG:
    """A pipeline run with its DAG (``client.pipelines.get_run``): the steps in topological order and their edges."""

    run: PipelineRunInfo
    steps: Tuple[StepInfo, ...] = ()
    edges: Tuple[StepEdge, ...] = ()

    def step(self, name: str) -> StepInfo:
        """The step of this name; KeyError when the run has none."""
        for s in self.steps:
            if s.name == name:
                return s
        raise KeyError(name)


@dataclass(frozen=True)
class PipelineGraphNode:
    """A node of a run's graph: a step (collapsed) or one instance (``"name[3]"``, expanded); ``layer`` is its longest upstream path."""

    id: str
    step: str
    status: str
    instance_count: int
    layer: int


@dataclass(frozen=True)
class PipelineGraph:
    """A run's DAG as the server draws it: nodes, edges, and the same graph as Mermaid and Graphviz DOT text."""

    pipeline_run_id: str
    nodes: Tuple[PipelineGraphNode, ...] = ()
    edges: Tuple[StepEdge, ...] = ()
    mermaid: str = ""
    dot: str = ""
    expanded: bool = False

    def to_mermaid(self) -> str:
        """Mermaid text (``flowchart LR …``), for Markdown docs and notebooks."""
        return self.mermaid

    def to_dot(self) -> str:
        """Graphviz DOT text (``dot -Tsvg``)."""
        return self.dot

    def layers(self) -> List[List[PipelineGraphNode]]:
        """The nodes by layer (0 first), in the server's order within a layer."""
        found: List[List[PipelineGraphNode]] = [[] for _ in range(max((n.layer for n in self.nodes), default=-1) + 1)]
        for n in self.nodes:
            found[n.layer].append(n)
        return found

    @classmethod
    def _from_proto(cls, pipeline_run_id: str, g: pipeline_pb2.GetPipelineGraphResponse, expanded: bool) -> PipelineGraph:
        nodes = tuple(PipelineGraphNode(n.id, n.step, step_status_name(n.status), n.instance_count, max(n.layer, 0)) for n in g.nodes)
        return cls(pipeline_run_id, nodes, tuple(StepEdge._from_proto(e) for e in g.edges), g.mermaid, g.dot, expanded)
