"""The background metric logger of a run: a bounded queue, batches, retries, and an on-disk spool.

``Run.log`` encodes its points to their wire bytes (see _metric_encoding) and
appends them to a bounded in-memory queue. One daemon thread per run takes them
in batches (``batch_size`` points, or whatever is queued ``batch_interval``
seconds after the first point of a batch), joins each batch once into a
``LogMetricsRequest`` with a fresh ``batch_id`` (a uuid4), and sends those very
bytes with ``LogMetrics``, up to ``max_in_flight`` batches at once: the next
batch is sent before the previous one's response is back, so the server decodes
one while the database writes the other. A batch keeps its id across every
resend, so a resend after a lost response is deduplicated by the server.

Retryable failures (the server unreachable or busy, a timeout) are retried with
exponential backoff for ``offline_after`` seconds; then the batch, and every
later one, goes to a bounded spool directory, one file per batch named by
sequence number and batch id. Spooled batches are replayed oldest first, and
always before newer batches, when the server answers again. Failures that no
resend can fix (e.g. an unknown run) are kept and raised by ``flush``.

The spool directory is locked while its logger lives (see _spool). Batches
left by a logger that ended without delivering them (its process killed, or the
server still unreachable when the run ended) are orphans: a logger of the same
run adopts them when it starts and sends them before its own, and
``client.runs.replay_spool`` sends them on request.
"""

from __future__ import annotations

import enum
import logging
import os
import threading
import time
import uuid
import warnings
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Deque, List, Optional, Tuple, Union, cast

import grpc

from ._metric_encoding import request_header
from ._spool import Batch, Spool, adopt_orphans, default_spool_dir
from .errors import TraintrackError, from_rpc_error

if TYPE_CHECKING:
    from ._gen.v1 import experiment_pb2
    from ._transport import Transport

    _Response = experiment_pb2.LogMetricsResponse
    # Batches sent, awaiting their responses, oldest first.
    _Flight = Deque[Tuple[Batch, grpc.Future[_Response]]]

log = logging.getLogger("traintrack")

#: The most points the server accepts in one batch.
MAX_BATCH_POINTS = 10_000

# Failures after which the very same batch may succeed. DEADLINE_EXCEEDED may
# mean the batch was written and the response lost: the resend is deduplicated.
_RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED, grpc.StatusCode.DEADLINE_EXCEEDED})

__all__ = ["LoggerOptions", "MetricLogger", "MetricsNotDelivered", "default_spool_dir"]


class _Settle(enum.Enum):
    """What MetricLogger._take returns when the oldest batch in flight has its response."""

    SETTLE = enum.auto()


_SETTLE = _Settle.SETTLE


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
        max_in_flight: Batches sent at once, each awaiting its response, 1 to 8. With 2
            (the default) the server decodes one while the database writes the other,
            which nearly doubles throughput. The server may write batches in flight
            together in either order (and a batch resent after a failure after the next
            one): that matters only to points of one key with the same step and
            timestamp, which a history orders by arrival. 1 makes arrival follow the
            order of logging.
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
    max_in_flight: int = 2
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
        if not 1 <= self.max_in_flight <= 8:
            raise ValueError(f"max_in_flight must be 1 to 8, not {self.max_in_flight}")
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


class MetricLogger:
    """The queue and daemon thread behind ``Run.log``; see the module documentation."""

    def __init__(self, transport: "Transport", run_id: str, options: LoggerOptions) -> None:
        self._t = transport
        self._run_id = run_id
        self._options = options
        # A plain lock under the condition: put() takes it with C-level calls only.
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._queue: Deque[bytes] = deque()  # one encoded point each (a LogMetricsRequest.points field)
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
        self._spool = Spool(root / run_id, f"{os.getpid()}-{uuid.uuid4().hex[:12]}", options.spool_max_bytes)
        self._adopting = True  # until the thread has taken over the run's orphaned batches
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

    def put(self, points: List[bytes]) -> None:
        """Queues encoded points (see PointEncoder); blocks or drops when the queue is full, as ``on_full`` says."""
        options = self._options
        queue = self._queue
        with self._lock:
            if self._stopping:
                raise TraintrackError("the run has finished: its metric logger accepts no more points")
            queued = len(queue)
            if queued + len(points) <= options.queue_size:  # the common case: room for all
                if not queued:
                    self._first_queued_at = time.monotonic()
                queue.extend(points)
                if queued < options.batch_size <= len(queue):
                    self._cond.notify_all()  # a batch is ready (the thread checks again after each send)
                return
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
                while self._queue or self._in_flight or self._spool.batches or self._adopting:
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
                self._spool.release()  # what is left becomes an orphan: replay_spool, or the run's next logger, sends it

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
            parts.append(
                f"{spooled} points in {len(self._spool.batches)} batches spooled in {self._spool.run_dir} (sent when the server "
                f"answers while the run is open; after that by client.runs.replay_spool({self._run_id!r}) or a run resumed with its request id)"
            )
        if queued:
            parts.append(f"{queued} points still queued in memory")
        if (queued or spooled) and self._last_unreachable is not None:
            parts.append(f"the server is unreachable ({type(self._last_unreachable).__name__}: {self._last_unreachable})")
            errors.append(self._last_unreachable)
        error = MetricsNotDelivered(
            f"run {self._run_id}: metrics not delivered: " + "; ".join(parts),
            queued=queued,
            spooled=spooled,
            spool_dir=str(self._spool.run_dir) if spooled else None,
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
            self._adopt()
            flight: _Flight = deque()
            while True:
                taken = self._take(flight)
                if taken is None:
                    return
                if taken is _SETTLE:
                    self._settle(flight)
                    continue
                batch = self._batch(taken) if taken else None
                if self._spool.batches:  # nothing is in flight while batches are spooled
                    self._replay()
                if batch is None:
                    continue
                if self._spool.batches:
                    self._spool_or_drop(batch)  # still unreachable: keep the order
                    self._done(batch)
                else:
                    flight.append((batch, self._start(batch)))
        except BaseException as error:  # noqa: BLE001 - reported by flush, which sees the thread dead
            log.exception("run %s: the metric logger stopped", self._run_id)
            with self._cond:
                self._last_unreachable = error if isinstance(error, TraintrackError) else TraintrackError(repr(error))
                self._cond.notify_all()

    def _adopt(self) -> None:
        """Takes over the batches that dead loggers of this run left in its spool: they go first."""
        try:
            batches, unreadable = adopt_orphans(self._spool.run_dir)
        except OSError as error:
            batches, unreadable = [], [f"{self._spool.run_dir}: {error}"]
        with self._cond:
            for batch in batches:
                self._spool.append(batch)
            self._adopting = False
            self._cond.notify_all()
        for problem in unreadable:
            log.error("run %s: a spooled metric batch cannot be read, and is deleted: %s", self._run_id, problem)
        if batches:
            log.info("run %s: %d metric batches left in the spool by an earlier process are sent first", self._run_id, len(batches))

    def _take(self, flight: _Flight) -> Union[List[bytes], _Settle, None]:
        """The next batch's points; _SETTLE when the oldest batch in flight has its response; [] when a
        spool replay is due; None when stopping with nothing left."""
        options = self._options
        with self._cond:
            while True:
                if flight and flight[0][1].done():
                    return _SETTLE
                now = time.monotonic()
                n = len(self._queue)
                spooling = bool(self._spool.batches)
                # With the spool full under "block", leave points in memory: the queue fills and log() waits.
                held = spooling and options.on_full == "block" and self._spool.bytes >= self._spool.max_bytes
                room = len(flight) < options.max_in_flight
                if n and not held and room and (
                    n >= options.batch_size or self._flushes or self._stopping or now - self._first_queued_at >= options.batch_interval
                ):
                    count = min(n, options.batch_size)
                    if count == n:
                        points = list(self._queue)
                        self._queue.clear()
                    else:
                        points = [self._queue.popleft() for _ in range(count)]
                    self._first_queued_at = now
                    self._in_flight += count
                    self._cond.notify_all()  # room in the queue
                    return points
                if self._stopping and (not n or held) and not flight:
                    return None
                if spooling and now >= self._next_replay:
                    return []
                wait: Optional[float] = None  # a response in flight notifies (see _start)
                if n and not held and room:
                    wait = self._first_queued_at + options.batch_interval - now
                if spooling:
                    wait = self._next_replay - now if wait is None else min(wait, self._next_replay - now)
                self._cond.wait(None if wait is None else max(wait, 0.001))

    def _start(self, batch: Batch) -> "grpc.Future[_Response]":
        """Sends a batch without waiting for the response; its arrival wakes _take."""
        call = cast("grpc.UnaryUnaryMultiCallable[bytes, _Response]", self._t.log_metrics_bytes)
        future = call.future(batch.read(), metadata=self._t.metadata, timeout=self._t.timeout)
        future.add_done_callback(self._wake)
        return future

    def _wake(self, _future: "grpc.Future[_Response]") -> None:
        with self._cond:
            self._cond.notify_all()

    def _settle(self, flight: _Flight) -> None:
        """Handles the response to the oldest batch in flight.

        After a retryable failure, that batch and every later one that failed
        too are taken one at a time, oldest first, as _send_or_spool does. (A
        later batch may have been written meanwhile, before the one that failed:
        LoggerOptions.max_in_flight says why that is acceptable.)
        """
        batch, future = flight.popleft()
        try:
            self._accepted(batch, future.result())
        except grpc.RpcError as error:
            code = error.code() if isinstance(error, grpc.Call) else None
            if code not in _RETRYABLE:
                self._reject(batch, from_rpc_error(error))
                self._done(batch)
                return
            with self._cond:
                self._last_unreachable = from_rpc_error(error)
            again = [batch]
            while flight:
                later, later_future = flight.popleft()
                if later_future.exception() is None:
                    self._accepted(later, later_future.result())
                    self._done(later)
                else:
                    again.append(later)
            for retried in again:
                if self._spool.batches:
                    self._spool_or_drop(retried)  # keep the order behind what is spooled already
                else:
                    self._send_or_spool(retried)
                self._done(retried)
            return
        self._done(batch)

    def _done(self, batch: Batch) -> None:
        """The batch left the logger's hands (delivered, rejected, spooled or dropped)."""
        with self._cond:
            self._in_flight -= batch.points
            self._cond.notify_all()

    def _batch(self, points: List[bytes]) -> Batch:
        self._seq += 1
        batch_id = str(uuid.uuid4())
        data = request_header(self._run_id, batch_id) + b"".join(points)
        return Batch(self._seq, batch_id, len(points), len(data), data)

    def _send(self, batch: Batch) -> None:
        """One attempt; raises grpc.RpcError (and OSError when a spooled batch cannot be read)."""
        self._accepted(batch, self._t.log_metrics_bytes(batch.read(), metadata=self._t.metadata, timeout=self._t.timeout))

    def _accepted(self, batch: Batch, response: _Response) -> None:
        with self._cond:
            self.sent += batch.points
            if response.deduplicated:
                log.debug("run %s: batch %s was already received", self._run_id, batch.batch_id)

    def _send_or_spool(self, batch: Batch) -> None:
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
                    self._reject(batch, from_rpc_error(error))
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

    def _spool_or_drop(self, batch: Batch) -> None:
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
                self._reject(batch, from_rpc_error(error))
            except OSError as error:  # its file is gone or unreadable: no resend can help
                self._reject(batch, TraintrackError(f"cannot read the spooled batch {batch.path}: {error}"))
            with self._cond:
                self._spool.remove_first()
                self._cond.notify_all()
        log.info("run %s: the server answers again; every spooled metric batch was replayed", self._run_id)
        with self._cond:
            self._replay_attempt = 0
            self._last_unreachable = None
            self._spool.cleanup()

    def _reject(self, batch: Batch, failure: TraintrackError) -> None:
        log.error("run %s: the server rejected a batch of %d metric points: %s", self._run_id, batch.points, failure)
        with self._cond:
            self._rejected += batch.points
            self._errors.append(failure)
            self._cond.notify_all()
