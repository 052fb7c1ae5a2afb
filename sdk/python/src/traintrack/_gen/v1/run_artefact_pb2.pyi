from traintrack._gen.v1 import dataset_pb2 as _dataset_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LogRunArtefactsRequest(_message.Message):
    __slots__ = ("run_id", "artefacts")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    ARTEFACTS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    artefacts: _containers.RepeatedCompositeFieldContainer[_dataset_pb2.ArtefactSource]
    def __init__(self, run_id: _Optional[str] = ..., artefacts: _Optional[_Iterable[_Union[_dataset_pb2.ArtefactSource, _Mapping]]] = ...) -> None: ...

class LogRunArtefactsResponse(_message.Message):
    __slots__ = ("artefacts", "added")
    ARTEFACTS_FIELD_NUMBER: _ClassVar[int]
    ADDED_FIELD_NUMBER: _ClassVar[int]
    artefacts: _containers.RepeatedCompositeFieldContainer[_dataset_pb2.Artefact]
    added: int
    def __init__(self, artefacts: _Optional[_Iterable[_Union[_dataset_pb2.Artefact, _Mapping]]] = ..., added: _Optional[int] = ...) -> None: ...

class ListRunArtefactsRequest(_message.Message):
    __slots__ = ("run_id", "path_prefix", "page_size", "page_token")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_PREFIX_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    path_prefix: str
    page_size: int
    page_token: str
    def __init__(self, run_id: _Optional[str] = ..., path_prefix: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRunArtefactsResponse(_message.Message):
    __slots__ = ("artefacts", "next_page_token")
    ARTEFACTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    artefacts: _containers.RepeatedCompositeFieldContainer[_dataset_pb2.Artefact]
    next_page_token: str
    def __init__(self, artefacts: _Optional[_Iterable[_Union[_dataset_pb2.Artefact, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DownloadRunArtefactRequest(_message.Message):
    __slots__ = ("run_id", "path", "offset", "length", "compress")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    LENGTH_FIELD_NUMBER: _ClassVar[int]
    COMPRESS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    path: str
    offset: int
    length: int
    compress: bool
    def __init__(self, run_id: _Optional[str] = ..., path: _Optional[str] = ..., offset: _Optional[int] = ..., length: _Optional[int] = ..., compress: bool = ...) -> None: ...

class DownloadRunArtefactResponse(_message.Message):
    __slots__ = ("artefact", "chunk")
    ARTEFACT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    artefact: _dataset_pb2.Artefact
    chunk: bytes
    def __init__(self, artefact: _Optional[_Union[_dataset_pb2.Artefact, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...
