"""The client: connection settings, ``client.datasets`` for everything about datasets, ``client.runs`` and
``client.start_run`` for experiment tracking, ``client.models`` for the model registry, ``client.pipelines``
for pipeline runs and their DAGs, ``client.lineage`` for the graph joining them, ``client.admin`` and ``client.whoami()`` for identity and access."""

from __future__ import annotations

import hashlib
import os
import posixpath
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

from ._admin_models import WhoAmI
from ._gen.v1 import access_pb2, dataset_pb2
from ._lineage import LineageGraph, LineageStart, graph_from, graph_request
from ._metric_options import LoggerOptions
from ._models import DatasetRef, DatasetSummary, Lineage
from ._transport import RetryPolicy, Transport
from ._upload import UploadResult, Uploader
from .admin import Admin
from .dataset import Dataset, DatasetVersion, VersionLike, as_ref
from .errors import AlreadyExists, ConfigurationError, NotFound
from .models import Models
from .pipelines import Pipelines
from .runs import Run, Runs, flush_runs_of

DEFAULT_URL = "http://localhost:8080"


class Client:
    """A connection to a Traintrack server.

    Example::

        client = tt.Client()   # TRAINTRACK_URL and TRAINTRACK_API_KEY from the environment
        client = tt.Client(url="http://traintrack:8080", api_key="tt_...")

    Args:
        url: ``http://host:port`` (plaintext HTTP/2) or ``https://host[:port]`` (TLS).
            Defaults to ``TRAINTRACK_URL``, else ``http://localhost:8080``.
        api_key: Sent as ``authorization: Bearer <key>`` on every call. Defaults to
            ``TRAINTRACK_API_KEY``; ConfigurationError if neither is set.
        timeout: Seconds each unary call may take (uploads and downloads have none).
        progress: Progress bars for uploads and downloads: True, False, or None for
            automatic (shown on a terminal for transfers longer than a second).
            ``TRAINTRACK_PROGRESS=0`` turns them off when this is None.
        retry: How broken calls and streams are retried; see RetryPolicy.

    The client holds one HTTP/2 connection; close it with ``close()`` or use it as a
    context manager. It can be shared by threads.
    """

    def __init__(
        self,
        url: Optional[str] = None,
        api_key: Optional[str] = None,
        *,
        timeout: float = 60.0,
        progress: Optional[bool] = None,
        retry: Optional[RetryPolicy] = None,
    ) -> None:
        from . import _progress

        self.url = url or os.environ.get("TRAINTRACK_URL") or DEFAULT_URL
        key = api_key or os.environ.get("TRAINTRACK_API_KEY")
        if not key:
            raise ConfigurationError("no API key: pass tt.Client(api_key=...) or set TRAINTRACK_API_KEY")
        self._progress = _progress.resolve(progress)
        self._transport = Transport(self.url, key, timeout=timeout, retry=retry or RetryPolicy())
        self._uploader = Uploader(self._transport, self._progress)
        #: Create, read and derive datasets.
        self.datasets = Datasets(self)
        #: Read and search runs and their metrics; ``start_run`` starts one.
        self.runs = Runs(self)
        #: The model registry: models, versions, aliases and their history, search.
        self.models = Models(self)
        #: Pipelines, their runs and each run's DAG of steps.
        self.pipelines = Pipelines(self)
        #: Users, service accounts, groups, grants, API keys, the audit log and organisations.
        self.admin = Admin(self._transport)

    def __repr__(self) -> str:
        return f"Client(url={self.url!r})"

    def whoami(self) -> WhoAmI:
        """The caller: its organisation, user (or service account), key and effective roles.

        Raises Unauthenticated when the key is unknown, revoked or expired, or its user deactivated.
        """
        response = self._transport.call(self._transport.access.WhoAmI, access_pb2.WhoAmIRequest(), what="WhoAmI")
        return WhoAmI._from_proto(response)

    def lineage(
        self,
        start: LineageStart,
        *,
        depth: int = 0,
        direction: str = "both",
        kinds: Optional[Iterable[str]] = None,
        max_nodes: int = 0,
    ) -> LineageGraph:
        """The lineage graph around a model version, a run, a dataset version, a pipeline run or an external dataset.

        Example::

            graph = client.lineage(client.models.get("churn-xgb", alias="production"))
            graph.run_ids, graph.dataset_versions        # the run that made it, the data it learnt from
            client.lineage(dataset_version, direction="downstream", kinds=["model_version"])
            client.lineage(mv, direction="upstream").pipeline_steps  # the pipeline steps that made it

        Args:
            start: A ModelVersion, Run, RunInfo, DatasetVersion, PipelineRun, PipelineRunInfo, tt.ModelRef,
                tt.DatasetRef, tt.ExternalDataset, a node of a graph, or a node id (``"run:<id>"``,
                ``"model:<name>@<n>"``, ``"dataset:<name>@<v>"``, ``"pipeline-run:<id>"``).
            depth: Hops to follow; 0 means 3, at most 20.
            direction: ``"upstream"`` (where it came from), ``"downstream"`` (what was made from it) or ``"both"``.
            kinds: Only nodes of these kinds (``"dataset_version"``, ``"run"``, ``"model_version"``, ``"pipeline_run"``,
                ``"pipeline_step"``, ``"external_dataset"``) are returned; the walk still passes through the others.
            max_nodes: Most nodes returned, nearest first; 0 means 1,000, at most 10,000. A larger
                neighbourhood comes back with ``truncated`` set.
        """
        root, request = graph_request(start, depth=depth, direction=direction, kinds=kinds, max_nodes=max_nodes)
        return graph_from(root, self._transport.call(self._transport.lineage.GetLineageGraph, request, what="GetLineageGraph"))

    def start_run(
        self,
        project: str,
        experiment: str,
        *,
        params: Optional[Mapping[str, object]] = None,
        tags: Optional[Mapping[str, object]] = None,
        name: Optional[str] = None,
        group: Optional[str] = None,
        rank: Optional[int] = None,
        host: Optional[str] = None,
        shared: bool = False,
        request_id: Optional[str] = None,
        logger: Optional[LoggerOptions] = None,
    ) -> Run:
        """Starts a run (status "running"), creating the project and experiment when absent.

        Example::

            with client.start_run(project="churn", experiment="xgb-sweep", params={"lr": 0.1}) as run:
                run.log({"loss": 0.4}, step=1)
            run.status  # "finished"; "failed" when the block raised

        Args:
            project, experiment: Names: letters, digits, ".", "_" and "-" (at most 128 bytes).
            params: Set once (values stored as ``str(value)``).
            tags: Key/value tags; ``run.set_tags`` changes them.
            name: A display name (at most 250 bytes).
            group: Ties the runs of one distributed job together, e.g. ``"job-42"``.
            rank: This worker's rank (0 or more); every point it logs carries it, with ``host``.
            host: Defaults to this machine's host name when ``rank`` is given.
            shared: With a group, every rank logs into ONE run (the first rank to
                call creates it; the others get it). Without, each rank has its own
                run in the group. Use a group name unique to the job.
            request_id: The CreateRun idempotency key, for choosing the shared run
                yourself; by default ``"group:<group>"`` when shared, else a fresh uuid.
            logger: Queue size, full-queue policy, batching and spool; see LoggerOptions.
        """
        return self.runs.start(
            project,
            experiment,
            name=name or "",
            params=params,
            tags=tags,
            group=group,
            rank=rank,
            host=host,
            shared=shared,
            request_id=request_id,
            logger=logger,
        )

    def close(self) -> None:
        """Closes the connection; calls in flight are cancelled.

        Runs started by this client and not finished get their metrics flushed first
        (errors are logged); they stay "running".
        """
        flush_runs_of(self)
        self._transport.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Datasets:
    """Dataset operations, as ``client.datasets``."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self._t = client._transport

    def save(self, dataset: Dataset) -> DatasetVersion:
        """Uploads every artefact of ``dataset`` and commits them as one immutable version.

        Each file is streamed (never held in memory), resumed after a broken
        connection, and checked against its sha256; then one CreateDataset makes
        the version visible at once, or not at all.

        Saving is idempotent: when the version exists with identical content
        (description, metadata, lineage, artefact names, bytes and media types),
        it is returned without uploading anything again.

        Raises:
            AlreadyExists: the version exists with other content (before any upload).
            InvalidArgument: a bad name, version, path or metadata.
            NotFound: a version in ``derived_from`` does not exist.
            DataLoss: a file changed while it was uploaded.
        """
        existing = self._find(dataset.name, dataset.version)
        if existing is not None:
            differs = existing._same_content(dataset, _hash_files(dataset))
            if not differs:
                return existing
            raise AlreadyExists(
                f'dataset "{dataset.name}" version "{dataset.version}" already exists with other content '
                f"({'; '.join(differs)} differ); versions are immutable: choose a new version"
            )
        uploads: List[Tuple[str, UploadResult]] = []
        try:
            for artefact in dataset.artefacts:
                file_name = posixpath.basename(artefact.name)
                uploads.append((artefact.name, self._client._uploader.upload_file(artefact.path, file_name, artefact.media_type)))
            request = dataset_pb2.CreateDatasetRequest(
                name=dataset.name,
                version=dataset.version,
                description=dataset.description,
                metadata=dataset.metadata,
                artefacts=[dataset_pb2.ArtefactSource(upload_id=u.upload_id, path=name) for name, u in uploads],
                derived_from=[ref._to_proto() for ref in dataset.derived_from],
            )
            # A retried CreateDataset with identical content returns the version created first.
            response = self._t.call(self._t.datasets.CreateDataset, request, what=f"CreateDataset {dataset.ref}")
        except BaseException:
            # Free the staged bytes now rather than when they expire (a committed upload refuses, harmlessly).
            for _, upload in uploads:
                self._client._uploader.abort(upload.upload_id)
            raise
        return DatasetVersion(self._client, response.dataset)

    def get(self, name: str, version: Optional[str] = None) -> DatasetVersion:
        """One version with its artefacts: ``version``, or the latest when None. NotFound if absent."""
        request = dataset_pb2.GetDatasetRequest(name=name, version=version or "")
        return DatasetVersion(self._client, self._t.call(self._t.datasets.GetDataset, request, what="GetDataset").dataset)

    def list(self, prefix: str = "", *, page_size: int = 100) -> Iterator[DatasetSummary]:
        """Every dataset (whose name starts with ``prefix``), by name, each with its latest version.

        Lazy: pages of ``page_size`` are fetched as the iterator advances.
        """
        token = ""
        while True:
            request = dataset_pb2.ListDatasetsRequest(name_prefix=prefix, page_size=page_size, page_token=token)
            page = self._t.call(self._t.datasets.ListDatasets, request, what="ListDatasets")
            for summary in page.datasets:
                yield DatasetSummary._from_proto(summary)
            token = page.next_page_token
            if not token:
                return

    def lineage(self, dataset: Union[VersionLike, str], version: Optional[str] = None, *, depth: int = 0, max_nodes: int = 0) -> Lineage:
        """Ancestors and descendants of a version, as a graph.

        Args:
            dataset: A saved version, a DatasetRef, ``"name@version"``, or a name with ``version``.
            version: The version, when ``dataset`` is a plain name.
            depth: Generations to follow each way; 0 means all (the server caps it at 100).
            max_nodes: Most versions in the graph; 0 means the server's default (1,000), at most 10,000.
                A larger graph comes back cut to the versions nearest this one, with ``truncated`` set.
        """
        ref = DatasetRef(dataset, version) if isinstance(dataset, str) and version is not None else as_ref(dataset)
        request = dataset_pb2.GetLineageRequest(dataset=ref._to_proto(), depth=depth, max_nodes=max_nodes)
        return Lineage._from_proto(ref, self._t.call(self._t.datasets.GetLineage, request, what="GetLineage"))

    def _find(self, name: str, version: str) -> Optional[DatasetVersion]:
        # Also has the server check the name and version before any byte is uploaded.
        try:
            return self.get(name, version)
        except NotFound:
            return None


def _hash_files(dataset: Dataset) -> Dict[str, Tuple[int, str]]:
    """(size, sha256) of each local artefact, read in chunks."""
    hashes = {}
    for artefact in dataset.artefacts:
        hasher = hashlib.sha256()
        size = 0
        with open(artefact.path, "rb") as file:
            while True:
                data = file.read(8 * 1024 * 1024)
                if not data:
                    break
                hasher.update(data)
                size += len(data)
        hashes[artefact.name] = (size, hasher.hexdigest())
    return hashes
