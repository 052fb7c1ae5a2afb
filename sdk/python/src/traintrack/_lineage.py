"""``client.lineage``: the graph of dataset versions, runs, model versions, pipeline runs, their steps and external
datasets around one of them (LineageService).

Kinds are plain strings here (``"dataset_version"``, ``"run"``, ``"model_version"``, ``"pipeline_run"``,
``"pipeline_step"``, ``"external_dataset"``; edges ``"derived_from"``, ``"read_by"``, ``"produced"``,
``"registered_as"``, ``"contains"``, ``"tracked_as"``), not the wire's enum numbers, so that they print
and compare as people read them. Edges point the way data flows: dataset → dataset derived from it →
run (or step) that read it → model version it made; pipeline run → its steps → the runs tracking them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Dict, Iterable, List, Optional, Tuple, Union

from ._gen.v1 import lineage_pb2
from ._model_models import ModelRef
from ._models import DatasetRef, to_datetime
from ._pipeline_io import ExternalDataset
from .errors import InvalidArgument

if TYPE_CHECKING:
    from ._model_version import ModelVersion
    from ._pipeline_models import PipelineRunInfo
    from ._pipeline_run import PipelineRun
    from .dataset import DatasetVersion
    from .runs import Run, RunInfo

_NODE_KINDS: Dict[str, "lineage_pb2.LineageNodeKind"] = {
    "dataset_version": lineage_pb2.LINEAGE_NODE_KIND_DATASET_VERSION,
    "run": lineage_pb2.LINEAGE_NODE_KIND_RUN,
    "model_version": lineage_pb2.LINEAGE_NODE_KIND_MODEL_VERSION,
    "pipeline_run": lineage_pb2.LINEAGE_NODE_KIND_PIPELINE_RUN,
    "pipeline_step": lineage_pb2.LINEAGE_NODE_KIND_PIPELINE_STEP,
    "external_dataset": lineage_pb2.LINEAGE_NODE_KIND_EXTERNAL_DATASET,
}
_NODE_NAMES = {code: name for name, code in _NODE_KINDS.items()}
_EDGE_NAMES: Dict[int, str] = {
    lineage_pb2.LINEAGE_EDGE_KIND_DERIVED_FROM: "derived_from",
    lineage_pb2.LINEAGE_EDGE_KIND_READ_BY: "read_by",
    lineage_pb2.LINEAGE_EDGE_KIND_PRODUCED: "produced",
    lineage_pb2.LINEAGE_EDGE_KIND_REGISTERED_AS: "registered_as",
    lineage_pb2.LINEAGE_EDGE_KIND_CONTAINS: "contains",
    lineage_pb2.LINEAGE_EDGE_KIND_TRACKED_AS: "tracked_as",
}
_DIRECTIONS: Dict[str, "lineage_pb2.LineageDirection"] = {
    "both": lineage_pb2.LINEAGE_DIRECTION_UNSPECIFIED,
    "upstream": lineage_pb2.LINEAGE_DIRECTION_UPSTREAM,
    "downstream": lineage_pb2.LINEAGE_DIRECTION_DOWNSTREAM,
}


@dataclass(frozen=True)
class LineageNode:
    """A node of a lineage graph.

    Attributes:
        kind: ``"dataset_version"``, ``"run"``, ``"model_version"``, ``"pipeline_run"``, ``"pipeline_step"``
            or ``"external_dataset"`` (``"unknown"`` from a newer server).
        id: Unique in the graph: ``"dataset:<name>@<version>"``, ``"run:<run id>"``, ``"model:<name>@<version>"``,
            ``"pipeline-run:<id>"``, ``"step:<pipeline run id>/<step name>"``, ``"external:<namespace>/<name>"``.
        label: For people: ``"customer_churn 1.0.1"``, ``"xgb/run 3"``, ``"churn-xgb v3"``.
        dataset, run_id, model, external: What it is; the one of its kind is set, the others None.
        pipeline_run_id, step: For a pipeline run and a step: the pipeline run's id and the step's name.
        created_at: When it was made (UTC).
        distance: Hops from the node the graph was asked for.
    """

    kind: str
    id: str
    label: str
    dataset: Optional[DatasetRef]
    run_id: Optional[str]
    model: Optional[ModelRef]
    created_at: Optional[datetime]
    distance: int
    pipeline_run_id: Optional[str] = None
    step: Optional[str] = None
    external: Optional[ExternalDataset] = None

    @classmethod
    def _from_proto(cls, n: lineage_pb2.LineageGraphNode) -> LineageNode:
        return cls(
            kind=_NODE_NAMES.get(n.kind, "unknown"),
            id=n.id,
            label=n.label,
            dataset=DatasetRef._from_proto(n.dataset) if n.HasField("dataset") else None,
            run_id=n.run_id or None,
            model=ModelRef(n.model.model, n.model.version) if n.HasField("model") else None,
            created_at=to_datetime(n.created_at),
            distance=n.distance,
            pipeline_run_id=n.pipeline_run_id or None,
            step=n.step or None,
            external=ExternalDataset(n.external.namespace, n.external.name) if n.HasField("external") else None,
        )


@dataclass(frozen=True)
class LineageGraphEdge:
    """``from_id`` → ``to_id`` (node ids), the way data flows; ``kind`` is ``"derived_from"``, ``"read_by"``, ``"produced"``,
    ``"registered_as"``, ``"contains"`` (pipeline run → step) or ``"tracked_as"`` (step → run)."""

    kind: str
    from_id: str
    to_id: str


@dataclass(frozen=True)
class LineageGraph:
    """The neighbourhood of one node: the nodes within the depth asked, nearest first, and the edges between them.

    Attributes:
        root: The id of the node asked for.
        nodes: Every node, nearest first.
        edges: Every edge between two of ``nodes``.
        truncated: True when nodes within the depth were left out (``max_nodes``, or the
            server's edge limit): ask again from a node at the graph's edge to go on.
    """

    root: str
    nodes: Tuple[LineageNode, ...] = ()
    edges: Tuple[LineageGraphEdge, ...] = ()
    truncated: bool = False

    def node(self, id: str) -> LineageNode:
        """The node with this id; KeyError when the graph has none."""
        for n in self.nodes:
            if n.id == id:
                return n
        raise KeyError(id)

    def of_kind(self, kind: str) -> List[LineageNode]:
        """The nodes of one kind, nearest first."""
        return [n for n in self.nodes if n.kind == kind]

    @property
    def dataset_versions(self) -> List[DatasetRef]:
        return [n.dataset for n in self.nodes if n.dataset is not None]

    @property
    def run_ids(self) -> List[str]:
        return [n.run_id for n in self.nodes if n.run_id is not None]

    @property
    def model_versions(self) -> List[ModelRef]:
        return [n.model for n in self.nodes if n.model is not None]

    @property
    def pipeline_steps(self) -> List[Tuple[str, str]]:
        """(pipeline run id, step name) of every step node."""
        return [(n.pipeline_run_id or "", n.step) for n in self.nodes if n.kind == "pipeline_step" and n.step is not None]

    @property
    def external_datasets(self) -> List[ExternalDataset]:
        return [n.external for n in self.nodes if n.external is not None]


LineageStart = Union[
    "ModelVersion", ModelRef, "Run", "RunInfo", "DatasetVersion", DatasetRef, "PipelineRun", "PipelineRunInfo", ExternalDataset, LineageNode, str
]


def start_request(start: LineageStart) -> Tuple[str, lineage_pb2.GetLineageGraphRequest]:
    """The root's node id and a request starting there.

    A string is a node id (``"run:<id>"``, ``"dataset:<name>@<version>"``, ``"model:<name>@<version>"``,
    ``"pipeline-run:<id>"``) or a bare run id (``"run_…"``): names alone would not say whether they are a
    dataset's or a model's. An external dataset starts as tt.ExternalDataset (or its node).
    """
    from ._model_version import ModelVersion
    from ._pipeline_models import PipelineRunInfo
    from ._pipeline_run import PipelineRun
    from .dataset import DatasetVersion
    from .runs import Run, RunInfo

    if isinstance(start, LineageNode):
        start = start.external if start.external is not None else start.id
    if isinstance(start, (PipelineRun, PipelineRunInfo)):
        start = f"pipeline-run:{start.id}"
    if isinstance(start, ExternalDataset):
        ref = lineage_pb2.ExternalDatasetRef(namespace=start.namespace, name=start.name)
        return f"external:{start.namespace}/{start.name}", lineage_pb2.GetLineageGraphRequest(external=ref)
    if isinstance(start, ModelVersion):
        start = start.ref
    if isinstance(start, DatasetVersion):
        start = start.ref
    if isinstance(start, (Run, RunInfo)):
        start = f"run:{start.run_id if isinstance(start, RunInfo) else start.id}"
    if isinstance(start, ModelRef):
        return f"model:{start}", lineage_pb2.GetLineageGraphRequest(model=lineage_pb2.ModelVersionRef(model=start.name, version=start.version))
    if isinstance(start, DatasetRef):
        return f"dataset:{start}", lineage_pb2.GetLineageGraphRequest(dataset=start._to_proto())
    if isinstance(start, str):
        kind, colon, rest = start.partition(":")
        if not colon and start.startswith("run_"):
            kind, rest = "run", start
        name, at, version = rest.rpartition("@")
        if kind == "run" and rest:
            return f"run:{rest}", lineage_pb2.GetLineageGraphRequest(run_id=rest)
        if kind == "pipeline-run" and rest:
            return f"pipeline-run:{rest}", lineage_pb2.GetLineageGraphRequest(pipeline_run_id=rest)
        if kind == "dataset" and at and name:
            return start_request(DatasetRef(name, version))
        if kind == "model" and at and name and version.isdigit():
            return start_request(ModelRef(name, int(version)))
    raise InvalidArgument(
        f"{start!r} is not a lineage node: pass a model version, a run, a dataset version, a pipeline run, a tt.ModelRef, "
        'tt.DatasetRef or tt.ExternalDataset, or a node id such as "run:<id>", "dataset:<name>@<version>", "model:<name>@<version>", '
        '"pipeline-run:<id>"'
    )


def graph_request(start: LineageStart, *, depth: int, direction: str, kinds: Optional[Iterable[str]], max_nodes: int) -> Tuple[str, lineage_pb2.GetLineageGraphRequest]:
    """The root's id and the full request; InvalidArgument for an unknown direction or kind."""
    root, request = start_request(start)
    if direction not in _DIRECTIONS:
        raise InvalidArgument(f"direction {direction!r}: use one of {', '.join(_DIRECTIONS)}")
    wanted = list(kinds or [])
    unknown = [k for k in wanted if k not in _NODE_KINDS]
    if unknown:
        raise InvalidArgument(f"node kinds {unknown!r}: use {', '.join(_NODE_KINDS)}")
    request.depth = depth
    request.direction = _DIRECTIONS[direction]
    request.kinds.extend(_NODE_KINDS[k] for k in wanted)
    request.max_nodes = max_nodes
    return root, request


def graph_from(root: str, response: lineage_pb2.GetLineageGraphResponse) -> LineageGraph:
    return LineageGraph(
        root=root,
        nodes=tuple(LineageNode._from_proto(n) for n in response.nodes),
        edges=tuple(LineageGraphEdge(_EDGE_NAMES.get(e.kind, "unknown"), getattr(e, "from"), e.to) for e in response.edges),
        truncated=response.truncated,
    )
