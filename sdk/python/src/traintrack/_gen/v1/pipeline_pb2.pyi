import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from traintrack._gen.v1 import dataset_pb2 as _dataset_pb2
from traintrack._gen.v1 import lineage_pb2 as _lineage_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StepStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STEP_STATUS_UNSPECIFIED: _ClassVar[StepStatus]
    STEP_STATUS_PENDING: _ClassVar[StepStatus]
    STEP_STATUS_RUNNING: _ClassVar[StepStatus]
    STEP_STATUS_SUCCEEDED: _ClassVar[StepStatus]
    STEP_STATUS_FAILED: _ClassVar[StepStatus]
    STEP_STATUS_SKIPPED: _ClassVar[StepStatus]
    STEP_STATUS_CACHED: _ClassVar[StepStatus]

class PipelineRunStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PIPELINE_RUN_STATUS_UNSPECIFIED: _ClassVar[PipelineRunStatus]
    PIPELINE_RUN_STATUS_RUNNING: _ClassVar[PipelineRunStatus]
    PIPELINE_RUN_STATUS_SUCCEEDED: _ClassVar[PipelineRunStatus]
    PIPELINE_RUN_STATUS_FAILED: _ClassVar[PipelineRunStatus]
    PIPELINE_RUN_STATUS_ABORTED: _ClassVar[PipelineRunStatus]
STEP_STATUS_UNSPECIFIED: StepStatus
STEP_STATUS_PENDING: StepStatus
STEP_STATUS_RUNNING: StepStatus
STEP_STATUS_SUCCEEDED: StepStatus
STEP_STATUS_FAILED: StepStatus
STEP_STATUS_SKIPPED: StepStatus
STEP_STATUS_CACHED: StepStatus
PIPELINE_RUN_STATUS_UNSPECIFIED: PipelineRunStatus
PIPELINE_RUN_STATUS_RUNNING: PipelineRunStatus
PIPELINE_RUN_STATUS_SUCCEEDED: PipelineRunStatus
PIPELINE_RUN_STATUS_FAILED: PipelineRunStatus
PIPELINE_RUN_STATUS_ABORTED: PipelineRunStatus

class Pipeline(_message.Message):
    __slots__ = ("name", "project", "description", "namespace", "created_at")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    name: str
    project: str
    description: str
    namespace: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., project: _Optional[str] = ..., description: _Optional[str] = ..., namespace: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PipelineRun(_message.Message):
    __slots__ = ("id", "pipeline", "status", "start_time", "end_time", "trigger", "params", "step_counts", "facets")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class StepCountsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    STEP_COUNTS_FIELD_NUMBER: _ClassVar[int]
    FACETS_FIELD_NUMBER: _ClassVar[int]
    id: str
    pipeline: str
    status: PipelineRunStatus
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    trigger: str
    params: _containers.ScalarMap[str, str]
    step_counts: _containers.ScalarMap[str, int]
    facets: _struct_pb2.Struct
    def __init__(self, id: _Optional[str] = ..., pipeline: _Optional[str] = ..., status: _Optional[_Union[PipelineRunStatus, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., trigger: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ..., step_counts: _Optional[_Mapping[str, int]] = ..., facets: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class StepIO(_message.Message):
    __slots__ = ("dataset", "model", "run_artefact", "external")
    DATASET_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    RUN_ARTEFACT_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_FIELD_NUMBER: _ClassVar[int]
    dataset: _dataset_pb2.DatasetVersionRef
    model: _lineage_pb2.ModelVersionRef
    run_artefact: RunArtefactRef
    external: ExternalDataset
    def __init__(self, dataset: _Optional[_Union[_dataset_pb2.DatasetVersionRef, _Mapping]] = ..., model: _Optional[_Union[_lineage_pb2.ModelVersionRef, _Mapping]] = ..., run_artefact: _Optional[_Union[RunArtefactRef, _Mapping]] = ..., external: _Optional[_Union[ExternalDataset, _Mapping]] = ...) -> None: ...

class RunArtefactRef(_message.Message):
    __slots__ = ("run_id", "path")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    path: str
    def __init__(self, run_id: _Optional[str] = ..., path: _Optional[str] = ...) -> None: ...

class ExternalDataset(_message.Message):
    __slots__ = ("namespace", "name", "facets")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FACETS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    facets: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., facets: _Optional[str] = ...) -> None: ...

class StepInstance(_message.Message):
    __slots__ = ("id", "instance", "status", "start_time", "end_time", "run_id", "cache_key", "cached_from", "message", "facets")
    ID_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    CACHE_KEY_FIELD_NUMBER: _ClassVar[int]
    CACHED_FROM_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    FACETS_FIELD_NUMBER: _ClassVar[int]
    id: str
    instance: int
    status: StepStatus
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    run_id: str
    cache_key: str
    cached_from: str
    message: str
    facets: _struct_pb2.Struct
    def __init__(self, id: _Optional[str] = ..., instance: _Optional[int] = ..., status: _Optional[_Union[StepStatus, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., run_id: _Optional[str] = ..., cache_key: _Optional[str] = ..., cached_from: _Optional[str] = ..., message: _Optional[str] = ..., facets: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class Step(_message.Message):
    __slots__ = ("name", "status", "start_time", "end_time", "upstream", "instance_count", "instances_by_status", "inputs", "outputs", "instances")
    class InstancesByStatusEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_BY_STATUS_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    name: str
    status: StepStatus
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    upstream: _containers.RepeatedScalarFieldContainer[str]
    instance_count: int
    instances_by_status: _containers.ScalarMap[str, int]
    inputs: _containers.RepeatedCompositeFieldContainer[StepIO]
    outputs: _containers.RepeatedCompositeFieldContainer[StepIO]
    instances: _containers.RepeatedCompositeFieldContainer[StepInstance]
    def __init__(self, name: _Optional[str] = ..., status: _Optional[_Union[StepStatus, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., upstream: _Optional[_Iterable[str]] = ..., instance_count: _Optional[int] = ..., instances_by_status: _Optional[_Mapping[str, int]] = ..., inputs: _Optional[_Iterable[_Union[StepIO, _Mapping]]] = ..., outputs: _Optional[_Iterable[_Union[StepIO, _Mapping]]] = ..., instances: _Optional[_Iterable[_Union[StepInstance, _Mapping]]] = ...) -> None: ...

class StepEdge(_message.Message):
    __slots__ = ("to", "from_data")
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    FROM_DATA_FIELD_NUMBER: _ClassVar[int]
    to: str
    from_data: bool
    def __init__(self, to: _Optional[str] = ..., from_data: bool = ..., **kwargs) -> None: ...

class CreatePipelineRequest(_message.Message):
    __slots__ = ("name", "project", "description")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    name: str
    project: str
    description: str
    def __init__(self, name: _Optional[str] = ..., project: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class CreatePipelineResponse(_message.Message):
    __slots__ = ("pipeline",)
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    pipeline: Pipeline
    def __init__(self, pipeline: _Optional[_Union[Pipeline, _Mapping]] = ...) -> None: ...

class GetPipelineRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetPipelineResponse(_message.Message):
    __slots__ = ("pipeline",)
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    pipeline: Pipeline
    def __init__(self, pipeline: _Optional[_Union[Pipeline, _Mapping]] = ...) -> None: ...

class ListPipelinesRequest(_message.Message):
    __slots__ = ("project", "page_size", "page_token")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    project: str
    page_size: int
    page_token: str
    def __init__(self, project: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPipelinesResponse(_message.Message):
    __slots__ = ("pipelines", "next_page_token")
    PIPELINES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    pipelines: _containers.RepeatedCompositeFieldContainer[Pipeline]
    next_page_token: str
    def __init__(self, pipelines: _Optional[_Iterable[_Union[Pipeline, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class StartPipelineRunRequest(_message.Message):
    __slots__ = ("pipeline", "trigger", "params", "request_id", "create_pipeline", "project")
    class ParamsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_PIPELINE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    trigger: str
    params: _containers.ScalarMap[str, str]
    request_id: str
    create_pipeline: bool
    project: str
    def __init__(self, pipeline: _Optional[str] = ..., trigger: _Optional[str] = ..., params: _Optional[_Mapping[str, str]] = ..., request_id: _Optional[str] = ..., create_pipeline: bool = ..., project: _Optional[str] = ...) -> None: ...

class StartPipelineRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: PipelineRun
    def __init__(self, run: _Optional[_Union[PipelineRun, _Mapping]] = ...) -> None: ...

class FinishPipelineRunRequest(_message.Message):
    __slots__ = ("pipeline_run_id", "status")
    PIPELINE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    pipeline_run_id: str
    status: PipelineRunStatus
    def __init__(self, pipeline_run_id: _Optional[str] = ..., status: _Optional[_Union[PipelineRunStatus, str]] = ...) -> None: ...

class FinishPipelineRunResponse(_message.Message):
    __slots__ = ("run",)
    RUN_FIELD_NUMBER: _ClassVar[int]
    run: PipelineRun
    def __init__(self, run: _Optional[_Union[PipelineRun, _Mapping]] = ...) -> None: ...

class GetPipelineRunRequest(_message.Message):
    __slots__ = ("pipeline_run_id", "expand_instances", "instances_of_step")
    PIPELINE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    EXPAND_INSTANCES_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_OF_STEP_FIELD_NUMBER: _ClassVar[int]
    pipeline_run_id: str
    expand_instances: bool
    instances_of_step: str
    def __init__(self, pipeline_run_id: _Optional[str] = ..., expand_instances: bool = ..., instances_of_step: _Optional[str] = ...) -> None: ...

class GetPipelineRunResponse(_message.Message):
    __slots__ = ("run", "steps", "edges")
    RUN_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    run: PipelineRun
    steps: _containers.RepeatedCompositeFieldContainer[Step]
    edges: _containers.RepeatedCompositeFieldContainer[StepEdge]
    def __init__(self, run: _Optional[_Union[PipelineRun, _Mapping]] = ..., steps: _Optional[_Iterable[_Union[Step, _Mapping]]] = ..., edges: _Optional[_Iterable[_Union[StepEdge, _Mapping]]] = ...) -> None: ...

class ListPipelineRunsRequest(_message.Message):
    __slots__ = ("pipeline", "page_size", "page_token")
    PIPELINE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    pipeline: str
    page_size: int
    page_token: str
    def __init__(self, pipeline: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListPipelineRunsResponse(_message.Message):
    __slots__ = ("runs", "next_page_token")
    RUNS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[PipelineRun]
    next_page_token: str
    def __init__(self, runs: _Optional[_Iterable[_Union[PipelineRun, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class StartStepRequest(_message.Message):
    __slots__ = ("pipeline_run_id", "name", "instance", "upstream", "cache_key", "run_id", "inputs", "pending")
    PIPELINE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_FIELD_NUMBER: _ClassVar[int]
    CACHE_KEY_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    PENDING_FIELD_NUMBER: _ClassVar[int]
    pipeline_run_id: str
    name: str
    instance: int
    upstream: _containers.RepeatedScalarFieldContainer[str]
    cache_key: str
    run_id: str
    inputs: _containers.RepeatedCompositeFieldContainer[StepIO]
    pending: bool
    def __init__(self, pipeline_run_id: _Optional[str] = ..., name: _Optional[str] = ..., instance: _Optional[int] = ..., upstream: _Optional[_Iterable[str]] = ..., cache_key: _Optional[str] = ..., run_id: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[StepIO, _Mapping]]] = ..., pending: bool = ...) -> None: ...

class StartStepResponse(_message.Message):
    __slots__ = ("step", "cached")
    STEP_FIELD_NUMBER: _ClassVar[int]
    CACHED_FIELD_NUMBER: _ClassVar[int]
    step: StepInstance
    cached: bool
    def __init__(self, step: _Optional[_Union[StepInstance, _Mapping]] = ..., cached: bool = ...) -> None: ...

class FinishStepRequest(_message.Message):
    __slots__ = ("step_id", "pipeline_run_id", "name", "instance", "status", "outputs", "message")
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    step_id: str
    pipeline_run_id: str
    name: str
    instance: int
    status: StepStatus
    outputs: _containers.RepeatedCompositeFieldContainer[StepIO]
    message: str
    def __init__(self, step_id: _Optional[str] = ..., pipeline_run_id: _Optional[str] = ..., name: _Optional[str] = ..., instance: _Optional[int] = ..., status: _Optional[_Union[StepStatus, str]] = ..., outputs: _Optional[_Iterable[_Union[StepIO, _Mapping]]] = ..., message: _Optional[str] = ...) -> None: ...

class FinishStepResponse(_message.Message):
    __slots__ = ("step",)
    STEP_FIELD_NUMBER: _ClassVar[int]
    step: StepInstance
    def __init__(self, step: _Optional[_Union[StepInstance, _Mapping]] = ...) -> None: ...

class RecordedStep(_message.Message):
    __slots__ = ("name", "instance", "upstream", "cache_key", "run_id", "inputs", "outputs", "status", "start_time", "end_time", "message")
    NAME_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    UPSTREAM_FIELD_NUMBER: _ClassVar[int]
    CACHE_KEY_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    START_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    name: str
    instance: int
    upstream: _containers.RepeatedScalarFieldContainer[str]
    cache_key: str
    run_id: str
    inputs: _containers.RepeatedCompositeFieldContainer[StepIO]
    outputs: _containers.RepeatedCompositeFieldContainer[StepIO]
    status: StepStatus
    start_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    message: str
    def __init__(self, name: _Optional[str] = ..., instance: _Optional[int] = ..., upstream: _Optional[_Iterable[str]] = ..., cache_key: _Optional[str] = ..., run_id: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[StepIO, _Mapping]]] = ..., outputs: _Optional[_Iterable[_Union[StepIO, _Mapping]]] = ..., status: _Optional[_Union[StepStatus, str]] = ..., start_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., message: _Optional[str] = ...) -> None: ...

class RecordStepsRequest(_message.Message):
    __slots__ = ("pipeline_run_id", "steps")
    PIPELINE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    pipeline_run_id: str
    steps: _containers.RepeatedCompositeFieldContainer[RecordedStep]
    def __init__(self, pipeline_run_id: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[RecordedStep, _Mapping]]] = ...) -> None: ...

class RecordStepsResponse(_message.Message):
    __slots__ = ("steps",)
    STEPS_FIELD_NUMBER: _ClassVar[int]
    steps: _containers.RepeatedCompositeFieldContainer[StepInstance]
    def __init__(self, steps: _Optional[_Iterable[_Union[StepInstance, _Mapping]]] = ...) -> None: ...

class RecordStepIORequest(_message.Message):
    __slots__ = ("step_id", "inputs", "outputs")
    STEP_ID_FIELD_NUMBER: _ClassVar[int]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    step_id: str
    inputs: _containers.RepeatedCompositeFieldContainer[StepIO]
    outputs: _containers.RepeatedCompositeFieldContainer[StepIO]
    def __init__(self, step_id: _Optional[str] = ..., inputs: _Optional[_Iterable[_Union[StepIO, _Mapping]]] = ..., outputs: _Optional[_Iterable[_Union[StepIO, _Mapping]]] = ...) -> None: ...

class RecordStepIOResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetPipelineGraphRequest(_message.Message):
    __slots__ = ("pipeline_run_id", "expand")
    PIPELINE_RUN_ID_FIELD_NUMBER: _ClassVar[int]
    EXPAND_FIELD_NUMBER: _ClassVar[int]
    pipeline_run_id: str
    expand: bool
    def __init__(self, pipeline_run_id: _Optional[str] = ..., expand: bool = ...) -> None: ...

class PipelineGraphNode(_message.Message):
    __slots__ = ("id", "step", "status", "instance_count", "layer")
    ID_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    LAYER_FIELD_NUMBER: _ClassVar[int]
    id: str
    step: str
    status: StepStatus
    instance_count: int
    layer: int
    def __init__(self, id: _Optional[str] = ..., step: _Optional[str] = ..., status: _Optional[_Union[StepStatus, str]] = ..., instance_count: _Optional[int] = ..., layer: _Optional[int] = ...) -> None: ...

class GetPipelineGraphResponse(_message.Message):
    __slots__ = ("nodes", "edges", "mermaid", "dot")
    NODES_FIELD_NUMBER: _ClassVar[int]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    MERMAID_FIELD_NUMBER: _ClassVar[int]
    DOT_FIELD_NUMBER: _ClassVar[int]
    nodes: _containers.RepeatedCompositeFieldContainer[PipelineGraphNode]
    edges: _containers.RepeatedCompositeFieldContainer[StepEdge]
    mermaid: str
    dot: str
    def __init__(self, nodes: _Optional[_Iterable[_Union[PipelineGraphNode, _Mapping]]] = ..., edges: _Optional[_Iterable[_Union[StepEdge, _Mapping]]] = ..., mermaid: _Optional[str] = ..., dot: _Optional[str] = ...) -> None: ...
