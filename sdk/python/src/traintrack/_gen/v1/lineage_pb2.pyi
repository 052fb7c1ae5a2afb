import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from traintrack._gen.v1 import dataset_pb2 as _dataset_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LineageNodeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LINEAGE_NODE_KIND_UNSPECIFIED: _ClassVar[LineageNodeKind]
    LINEAGE_NODE_KIND_DATASET_VERSION: _ClassVar[LineageNodeKind]
    LINEAGE_NODE_KIND_RUN: _ClassVar[LineageNodeKind]
    LINEAGE_NODE_KIND_MODEL_VERSION: _ClassVar[LineageNodeKind]
    LINEAGE_NODE_KIND_PIPELINE_RUN: _ClassVar[LineageNodeKind]
    LINEAGE_NODE_KIND_PIPELINE_STEP: _ClassVar[LineageNodeKind]
    LINEAGE_NODE_KIND_EXTERNAL_DATASET: _ClassVar[LineageNodeKind]

class LineageEdgeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LINEAGE_EDGE_KIND_UNSPECIFIED: _ClassVar[LineageEdgeKind]
    LINEAGE_EDGE_KIND_DERIVED_FROM: _ClassVar[LineageEdgeKind]
    LINEAGE_EDGE_KIND_READ_BY: _ClassVar[LineageEdgeKind]
    LINEAGE_EDGE_KIND_PRODUCED: _ClassVar[LineageEdgeKind]
    LINEAGE_EDGE_KIND_REGISTERED_AS: _ClassVar[LineageEdgeKind]
    LINEAGE_EDGE_KIND_CONTAINS: _ClassVar[LineageEdgeKind]
    LINEAGE_EDGE_KIND_TRACKED_AS: _ClassVar[LineageEdgeKind]

class LineageDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    LINEAGE_DIRECTION_UNSPECIFIED: _ClassVar[LineageDirection]
    LINEAGE_DIRECTION_UPSTREAM: _ClassVar[LineageDirection]
    LINEAGE_DIRECTION_DOWNSTREAM: _ClassVar[LineageDirection]
LINEAGE_NODE_KIND_UNSPECIFIED: LineageNodeKind
LINEAGE_NODE_KIND_DATASET_VERSION: LineageNodeKind
LINEAGE_NODE_KIND_RUN: LineageNodeKind
LINEAGE_NODE_KIND_MODEL_VERSION: LineageNodeKind
LINEAGE_NODE_KIND_PIPELINE_RUN: LineageNodeKind
LINEAGE_NODE_KIND_PIPELINE_STEP: LineageNodeKind
LINEAGE_NODE_KIND_EXTERNAL_DATASET: LineageNodeKind
LINEAGE_EDGE_KIND_UNSPECIFIED: LineageEdgeKind
LINEAGE_EDGE_KIND_DERIVED_FROM: LineageEdgeKind
LINEAGE_EDGE_KIND_READ_BY: LineageEdgeKind
LINEAGE_EDGE_KIND_PRODUCED: LineageEdgeKind
LINEAGE_EDGE_KIND_REGISTERED_AS: LineageEdgeKind
LINEAGE_EDGE_KIND_CONTAINS: LineageEdgeKind
LINEAGE_EDGE_KIND_TRACKED_AS: LineageEdgeKind
LINEAGE_DIRECTION_UNSPECIFIED: LineageDirection
LINEAGE_DIRECTION_UPSTREAM: LineageDirection
LINEAGE_DIRECTION_DOWNSTREAM: LineageDirection

class ModelVersionRef(_message.Message):
    __slots__ = ("model", "version")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    version: int
    def __init__(self, model: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ExternalDatasetRef(_message.Message):
    __slots__ = ("namespace", "name")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class LineageGraphNode(_message.Message):
    __slots__ = ("kind", "id", "dataset", "run_id", "model", "label", "created_at", "distance", "pipeline_run_id", "step", "external")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    DATASET_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    DISTANCE_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_FIELD_NUMBER: _ClassVar[int]
    kind: LineageNodeKind
    id: str
    dataset: _dataset_pb2.DatasetVersionRef
    run_id: str
    model: ModelVersionRef
    label: str
    created_at: _timestamp_pb2.Timestamp
    distance: int
    pipeline_run_id: str
    step: str
    external: ExternalDatasetRef
    def __init__(self, kind: _Optional[_Union[LineageNodeKind, str]] = ..., id: _Optional[str] = ..., dataset: _Optional[_Union[_dataset_pb2.DatasetVersionRef, _Mapping]] = ..., run_id: _Optional[str] = ..., model: _Optional[_Union[ModelVersionRef, _Mapping]] = ..., label: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., distance: _Optional[int] = ..., pipeline_run_id: _Optional[str] = ..., step: _Optional[str] = ..., external: _Optional[_Union[ExternalDatasetRef, _Mapping]] = ...) -> None: ...

class LineageGraphEdge(_message.Message):
    __slots__ = ("kind", "to")
    KIND_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    kind: LineageEdgeKind
    to: str
    def __init__(self, kind: _Optional[_Union[LineageEdgeKind, str]] = ..., to: _Optional[str] = ..., **kwargs) -> None: ...

class GetLineageGraphRequest(_message.Message):
    __slots__ = ("dataset", "run_id", "model", "pipeline_run_id", "external", "depth", "direction", "kinds", "max_nodes")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_FIELD_NUMBER: _ClassVar[int]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    MAX_NODES_FIELD_NUMBER: _ClassVar[int]
    dataset: _dataset_pb2.DatasetVersionRef
    run_id: str
    model: ModelVersionRef
    pipeline_run_id: str
    external: ExternalDatasetRef
    depth: int
    direction: LineageDirection
    kinds: _containers.RepeatedScalarFieldContainer[LineageNodeKind]
    max_nodes: int
    def __init__(self, dataset: _Optional[_Union[_dataset_pb2.DatasetVersionRef, _Mapping]] = ..., run_id: _Optional[str] = ..., model: _Optional[_Union[ModelVersionRef, _Mapping]] = ..., pipeline_run_id: _Optional[str] = ..., external: _Optional[_Union[ExternalDatasetRef, _Mapping]] = ..., depth: _Optional[int] = ..., direction: _Optional[_Union[LineageDirection, str]] = ..., kinds: _Optional[_Iterable[_Union[LineageNodeKind, str]]] = ..., max_nodes: _Optional[int] = ...) -> None: ...

class GetLineageGraphResponse(_message.Message):
    __slots__ = ("nodes", "edges", "truncated")
    NODES_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    TRUNCATED_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[LineageGraphNode]
    edges: _containers.RepeatedCompositeFieldContainer[LineageGraphEdge]
    truncated: bool
    def __init__(self, nodes: _Optional[_Iterable[_Union[LineageGraphNode, _Mapping]]] = ..., edges: _Optional[_Iterable[_Union[LineageGraphEdge, _Mapping]]] = ..., truncated: bool = ...) -> None: ...
