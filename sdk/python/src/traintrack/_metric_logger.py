"""The background metric logger of a run: a bounded queue, batches, retries, and an on-disk spool.

``Run.log`` only appends points to a bounded in-memory queue. One daemon thread
per run takes them in batches (``batch_size`` points, or whatever is queued
``batch_interval`` seconds after the first point of a batch), encodes each batch
once as a ``LogMetricsRequest`` with a fresh ``batch_id`` (a uuid4), and sends
those very bytes with ``LogMetrics``. A batch keeps its id across every resend,
so a resend after a lost response is deduplicated by the server.

Retryable failures (the server unreachable or busy, a timeout) are retried with
exponential backoff for ``offline_after`` seconds; then the batch, and every
later one, goes to a bounded spool directory, one file per batch named by
sequence number and batch id. Spooled batches are replayed oldest first, and
always before newer batches, when the server answers again. Failures that no
resend can fix (e.g. an unknown run) are kept and raised by ``flush``.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
import uuid
import warnings
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Deque, List, Optional, Tuple

import grpc

from ._gen.v1 import experiment_pb2
from .errors import TraintrackError, from_rpc_error

if TYPE_CHECKING:
    from ._transport import Transport

log = logging.getLogger("traintrack")

#: The most points the server accepts in one batch.
MAX_BATCH_POINTS = 10_000

# Failures after which the very same batch may succeed. DEADLINE_EXCEEDED may
# mean the batch was written and the response lost: the resend is deduplicated.
_RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED, grpc.StatusCode.DEADLINE_EXCEEDED})

# (key, value, step, timestamp in milliseconds)
Point = Tuple[str, float, int, int]


def default_spool_dir() -> Path:
    """``$TRAINTRACK_SPOOL_DIR``, else ``$XDG_CACHE_HOME/traintrack/spool``, else ``~/.cache/traintrack/spool``."""
    configured = os.environ.get("TRAINTRACK_SPOOL_DIR")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "traintrack" / "spool"


@dataclass(frozen=True)
class LoggerOptions:
    """How a run's background metric logger queues, batches, retries and spools.

    Example::

        client.start_run(project="churn", experiment="xgb", logger=tt.LoggerOptions(on_full="drop"))

    Attributes:
        queue_size: Points the in-memory queue holds at most (never more).
        on_full: What ``run.log`` does when the queue is full: ``"block"`` (wait until
            the logger has made room; the default, nothing is lost) or ``"drop"``
            (drop the new points, count them in ``run.dropped``, and warn once).
        batch_size: Points per ``LogMetrics`` batch, 1 to 10,000.
        batch_interval: Seconds a point may wait in the queue for its batch to fill.
        offline_after: Seconds a batch is retried (with exponential backoff, as the
            client's RetryPolicy) before the server counts as unreachable and
            batches go to the spool.
        spool_dir: Where spooled batches are written, one directory per run and
            writer; defaults to ``$TRAINTRACK_SPOOL_DIR`` or ``~/.cache/traintrack/spool``.
        spool_max_bytes: The most the spool of one run holds; when full, ``on_full`` applies.
        flush_timeout: Seconds ``flush()`` (and leaving a run's ``with`` block) waits
            for every point to be delivered before it raises MetricsNotDelivered.
    """

    queue_size: int = 100_000
    on_full: str = "block"
    batch_size: int = 5_000
    batch_interval: float = 1.0
    offline_after: float = 10.0
    spool_dir: Optional[str] = None
    spool_max_bytes: int = 512 * 1024 * 1024
    flush_timeout: float = 120.0

    def __post_init__(self) -> None:
        if self.on_full not in ("block", "drop"):
            raise ValueError(f'on_full must be "block" or "drop", not {self.on_full!r}')
        if not 1 <= self.batch_size <= MAX_BATCH_POINTS:
            raise ValueError(f"batch_size must be 1 to {MAX_BATCH_POINTS}, not {self.batch_size}")
        if self.queue_size < 1:
            raise ValueError(f"queue_size must be at least 1, not {self.queue_size}")
        if self.spool_max_bytes < 0:
            raise ValueError("spool_max_bytes must not be negative")


class MetricsNotDelivered(TraintrackError):
    """Metric points that could not be delivered: ``flush()`` or the end of a run says which.

    Attributes:
        queued: Points still in memory (the server was unreachable and the spool full or stopped).
        spooled: Points in batches on disk under ``spool_dir``, not yet accepted by the server.
        spool_dir: The run's spool directory (kept while it holds batches).
        rejected: Points the server refused (e.g. an unknown run); resending cannot help.
        errors: The errors of the rejected batches, and the last error while unreachable.
    """

    def __init__(
        self, message: str, *, queued: int, spooled: int, spool_dir: Optional[str], rejected: int, errors: List[TraintrackError]
    ) -> None:
        super().__init__(message)
        self.queued = queued
        self.spooled = spooled
        self.spool_dir = spool_dir
        self.rejected = rejected
        self.errors = errors


@dataclass
class _Batch:
    seq: int
    batch_id: str
    points: int
    data: bytes
    path: Optional[Path] = None  # set once spooled


class _Spool:
    """Batches on disk, oldest first: ``<dir>/<seq, 12 digits>-<batch_id>.batch``, each a serialized LogMetricsRequest."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self.batches: Deque[_Batch] = deque()
        self.bytes = 0

    @property
    def points(self) -> int:
        return sum(b.points for b in self.batches)

    def fits(self, batch: _Batch) -> bool:
        return self.bytes + len(batch.data) <= self.max_bytes

    def write(self, batch: _Batch) -> None:
        """Writes the batch's file durably (a temporary file renamed into place); ``append`` lists it."""
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{batch.seq:012d}-{batch.batch_id}.batch"
        partial = path.with_suffix(".partial")
        with open(partial, "wb") as file:
            file.write(batch.data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
        batch.path = path

    def append(self, batch: _Batch) -> None:
        self.batches.append(batch)
        self.bytes += len(batch.data)

    def remove_first(self) -> None:
        batch = self.batches.popleft()
        self.bytes -= len(batch.data)
        if batch.path is not None:
            try:
                batch.path.unlink()
            except FileNotFoundError:
                pass

    def cleanup(self) -> None:
        """Removes the directory when no batch is left in it."""
        if not self.batches and self.directory.is_dir():
            shutil.rmtree(self.directory, ignore_errors=True)
            try:
                self.directory.parent.rmdir()  # the run's directory, when no other writer uses it
            except OSError:
                pass


class MetricLogger:
    """The queue and daemon thread behind ``Run.log``; see the module documentation."""

    def __init__(self, transport: "Transport", run_id: str, options: LoggerOptions, worker: Optional[experiment_pb2.Worker]) -> None:
        self._t = transport
        self._run_id = run_id
        self._options = options
        self._worker = worker
        self._cond = threading.Condition()
        self._queue: Deque[Point] = deque()
        self._first_queued_at = 0.0
        self._in_flight = 0
        self._flushes = 0  # flush() calls waiting: batch what is queued without waiting for batch_interval
        self._stopping = False
        self._seq = 0
        self.dropped = 0
        self.sent = 0
        self._warned_drop = False
        self._rejected = 0
        self._errors: List[TraintrackError] = []
        self._last_unreachable: Optional[TraintrackError] = None
        root = Path(options.spool_dir) if options.spool_dir else default_spool_dir()
        self._spool = _Spool(root / run_id / f"{os.getpid()}-{uuid.uuid4().hex[:12]}", options.spool_max_bytes)
        self._replay_attempt = 0
        self._next_replay = 0.0
        self._thread = threading.Thread(target=self._main, name=f"traintrack-metrics-{run_id}", daemon=True)
        self._thread.start()

    @property
    def spool_dir(self) -> Path:
        """This writer's spool directory (it exists only while batches are spooled)."""
        return self._spool.directory

    @property
    def spooled_points(self) -> int:
        """Points currently in spooled batches."""
        with self._cond:
            return self._spool.points

    # --- the training loop's side ------------------------------------------------

    def put(self, points: List[Point]) -> None:
        """Queues points; blocks or drops when the queue is full, as ``on_full`` says."""
        options = self._options
        with self._cond:
            if self._stopping:
                raise TraintrackError("the run has finished: its metric logger accepts no more points")
            i = 0
            while i < len(points):
                room = options.queue_size - len(self._queue)
                if room <= 0:
                    if options.on_full == "drop":
                        self._drop(len(points) - i)
                        break
                    self._cond.wait()
                    if self._stopping:
                        raise TraintrackError("the run has finished: its metric logger accepts no more points")
                    continue
                if not self._queue:
                    self._first_queued_at = time.monotonic()
                take = points[i : i + room]
                self._queue.extend(take)
                i += len(take)
                if len(self._queue) >= options.batch_size:
                    self._cond.notify_all()

    def _drop(self, n: int) -> None:
        self.dropped += n
        if not self._warned_drop:
            self._warned_drop = True
            message = (
                f"run {self._run_id}: the metric queue is full ({self._options.queue_size} points) and on_full=\"drop\": "
                "dropping points; run.dropped counts them (this warning is shown once)"
            )
            log.warning(message)
            warnings.warn(message, RuntimeWarning, stacklevel=4)

    def flush(self, timeout: Optional[float] = None) -> None:
        """Waits until every queued and spooled point is accepted by the server.

        Raises:
            MetricsNotDelivered: the server rejected some batches, or ``timeout``
                passed (default: ``flush_timeout``) with points still queued or spooled.
        """
        deadline = time.monotonic() + (self._options.flush_timeout if timeout is None else timeout)
        with self._cond:
            self._flushes += 1
            self._cond.notify_all()
            try:
                while self._queue or self._in_flight or self._spool.batches:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not self._thread.is_alive():
                        break
                    self._cond.wait(min(remaining, 1.0))
            finally:
                self._flushes -= 1
            self._raise_undelivered()

    def close(self, timeout: Optional[float] = None) -> None:
        """Flushes, then stops the thread. Raises what flush raises; the thread stops either way."""
        try:
            self.flush(timeout)
        finally:
            with self._cond:
                self._stopping = True
                self._cond.notify_all()
            self._thread.join(timeout=max(self._t.timeout, 5.0))
            with self._cond:
                self._spool.cleanup()

    def _raise_undelivered(self) -> None:
        # Called with the lock held.
        queued = len(self._queue) + self._in_flight
        spooled = self._spool.points
        if not (queued or spooled or self._rejected):
            return
        parts = []
        errors = list(self._errors)
        if self._rejected:
            parts.append(f"{self._rejected} points rejected by the server ({'; '.join(f'{type(e).__name__}: {e}' for e in self._errors[:3])})")
        if spooled:
            parts.append(f"{spooled} points in {len(self._spool.batches)} batches spooled in {self._spool.directory}")
        if queued:
            parts.append(f"{queued} points still queued in memory")
        if (queued or spooled) and self._last_unreachable is not None:
            parts.append(f"the server is unreachable ({type(self._last_unreachable).__name__}: {self._last_unreachable})")
            errors.append(self._last_unreachable)
        error = MetricsNotDelivered(
            f"run {self._run_id}: metrics not delivered: " + "; ".join(parts),
            queued=queued,
            spooled=spooled,
            spool_dir=str(self._spool.directory) if spooled else None,
            rejected=self._rejected,
            errors=errors,
        )
        # Rejections are reported once; what is still pending is reported until delivered.
        self._rejected = 0
        self._errors = []
        raise error

    # --- the logger thread ---------------------------------------------------------

    def _main(self) -> None:
        try:
            while True:
                points = self._take()
                if points is None:
                    return
                batch = self._encode(points) if points else None
                if self._spool.batches:
                    self._replay()
                if batch is not None:
                    if self._spool.batches:
                        self._spool_or_drop(batch)  # still unreachable: keep the order
                    else:
                        self._send_or_spool(batch)
                with self._cond:
                    self._in_flight = 0
                    self._cond.notify_all()
        except BaseException as error:  # noqa: BLE001 - reported by flush, which sees the thread dead
            log.exception("run %s: the metric logger stopped", self._run_id)
            with self._cond:
                self._last_unreachable = error if isinstance(error, TraintrackError) else TraintrackError(repr(error))
                self._cond.notify_all()

    def _take(self) -> Optional[List[Point]]:
        """The next batch's points; [] when a spool replay is due; None when stopping."""
        options = self._options
        with self._cond:
            while True:
                now = time.monotonic()
                n = len(self._queue)
                spooling = bool(self._spool.batches)
                # With the spool full under "block", leave points in memory: the queue fills and log() waits.
                held = spooling and options.on_full == "block" and self._spool.bytes >= self._spool.max_bytes
                if n and not held and (
                    n >= options.batch_size or self._flushes or self._stopping or now - self._first_queued_at >= options.batch_interval
                ):
                    count = min(n, options.batch_size)
                    points = [self._queue.popleft() for _ in range(count)]
                    self._first_queued_at = now
                    self._in_flight = count
                    self._cond.notify_all()  # room in the queue
                    return points
                if self._stopping and (not n or held):
                    return None
                if spooling and now >= self._next_replay:
                    return []
                wait: Optional[float] = None
                if n and not held:
                    wait = self._first_queued_at + options.batch_interval - now
                if spooling:
                    wait = self._next_replay - now if wait is None else min(wait, self._next_replay - now)
                self._cond.wait(None if wait is None else max(wait, 0.001))

    def _encode(self, points: List[Point]) -> _Batch:
        self._seq += 1
        batch_id = str(uuid.uuid4())
        request = experiment_pb2.LogMetricsRequest(run_id=self._run_id, batch_id=batch_id)
        add = request.points.add
        worker = self._worker
        for key, value, step, ms in points:
            point = add(key=key, value=value, step=step)
            point.timestamp.seconds, millis = divmod(ms, 1000)
            point.timestamp.nanos = millis * 1_000_000
            if worker is not None:
                point.worker.CopyFrom(worker)
        return _Batch(self._seq, batch_id, len(points), request.SerializeToString())

    def _send(self, batch: _Batch) -> None:
        """One attempt; raises grpc.RpcError."""
        response = self._t.log_metrics_bytes(batch.data, metadata=self._t.metadata, timeout=self._t.timeout)
        with self._cond:
            self.sent += batch.points
            if response.deduplicated:
                log.debug("run %s: batch %s was already received", self._run_id, batch.batch_id)

    def _send_or_spool(self, batch: _Batch) -> None:
        """Sends with retries for ``offline_after`` seconds, then spools."""
        start = time.monotonic()
        retries = 0
        while True:
            try:
                self._send(batch)
                return
            except grpc.RpcError as error:
                code = error.code() if isinstance(error, grpc.Call) else None
                if code not in _RETRYABLE:
                    self._reject(batch, error)
                    return
                with self._cond:
                    self._last_unreachable = from_rpc_error(error)
                left = start + self._options.offline_after - time.monotonic()
                if left <= 0:
                    log.warning(
                        "run %s: the server has been unreachable for %.0f s (%s); spooling metric batches to %s",
                        self._run_id, self._options.offline_after, self._last_unreachable, self._spool.directory,
                    )
                    self._replay_attempt = 1
                    self._next_replay = time.monotonic() + self._t.retry.backoff(1)
                    self._spool_or_drop(batch)
                    return
                retries += 1
                time.sleep(min(self._t.retry.backoff(retries), left))

    def _spool_or_drop(self, batch: _Batch) -> None:
        with self._cond:
            fits = self._spool.fits(batch) or not self._spool.batches  # one batch always fits
        if not fits and self._options.on_full == "drop":
            with self._cond:
                self._drop(batch.points)
            return
        # Under "block" a batch already taken is spooled even past the bound (by at most one
        # batch); _take then holds the queue in memory until replays make room.
        try:
            self._spool.write(batch)
            with self._cond:
                self._spool.append(batch)
        except OSError as error:
            log.error("run %s: cannot spool a metric batch to %s: %s", self._run_id, self._spool.directory, error)
            with self._cond:
                self._rejected += batch.points
                self._errors.append(TraintrackError(f"cannot write the spool {self._spool.directory}: {error}"))

    def _replay(self) -> None:
        """Sends spooled batches oldest first; on a retryable failure, schedules the next attempt."""
        while True:
            with self._cond:
                if not self._spool.batches:
                    break
                batch = self._spool.batches[0]
            try:
                self._send(batch)
            except grpc.RpcError as error:
                code = error.code() if isinstance(error, grpc.Call) else None
                if code in _RETRYABLE:
                    with self._cond:
                        self._last_unreachable = from_rpc_error(error)
                        self._replay_attempt += 1
                        self._next_replay = time.monotonic() + self._t.retry.backoff(self._replay_attempt)
                    return
                self._reject(batch, error)
            with self._cond:
                self._spool.remove_first()
                self._cond.notify_all()
        log.info("run %s: the server answers again; every spooled metric batch was replayed", self._run_id)
        with self._cond:
            self._replay_attempt = 0
            self._last_unreachable = None
            self._spool.cleanup()

    def _reject(self, batch: _Batch, error: grpc.RpcError) -> None:
        failure = from_rpc_error(error)
        log.error("run %s: the server rejected a batch of %d metric points: %s", self._run_id, batch.points, failure)
        with self._cond:
            self._rejected += batch.points
            self._errors.append(failure)
            self._cond.notify_all()
