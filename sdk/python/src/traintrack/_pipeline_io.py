"""What a pipeline step reads and writes (StepIO): dataset versions, model versions, run artefacts, external datasets.

Traintrack's own things pass as objects (a DatasetVersion or tt.DatasetRef, a ModelVersion or
tt.ModelRef, tt.RunArtefactRef or tt.RunArtefacts); a string is ALWAYS an external dataset,
named as OpenLineage names datasets:

- ``"scheme://authority/rest"``: namespace ``"scheme://authority"``, name ``"rest"`` (without
  the leading ``/``; ``"/"`` when empty): ``"s3://raw/churn/2026-11-29"`` → (``"s3://raw"``,
  ``"churn/2026-11-29"``); ``"postgres://db:5432/shop.public.customers"`` → (``"postgres://db:5432"``,
  ``"shop.public.customers"``). Without an authority (``"file:///data/x.csv"``) the namespace
  is the scheme alone (``"file"``) and the name the path (``"/data/x.csv"``).
- ``"/absolute/path"``: namespace ``"file"``, name the path.
- ``"namespace/name"``: split at the first ``/``: ``"warehouse/public.customers"`` → (``"warehouse"``,
  ``"public.customers"``).

Anything else (no ``/`` at all) is InvalidArgument: pass ``tt.ExternalDataset(namespace, name)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from ._gen.v1 import lineage_pb2, pipeline_pb2
from ._model_models import ModelRef, RunArtefacts
from ._models import DatasetRef
from .errors import InvalidArgument

if TYPE_CHECKING:
    from ._model_version import ModelVersion
    from .dataset import DatasetVersion
    from .runs import Run, RunInfo


@dataclass(frozen=True)
class ExternalDataset:
    """A dataset Traintrack does not hold, known by namespace and name (a table, a bucket path).

    Example: ``tt.ExternalDataset("s3://raw", "churn/2026-11-29")``; ``facets`` is JSON text
    kept with it (OpenLineage facets), at most 64 KiB.
    """

    namespace: str
    name: str
    facets: str = ""

    def __str__(self) -> str:
        return f"{self.namespace.rstrip('/')}/{self.name.lstrip('/')}"

    def _to_proto(self) -> pipeline_pb2.ExternalDataset:
        return pipeline_pb2.ExternalDataset(namespace=self.namespace, name=self.name, facets=self.facets)


@dataclass(frozen=True)
class RunArtefactRef:
    """One artefact (or a path prefix of them) of a Traintrack run: ``tt.RunArtefactRef(run, "model/")``."""

    run_id: str
    path: str

    def __init__(self, run: Union[str, "Run", "RunInfo"], path: str) -> None:
        run_id = run if isinstance(run, str) else getattr(run, "run_id", None) or getattr(run, "id", None)
        if not isinstance(run_id, str) or not run_id:
            raise InvalidArgument(f"{run!r} is not a run: pass a Run, a RunInfo or a run id")
        object.__setattr__(self, "run_id", run_id)
        object.__setattr__(self, "path", path)

    def __str__(self) -> str:
        return f"{self.run_id}:{self.path}"


#: What a step's inputs and outputs are read back as.
StepIOItem = Union[DatasetRef, ModelRef, RunArtefactRef, ExternalDataset]
#: What ``s.input`` / ``s.output`` (and ``inputs=`` / ``outputs=``) take.
StepIOLike = Union["DatasetVersion", DatasetRef, "ModelVersion", ModelRef, RunArtefactRef, RunArtefacts, ExternalDataset, str]


def parse_external(text: str) -> ExternalDataset:
    """A string as an external dataset, by the module's rule; InvalidArgument when it has no namespace."""
    value = text.strip()
    scheme, sep, rest = value.partition("://")
    if sep:
        authority, slash, path = rest.partition("/")
        if scheme and authority:
            return ExternalDataset(f"{scheme}://{authority}", path or "/")
        if scheme and slash:  # file:///data/x.csv: no authority, the name is the absolute path
            return ExternalDataset(scheme, "/" + path)
    elif value.startswith("/"):
        return ExternalDataset("file", value)
    namespace, slash, name = value.partition("/")
    if not sep and slash and namespace and name:
        return ExternalDataset(namespace, name)
    raise InvalidArgument(
        f"{text!r} is not an external dataset: use \"scheme://authority/path\" (s3://bucket/key), an absolute path, "
        '"namespace/name", or tt.ExternalDataset(namespace, name); pass Traintrack datasets and models as objects'
    )


def to_proto(item: Any) -> pipeline_pb2.StepIO:
    """One StepIO from anything StepIOLike; InvalidArgument for anything else."""
    from ._model_version import ModelVersion
    from .dataset import DatasetVersion

    if isinstance(item, DatasetVersion):
        item = item.ref
    if isinstance(item, ModelVersion):
        item = item.ref
    if isinstance(item, str):
        item = parse_external(item)
    if isinstance(item, DatasetRef):
        return pipeline_pb2.StepIO(dataset=item._to_proto())
    if isinstance(item, ModelRef):
        return pipeline_pb2.StepIO(model=lineage_pb2.ModelVersionRef(model=item.name, version=item.version))
    if isinstance(item, RunArtefacts):
        item = RunArtefactRef(item.run_id, item.prefix)
    if isinstance(item, RunArtefactRef):
        return pipeline_pb2.StepIO(run_artefact=pipeline_pb2.RunArtefactRef(run_id=item.run_id, path=item.path))
    if isinstance(item, ExternalDataset):
        return pipeline_pb2.StepIO(external=item._to_proto())
    raise InvalidArgument(
        f"{item!r} cannot be a step's input or output: pass a DatasetVersion, a ModelVersion, tt.RunArtefactRef, "
        'tt.ExternalDataset, or a string such as "s3://bucket/path"'
    )


def from_proto(io: pipeline_pb2.StepIO) -> StepIOItem:
    which = io.WhichOneof("ref")
    if which == "dataset":
        return DatasetRef._from_proto(io.dataset)
    if which == "model":
        return ModelRef(io.model.model, io.model.version)
    if which == "run_artefact":
        return RunArtefactRef(io.run_artefact.run_id, io.run_artefact.path)
    return ExternalDataset(io.external.namespace, io.external.name, io.external.facets)
