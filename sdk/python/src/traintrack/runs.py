"""Experiment tracking: ``Run`` is a live run that logs, ``client.runs`` reads and searches runs and metrics."""

from __future__ import annotations

import atexit
import calendar
import logging
import operator
import re
import socket
import threading
import time
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Type, Union

from . import _model_register, _run_artefacts
from ._gen.v1 import experiment_pb2
from ._metric_encoding import PointEncoder, point as encode_point, request_header, worker_field
from ._metric_logger import MetricLogger
from ._metric_options import LoggerOptions
from ._replay import SpoolReplay, replay
from ._spool import default_spool_dir
from ._models import Artefact, DatasetRef, to_datetime
from .dataset import PathLike, VersionLike, as_ref
from .errors import FailedPrecondition, InvalidArgument, TraintrackError

if TYPE_CHECKING:
    from ._model_models import SignatureLike
    from ._model_version import ModelVersion
    from .client import Client

log = logging.getLogger("traintrack")

_STATUS_NAMES: Dict[int, str] = {
    experiment_pb2.RUN_STATUS_UNSPECIFIED: "unspecified",
    experiment_pb2.RUN_STATUS_RUNNING: "running",
    experiment_pb2.RUN_STATUS_FINISHED: "finished",
    experiment_pb2.RUN_STATUS_FAILED: "failed",
    experiment_pb2.RUN_STATUS_KILLED: "killed",
}
_STATUSES: Dict[str, "experiment_pb2.RunStatus"] = {
    "running": experiment_pb2.RUN_STATUS_RUNNING,
    "finished": experiment_pb2.RUN_STATUS_FINISHED,
    "failed": experiment_pb2.RUN_STATUS_FAILED,
    "killed": experiment_pb2.RUN_STATUS_KILLED,
}
_OPS: Dict[str, "experiment_pb2.MetricThreshold.Op"] = {
    "<": experiment_pb2.MetricThreshold.OP_LESS,
    "<=": experiment_pb2.MetricThreshold.OP_LESS_OR_EQUAL,
    ">": experiment_pb2.MetricThreshold.OP_GREATER,
    ">=": experiment_pb2.MetricThreshold.OP_GREATER_OR_EQUAL,
}
# A metric key, as the server checks it (1 to 250 bytes).
_KEY = re.compile(r"[A-Za-z0-9_\-./ ]{1,250}")
_MAX_STEP = 2**53 - 1
#: Points one GetMetricHistory response may hold (the server's limit: run ids × max_points).
_HISTORY_POINTS = 1_000_000


def _status(name: str) -> "experiment_pb2.RunStatus":
    try:
        return _STATUSES[name]
    except KeyError:
        raise InvalidArgument(f"unknown run status {name!r}: use one of {', '.join(_STATUSES)}") from None


def _check_key(key: object) -> None:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise InvalidArgument(f"metric key {key!r}: a key is 1 to 250 characters among letters, digits, \"_\", \"-\", \".\", \"/\" and \" \"")


def _not_a_number(key: str, value: object) -> InvalidArgument:
    return InvalidArgument(f"metric {key!r}: {value!r} is not a number")


def _strings(values: Optional[Mapping[str, object]]) -> Dict[str, str]:
    """Params and tags are strings on the server: other values are converted with str()."""
    return {str(k): v if isinstance(v, str) else str(v) for k, v in (values or {}).items()}


@dataclass(frozen=True)
class RunInfo:
    """A run as the server has it (``client.runs.get``, ``client.runs.search``, ``run.refresh()``).

    Attributes:
        run_id: Issued by the server, e.g. ``"run_7k2m…"``.
        status: ``"running"``, ``"finished"``, ``"failed"`` or ``"killed"``.
        end_time: None while running.
        inputs: The dataset versions the run read.
        group: The run group of a distributed job, or ``""``.
        rank: The rank of the worker that created the run, or None.
        latest_metrics: The latest point of every metric the run logged, by key (in key order):
            the highest step, then the latest timestamp, then the last written, as
            ``client.runs.search(metrics=...)`` compares them. Values are as logged, NaN and the
            infinities included; the points carry key, value, step and timestamp, not the worker.
            Read with the run, so ``run.refresh()`` brings it up to date. At most the first 100
            keys: ``latest_metrics_truncated`` says when the run has more (read them with
            ``client.runs.metric_history``).
        latest_metrics_truncated: True when the run logged more metrics than ``latest_metrics`` holds.
    """

    run_id: str
    project: str
    experiment: str
    name: str
    status: str
    start_time: Optional[datetime]
    end_time: Optional[datetime]
    tags: Dict[str, str]
    params: Dict[str, str]
    inputs: List[DatasetRef]
    group: str
    rank: Optional[int]
    host: str
    latest_metrics: Dict[str, MetricPoint] = field(default_factory=dict)
    latest_metrics_truncated: bool = False

    @classmethod
    def _from_proto(cls, run: experiment_pb2.Run) -> "RunInfo":
        return cls(
            run_id=run.run_id,
            project=run.project,
            experiment=run.experiment,
            name=run.name,
            status=_STATUS_NAMES.get(run.status, "unspecified"),
            start_time=to_datetime(run.start_time),
            end_time=to_datetime(run.end_time),
            tags=dict(run.tags),
            params=dict(run.params),
            inputs=[DatasetRef._from_proto(ref) for ref in run.inputs],
            group=run.group,
            rank=run.rank if run.HasField("rank") else None,
            host=run.host,
            latest_metrics={
                m.key: MetricPoint(key=m.key, value=m.value, step=m.step, timestamp=to_datetime(m.timestamp)) for m in run.latest_metrics
            },
            latest_metrics_truncated=run.latest_metrics_truncated,
        )


@dataclass(frozen=True)
class MetricPoint:
    """One metric point: what ``client.runs.metric_history`` returns and ``client.runs.log_metrics`` sends.

    Attributes:
        key: The metric, e.g. ``"loss"``.
        value: Any float, NaN and the infinities included.
        step: The training step.
        timestamp: When it was measured (to the millisecond), or None: the server's time of receipt.
        rank: The worker that wrote it in a distributed job, or None.
        host: That worker's host, or ``""``.
    """

    key: str
    value: float
    step: int = 0
    timestamp: Optional[datetime] = None
    rank: Optional[int] = None
    host: str = ""

    def _encode(self) -> bytes:
        """The point as a ``points`` field of a LogMetricsRequest (a naive timestamp is UTC, as protobuf takes it)."""
        timestamp = None
        if self.timestamp is not None:
            timestamp = (calendar.timegm(self.timestamp.utctimetuple()), self.timestamp.microsecond * 1000)
        return encode_point(self.key, self.value, self.step, timestamp, worker_field(self.rank, self.host))

    @classmethod
    def _from_proto(cls, p: experiment_pb2.MetricPoint, key: str) -> "MetricPoint":
        has_worker = p.HasField("worker")
        return cls(
            key=p.key or key,
            value=p.value,
            step=p.step,
            timestamp=to_datetime(p.timestamp),
            rank=p.worker.rank if has_worker else None,
            host=p.worker.host if has_worker else "",
        )


@dataclass(frozen=True)
class MetricSeries:
    """The points of one metric of one run, ordered by step (then timestamp, then arrival).

    Attributes:
        downsampled: True when the server downsampled it to ``max_points``
            (min/max buckets: peaks, and the global minimum and maximum, survive).
    """

    run_id: str
    key: str
    points: List[MetricPoint] = field(default_factory=list)
    downsampled: bool = False

    @property
    def steps(self) -> List[int]:
        """The steps of the points, in order."""
        return [p.step for p in self.points]

    @property
    def values(self) -> List[float]:
        """The values of the points, in order."""
        return [p.value for p in self.points]


@dataclass(frozen=True)
class LogResult:
    """What one ``LogMetrics`` call did: points written, or none when the batch id had been received before."""

    points_accepted: int
    deduplicated: bool


# Runs whose logger may hold points at interpreter exit.
_open_runs: "weakref.WeakSet[Run]" = weakref.WeakSet()
_open_runs_lock = threading.Lock()


def flush_runs_of(client: Optional["Client"]) -> None:
    """Flushes the unfinished runs of ``client`` (of every client when None), logging errors."""
    with _open_runs_lock:
        runs = [run for run in _open_runs if client is None or run._client is client]
    for run in runs:
        try:
            run.flush()
        except TraintrackError as error:
            log.error("run %s: %s", run.id, error)


@atexit.register
def _flush_open_runs() -> None:
    # The logger threads are daemons: without this, points queued at exit would be lost.
    flush_runs_of(None)


class Run:
    """A run being tracked: params, tags, dataset inputs and metrics, logged in the background.

    Made by ``client.start_run``. As a context manager, the run ends when the
    block does: ``"finished"`` when it completes, ``"failed"`` when it raises
    (the exception propagates). Leaving the block delivers every metric point
    first, or raises MetricsNotDelivered saying what was not delivered.

    Example::

        with client.start_run(project="churn", experiment="xgb-sweep", params={"lr": 0.1}) as run:
            run.use_dataset(client.datasets.get("customer_churn", version="1.0.1"))
            for step in range(100_000):
                run.log({"loss": loss, "acc": acc}, step=step)
        run.status  # "finished"

    ``run.log`` returns at once: a daemon thread batches the points and sends
    them; see LoggerOptions for the queue, retries and the on-disk spool.
    """

    def __init__(self, client: "Client", info: RunInfo, *, options: LoggerOptions, shared: bool, rank: Optional[int], host: str) -> None:
        self._client = client
        self._t = client._transport
        self._info = info
        self._status = info.status
        self._shared = shared
        self._rank = rank
        self._logger = MetricLogger(self._t, info.run_id, options)
        self._encode_points = PointEncoder(rank, host, _check_key, _not_a_number).encode
        self._next_step = 0
        self._ended = False
        with _open_runs_lock:
            _open_runs.add(self)

    def __repr__(self) -> str:
        return f"Run(id={self.id!r}, project={self._info.project!r}, experiment={self._info.experiment!r}, status={self._status!r})"

    @property
    def id(self) -> str:
        """The run id, e.g. ``"run_7k2m…"``."""
        return self._info.run_id

    @property
    def status(self) -> str:
        """``"running"``, then ``"finished"``, ``"failed"`` or ``"killed"`` (as this process last saw it)."""
        return self._status

    @property
    def info(self) -> RunInfo:
        """The run as the server returned it last (after creation or the last update); see ``refresh``."""
        return self._info

    @property
    def dropped(self) -> int:
        """Points dropped because the queue (or spool) was full under ``on_full="drop"``."""
        return self._logger.dropped

    @property
    def spool_dir(self) -> str:
        """Where this run's batches are spooled while the server is unreachable."""
        return str(self._logger.spool_dir)

    def refresh(self) -> RunInfo:
        """Reads the run from the server (its status, tags, params and inputs)."""
        self._set(self._client.runs._get_proto(self.id))
        return self._info

    def _set(self, run: experiment_pb2.Run) -> None:
        self._info = RunInfo._from_proto(run)
        self._status = self._info.status

    # --- metrics ----------------------------------------------------------------

    def log(self, metrics: Mapping[str, float], step: Optional[int] = None, *, timestamp: Optional[float] = None) -> None:
        """Queues metric points and returns at once; a background thread sends them.

        Args:
            metrics: Key to value, e.g. ``{"loss": 0.4, "acc": 0.9}``. Values are
                anything ``float()`` takes (NaN and the infinities are kept as such).
            step: The training step; when None, the number of ``log`` calls
                without a step so far on this run (0, 1, 2, ...).
            timestamp: Seconds since the epoch (``time.time()``); defaults to now.

        Raises:
            InvalidArgument: a key the server would refuse (1 to 250 bytes of letters,
                digits, "_", "-", ".", "/" and " "), a value that is not a number, or a
                step beyond ±(2**53 - 1). Checked here, so one bad key never costs a batch.
        """
        if step is None:
            step = self._next_step
            self._next_step += 1
        else:
            try:
                step = operator.index(step)  # int, numpy integers, ...
            except TypeError:
                raise InvalidArgument(f"step must be an integer, not {step!r}") from None
            if not -_MAX_STEP <= step <= _MAX_STEP:
                raise InvalidArgument(f"step must be between -(2**53 - 1) and 2**53 - 1, not {step}")
        ms = int((time.time() if timestamp is None else timestamp) * 1000)
        points = self._encode_points(metrics, step, ms)  # every point checked and encoded, or none queued
        if points:
            self._logger.put(points)

    def flush(self, timeout: Optional[float] = None) -> None:
        """Waits until every point logged so far is accepted by the server (memory queue and spool).

        Args:
            timeout: Seconds to wait; defaults to LoggerOptions.flush_timeout.

        Raises:
            MetricsNotDelivered: points the server rejected, or still queued or spooled
                when the timeout passed (spooled points stay on disk and are still
                replayed while the run is open).
        """
        self._logger.flush(timeout)

    # --- the rest of the run ------------------------------------------------------

    def log_params(self, params: Mapping[str, object]) -> None:
        """Sets parameters, all or none. Values are stored as strings (``str(value)``).

        Raises:
            FailedPrecondition: a parameter is already set to another value (set once;
                the same value again is fine).
        """
        request = experiment_pb2.LogParamsRequest(run_id=self.id, params=_strings(params))
        self._set(self._t.call(self._t.experiments.LogParams, request, what="LogParams").run)

    def set_tags(self, tags: Mapping[str, object], *, remove: Iterable[str] = ()) -> None:
        """Sets (overwrites) tags, and removes the tags named in ``remove``."""
        request = experiment_pb2.SetRunTagsRequest(run_id=self.id, tags=_strings(tags), remove=list(remove))
        self._set(self._t.call(self._t.experiments.SetRunTags, request, what="SetRunTags").run)

    def use_dataset(self, *datasets: VersionLike) -> None:
        """Records dataset versions this run read (lineage from data to training).

        Takes saved versions (``client.datasets.get(...)``), DatasetRefs,
        ``("name", "version")`` or ``"name@version"``. NotFound names an unknown version.
        """
        request = experiment_pb2.UseDatasetsRequest(run_id=self.id, datasets=[as_ref(d)._to_proto() for d in datasets])
        self._set(self._t.call(self._t.experiments.UseDatasets, request, what="UseDatasets").run)

    # --- artefacts ------------------------------------------------------------------

    def log_artefact(self, path: PathLike, name: Optional[str] = None, *, media_type: Optional[str] = None) -> Artefact:
        """Uploads a file (a model, a checkpoint, a plot) as an artefact of this run; returns it as stored.

        Example::

            run.log_artefact("model.pt")                               # as "model.pt"
            run.log_artefact("out/loss.svg", name="plots/loss.svg")

        Args:
            path: The local file: streamed, resumed after a broken connection, checked by sha256.
            name: Its path inside the run, e.g. ``"checkpoints/epoch-3.pt"``; defaults to the file's name.
            media_type: Defaults to a guess from the extension (``application/octet-stream`` if unknown).

        A name keeps one content for the life of the run: the same bytes again are
        not uploaded (the stored artefact is returned), so a retried script is safe.

        Raises:
            AlreadyExists: the run has ``name`` with other content (raised before uploading).
            InvalidArgument: a name the server would refuse.
            FileNotFoundError: ``path`` is not a file.
        """
        return self._client.runs.log_artefact(self.id, path, name, media_type=media_type)

    def log_artefacts(self, directory: PathLike, prefix: str = "") -> List[Artefact]:
        """Uploads every file under ``directory`` and commits them to the run all or none; returns them by path.

        Each file is named by its path relative to ``directory``, under ``prefix``
        (``prefix="checkpoints"``: ``checkpoints/epoch-3/model.pt``). Files the run
        already has with the same bytes are not uploaded again; one it has with other
        bytes is AlreadyExists before anything is uploaded. If an upload or the commit
        fails, the run gets none of the files. Above 1,000 files, the commit is made in
        calls of 1,000, each all or none: after a failure between calls, call again to
        log the rest (what is there already is skipped).
        """
        return self._client.runs.log_artefacts(self.id, directory, prefix)

    def artefacts(self, prefix: str = "") -> List[Artefact]:
        """The run's artefacts (whose path starts with ``prefix``), by path."""
        return self._client.runs.artefacts(self.id, prefix)

    def open_artefact(self, name: str, mode: str = "rb", *, encoding: Optional[str] = None) -> IO[Any]:
        """Opens an artefact as a read-only stream (``"rb"``, or ``"r"`` for text), fetched as it is read.

        The binary stream is seekable; reading it from start to end checks its sha256
        (DataLoss on a mismatch), and a broken connection resumes where it stopped.
        NotFound when the run has no artefact ``name``.
        """
        return self._client.runs.open_artefact(self.id, name, mode, encoding=encoding)

    def download_artefacts(self, dir: PathLike, names: Optional[Iterable[str]] = None) -> List[Path]:
        """Writes the run's artefacts (all, or those in ``names``) under ``dir`` at their paths; returns the files.

        Each file is written to a temporary name and renamed once complete and verified;
        a path that would land outside ``dir`` is refused (InvalidArgument) before anything is written.
        """
        return self._client.runs.download_artefacts(self.id, dir, names)

    # --- models -----------------------------------------------------------------------

    def log_model(
        self,
        path: PathLike,
        *,
        name: str,
        framework: str = "",
        signature: "SignatureLike" = None,
        description: str = "",
        tags: Optional[Mapping[str, object]] = None,
        artefact_path: Optional[str] = None,
        request_id: Optional[str] = None,
    ) -> "ModelVersion":
        """Logs a model's files as artefacts of this run and registers them as the next version of model ``name``.

        Example::

            mv = run.log_model("model/", name="churn-xgb", framework="xgboost",
                               signature={"inputs": [...], "outputs": [...]})
            mv.version   # 1, 2, 3 …; mv.run_id == run.id

        The files (a directory, every file under it; or one file) are uploaded once, as the
        run's artefacts under ``artefact_path`` (default: the model's name, e.g.
        ``churn-xgb/weights.bin``); the version is made from those artefacts, no byte copied,
        at their paths under the prefix (``weights.bin``). The model is created in the run's
        project when missing. Calling again after a failure is safe: files the run has are
        not uploaded again, and the same files and metadata return the version created first.

        Args:
            signature: Inputs and outputs: a dict (sent as JSON) or JSON text.
            request_id: Overrides the idempotency key derived from the run, model, prefix,
                metadata and the files' sha256.
        """
        request = _model_register.build_request(
            name, run=None, framework=framework, signature=signature, description=description, tags=tags, project=None, create_model=True
        )
        return _model_register.log_model(self._client, self, path, request, artefact_path, request_id)

    def finish(self, status: str = "finished", *, timeout: Optional[float] = None) -> None:
        """Delivers every metric point, stops the logger and ends the run with ``status``.

        Args:
            status: ``"finished"``, ``"failed"`` or ``"killed"``.
            timeout: Seconds to wait for the metrics; defaults to LoggerOptions.flush_timeout.

        The status is set even when metrics could not be delivered; then
        MetricsNotDelivered is raised after. In a shared run (``shared=True``),
        only rank 0 (or a run without rank) marks it finished, any rank marks it
        failed or killed, and a rank finding it already ended keeps that status.
        Finishing twice does nothing.
        """
        code = _status(status)
        if code == experiment_pb2.RUN_STATUS_RUNNING:
            raise InvalidArgument('a run cannot be finished as "running"')
        if self._ended:
            return
        self._ended = True
        with _open_runs_lock:
            _open_runs.discard(self)
        undelivered: Optional[TraintrackError] = None
        try:
            self._logger.close(timeout)
        except TraintrackError as error:
            undelivered = error
        try:
            self._end(code)
        except TraintrackError:
            if undelivered is None:
                raise
        if undelivered is not None:
            raise undelivered

    def _end(self, code: "experiment_pb2.RunStatus") -> None:
        if self._shared and code == experiment_pb2.RUN_STATUS_FINISHED and self._rank not in (None, 0):
            self.refresh()  # rank 0 ends a shared run
            return
        request = experiment_pb2.UpdateRunStatusRequest(run_id=self.id, status=code)
        try:
            self._set(self._t.call(self._t.experiments.UpdateRunStatus, request, what="UpdateRunStatus").run)
        except FailedPrecondition:
            if not self._shared:
                raise
            self.refresh()  # another rank ended it first

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, kind: Optional[Type[BaseException]], error: Optional[BaseException], tb: Optional[TracebackType]) -> None:
        if error is None:
            self.finish("finished")
            return
        status = "killed" if isinstance(error, KeyboardInterrupt) else "failed"
        try:
            self.finish(status)
        except TraintrackError as failure:
            # The block's own exception propagates; this one is only logged.
            log.error("run %s: ending it as %s failed: %s", self.id, status, failure)


class Runs:
    """Reading runs and their metrics, as ``client.runs``; ``client.start_run`` starts one."""

    def __init__(self, client: "Client") -> None:
        self._client = client
        self._t = client._transport

    def start(
        self,
        project: str,
        experiment: str,
        *,
        name: str = "",
        params: Optional[Mapping[str, object]] = None,
        tags: Optional[Mapping[str, object]] = None,
        group: Optional[str] = None,
        rank: Optional[int] = None,
        host: Optional[str] = None,
        shared: bool = False,
        request_id: Optional[str] = None,
        logger: Optional[LoggerOptions] = None,
    ) -> Run:
        """Starts a run; the same as ``client.start_run`` (see there)."""
        if shared and not group and not request_id:
            raise InvalidArgument("shared=True needs a group (e.g. group=\"job-42\"): every rank of the group logs into one run")
        if request_id is None:
            # Shared: every rank asks for the run of the group. Otherwise a fresh id makes CreateRun's retries safe.
            request_id = f"group:{group}" if shared else str(uuid.uuid4())
        if host is None:
            host = socket.gethostname()[:255] if rank is not None else ""
        request = experiment_pb2.CreateRunRequest(
            project=project,
            experiment=experiment,
            name=name or "",
            params=_strings(params),
            tags=_strings(tags),
            group=group or "",
            host=host,
            request_id=request_id,
        )
        if rank is not None:
            request.rank = rank
        response = self._t.call(self._t.experiments.CreateRun, request, what="CreateRun")
        info = RunInfo._from_proto(response.run)
        return Run(self._client, info, options=logger or LoggerOptions(), shared=shared, rank=rank, host=host)

    def get(self, run_id: str) -> RunInfo:
        """One run with its tags, params and inputs; NotFound if the organisation has none by that id."""
        return RunInfo._from_proto(self._get_proto(run_id))

    def _get_proto(self, run_id: str) -> experiment_pb2.Run:
        response: experiment_pb2.GetRunResponse = self._t.call(self._t.experiments.GetRun, experiment_pb2.GetRunRequest(run_id=run_id), what="GetRun")
        return response.run

    # Artefacts by run id, for a process that has the id but not the Run; Run's methods call these.

    def log_artefact(self, run_id: str, path: PathLike, name: Optional[str] = None, *, media_type: Optional[str] = None) -> Artefact:
        """Uploads a file as an artefact of run ``run_id``; see ``Run.log_artefact``. NotFound: no such run (before uploading)."""
        (artefact,) = _run_artefacts.log_files(self._client, run_id, [_run_artefacts.local_file(path, name, media_type)])
        return artefact

    def log_artefacts(self, run_id: str, directory: PathLike, prefix: str = "") -> List[Artefact]:
        """Uploads every file under ``directory`` to run ``run_id``, all or none; see ``Run.log_artefacts``."""
        return _run_artefacts.log_files(self._client, run_id, _run_artefacts.directory_files(directory, prefix))

    def artefacts(self, run_id: str, prefix: str = "") -> List[Artefact]:
        """The artefacts of run ``run_id`` (whose path starts with ``prefix``), by path. NotFound: no such run."""
        return _run_artefacts.list_artefacts(self._client, run_id, prefix)

    def open_artefact(self, run_id: str, name: str, mode: str = "rb", *, encoding: Optional[str] = None) -> IO[Any]:
        """Opens an artefact of run ``run_id`` as a stream; see ``Run.open_artefact``."""
        return _run_artefacts.open_artefact(self._client, run_id, name, mode, encoding)

    def download_artefacts(self, run_id: str, dir: PathLike, names: Optional[Iterable[str]] = None) -> List[Path]:
        """Writes artefacts of run ``run_id`` under ``dir``; see ``Run.download_artefacts``."""
        return _run_artefacts.download(self._client, run_id, dir, names)

    def list(self, project: str, experiment: str = "", *, group: str = "", page_size: int = 100) -> Iterator[RunInfo]:
        """The runs of a project (or of one experiment, or one group), newest first; paginated lazily."""
        token = ""
        while True:
            request = experiment_pb2.ListRunsRequest(project=project, experiment=experiment, group=group, page_size=page_size, page_token=token)
            page = self._t.call(self._t.experiments.ListRuns, request, what="ListRuns")
            yield from (RunInfo._from_proto(r) for r in page.runs)
            token = page.next_page_token
            if not token:
                return

    def search(
        self,
        project: str,
        *,
        experiments: Sequence[str] = (),
        status: Union[str, Sequence[str], None] = None,
        tags: Optional[Mapping[str, object]] = None,
        params: Optional[Mapping[str, object]] = None,
        metrics: Sequence[Tuple[str, str, float]] = (),
        page_size: int = 100,
    ) -> Iterator[RunInfo]:
        """The runs of a project matching every filter given, newest first; paginated lazily.

        Example::

            client.runs.search("churn", status="finished", params={"lr": 0.1}, metrics=[("loss", "<", 0.3)])

        Args:
            experiments: Only these experiments (all when empty).
            status: One status or several (``"running"``, ``"finished"``, ``"failed"``, ``"killed"``).
            tags: Runs whose tags include every entry.
            params: Runs whose params include every entry (values compared as strings).
            metrics: ``(key, op, value)`` with op ``<``, ``<=``, ``>`` or ``>=``, compared with
                the metric's latest value (highest step); at most 20.
        """
        statuses = [status] if isinstance(status, str) else list(status or [])
        thresholds = []
        for key, op, value in metrics:
            if op not in _OPS:
                raise InvalidArgument(f"metric threshold {key!r}: op must be one of {', '.join(_OPS)}, not {op!r}")
            thresholds.append(experiment_pb2.MetricThreshold(key=key, op=_OPS[op], value=float(value)))
        token = ""
        while True:
            request = experiment_pb2.SearchRunsRequest(
                project=project,
                experiments=list(experiments),
                statuses=[_status(s) for s in statuses],
                tags=_strings(tags),
                params=_strings(params),
                metrics=thresholds,
                page_size=page_size,
                page_token=token,
            )
            page = self._t.call(self._t.experiments.SearchRuns, request, what="SearchRuns")
            yield from (RunInfo._from_proto(r) for r in page.runs)
            token = page.next_page_token
            if not token:
                return

    def metric_history(self, run_ids: Union[str, Sequence[str]], key: str, *, max_points: Optional[int] = None) -> Dict[str, MetricSeries]:
        """The points of metric ``key`` for one or several runs (at most 100), by run id.

        Args:
            run_ids: A run id, or several; every one is in the result (empty when it has no points).
            max_points: None for every point (fetched page by page). Otherwise 2 to
                100,000: each longer series is downsampled by min/max buckets over its
                step range, which keeps peaks and the global minimum and maximum.
        """
        ids = [run_ids] if isinstance(run_ids, str) else list(run_ids)
        points: Dict[str, List[MetricPoint]] = {run_id: [] for run_id in ids}
        downsampled: Dict[str, bool] = {run_id: False for run_id in ids}
        # A response holds at most _HISTORY_POINTS points (runs × max_points): ask for the runs in groups that fit.
        group = max(1, _HISTORY_POINTS // max_points) if max_points else len(ids) or 1
        for at in range(0, max(len(ids), 1), group):
            token = ""
            while True:
                request = experiment_pb2.GetMetricHistoryRequest(
                    key=key, run_ids=ids[at : at + group], max_points=max_points or 0, page_size=0 if max_points else 100_000, page_token=token
                )
                page = self._t.call(self._t.experiments.GetMetricHistory, request, what="GetMetricHistory")
                for series in page.series:
                    points.setdefault(series.run_id, []).extend(MetricPoint._from_proto(p, key) for p in series.points)
                    downsampled[series.run_id] = downsampled.get(series.run_id, False) or series.downsampled
                token = page.next_page_token
                if not token:
                    break
        return {run_id: MetricSeries(run_id, key, pts, downsampled.get(run_id, False)) for run_id, pts in points.items()}

    def log_metrics(self, run_id: str, points: Iterable[MetricPoint], *, batch_id: Optional[str] = None) -> LogResult:
        """Writes one batch of points at once (1 to 10,000), bypassing the background logger.

        ``batch_id`` (default: a fresh uuid4) makes the call idempotent: a batch
        id the run has received before writes nothing again, and the result says
        ``deduplicated``. ``Run.log`` is what a training loop should use.
        """
        request = request_header(run_id, batch_id or str(uuid.uuid4())) + b"".join([p._encode() for p in points])
        response = self._t.call(self._t.log_metrics_bytes, request, what="LogMetrics")
        return LogResult(points_accepted=response.points_accepted, deduplicated=response.deduplicated)

    def replay_spool(self, run_id: Optional[str] = None, *, spool_dir: Optional[str] = None) -> Dict[str, SpoolReplay]:
        """Sends the metric batches that loggers left in the spool undelivered (e.g. their process was killed).

        Each batch goes as it was spooled, with its batch id, oldest first, and
        its file is deleted once the server has it; a batch the server had
        received already is not written twice. Directories of live loggers
        (this process's included) are left to them, and two replays at once
        never send one batch twice. Running it again sends nothing new.

        Example::

            client.runs.replay_spool()          # every run's leftovers under the default spool directory
            client.runs.replay_spool(run.id)    # one run's

        Args:
            run_id: Only this run's batches; every run's when None.
            spool_dir: The spool's root, as in LoggerOptions.spool_dir; defaults to
                ``$TRAINTRACK_SPOOL_DIR`` or ``~/.cache/traintrack/spool``.

        Returns:
            A SpoolReplay per run that had leftovers: batches and points sent,
            batches deduplicated, points rejected (with the errors), live directories skipped.

        Raises:
            Unavailable, Aborted, DeadlineExceeded: the server could not be reached
                (after the client's retries); what was not sent stays spooled, in order.
            InvalidArgument: ``run_id`` is not a run id (e.g. it holds a "/").
        """
        return replay(self._t, Path(spool_dir) if spool_dir else default_spool_dir(), run_id)
