"""The background metric logger of a run: the bounded queue behind ``Run.log`` and the thread that empties it.

``Run.log`` encodes its points to their wire bytes (see _metric_encoding) and
appends them to a bounded in-memory queue; when it is full, ``on_full`` says
whether ``log`` waits for room or drops the new points. One daemon thread per
run takes them in batches (``batch_size`` points, or whatever is queued
``batch_interval`` seconds after the first point of a batch), joins each batch
once into a ``LogMetricsRequest`` with a fresh ``batch_id`` (a uuid4), and hands
it to the sender (_metric_sender: several in flight, retries), which falls back
to the spooler (_metric_spooler: the on-disk spool and its replay).

``flush`` waits until the queue and the spool are delivered, or raises
MetricsNotDelivered (_metric_failures) saying what is not.
"""

from __future__ import annotations

import enum
import logging
import threading
import time
import uuid
import warnings
from collections import deque
from pathlib import Path
from typing import TYPE_CHECKING, Deque, List, Optional, Union

from ._metric_encoding import request_header
from ._metric_failures import DeliveryFailures
from ._metric_options import LoggerOptions
from ._metric_sender import MetricSender
from ._metric_spooler import MetricSpooler
from ._spool import Batch
from .errors import TraintrackError

if TYPE_CHECKING:
    from ._transport import Transport

log = logging.getLogger("traintrack")


_FINISHED = "the run has finished: its metric logger accepts no more points"


class _Settle(enum.Enum):
    """What MetricLogger._take returns when the oldest batch in flight has its response."""

    SETTLE = enum.auto()


_SETTLE = _Settle.SETTLE


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
        self._flushes = 0  # flush() calls waiting: batch what is queued without waiting for batch_interval
        self._stopping = False
        self._seq = 0
        self.dropped = 0
        self._warned_drop = False
        self._failures = DeliveryFailures(run_id, self._cond)
        self._spooler = MetricSpooler(run_id, options, transport.retry, self._cond, self._failures, self._drop)
        self._sender = MetricSender(transport, run_id, options, self._cond, self._failures, self._spooler)
        self._thread = threading.Thread(target=self._main, name=f"traintrack-metrics-{run_id}", daemon=True)
        self._thread.start()

    @property
    def spool_dir(self) -> Path:
        """This writer's spool directory (it exists only while batches are spooled)."""
        return self._spooler.spool.directory

    @property
    def spooled_points(self) -> int:
        """Points currently in spooled batches."""
        with self._cond:
            return self._spooler.spool.points

    # --- the training loop's side ------------------------------------------------

    def put(self, points: List[bytes]) -> None:
        """Queues encoded points (see PointEncoder); blocks or drops when the queue is full, as ``on_full`` says."""
        options = self._options
        queue = self._queue
        with self._lock:
            if self._stopping:
                raise TraintrackError(_FINISHED)
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
                room = options.queue_size - len(queue)
                if room <= 0:
                    if options.on_full == "drop":
                        self._drop(len(points) - i)
                        break
                    self._cond.wait()
                    if self._stopping:
                        raise TraintrackError(_FINISHED)
                    continue
                if not queue:
                    self._first_queued_at = time.monotonic()
                take = points[i : i + room]
                queue.extend(take)
                i += len(take)
                if len(queue) >= options.batch_size:
                    self._cond.notify_all()

    def _drop(self, n: int) -> None:
        """Counts dropped points and warns once; called with the lock held (by put, and by the spooler)."""
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
                while self._queue or self._sender.unsettled or self._spooler.pending:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0 or not self._thread.is_alive():
                        break
                    self._cond.wait(min(remaining, 1.0))
            finally:
                self._flushes -= 1
            error = self._failures.not_delivered(len(self._queue) + self._sender.unsettled, self._spooler.spool)
            if error is not None:
                raise error

    def close(self, timeout: Optional[float] = None) -> None:
        """Flushes, then stops the thread. Raises what flush raises; the thread stops either way."""
        try:
            self.flush(timeout)
        finally:
            with self._cond:
                self._stopping = True
                self._cond.notify_all()
            self._thread.join(timeout=max(self._t.timeout, 5.0))
            self._spooler.close()

    # --- the logger thread ---------------------------------------------------------

    def _main(self) -> None:
        try:
            self._spooler.adopt()
            while True:
                taken = self._take()
                if taken is None:
                    return
                if taken is _SETTLE:
                    self._sender.settle()
                else:  # [] when only a replay of the spool is due
                    self._sender.deliver(self._batch(taken) if taken else None)
        except BaseException as error:  # noqa: BLE001 - reported by flush, which sees the thread dead
            log.exception("run %s: the metric logger stopped", self._run_id)
            self._failures.crashed(error)

    def _take(self) -> Union[List[bytes], _Settle, None]:
        """The next batch's points; _SETTLE when the oldest batch in flight has its response; [] when a
        spool replay is due; None when stopping with nothing left."""
        options = self._options
        sender = self._sender
        spooler = self._spooler
        with self._cond:
            while True:
                if sender.response_due:
                    return _SETTLE
                now = time.monotonic()
                n = len(self._queue)
                spooling = spooler.spooling
                held = spooler.holds_queue
                room = sender.in_flight < options.max_in_flight
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
                    sender.unsettled += count
                    self._cond.notify_all()  # room in the queue
                    return points
                if self._stopping and (not n or held) and not sender.in_flight:
                    return None
                if spooling and now >= spooler.next_replay:
                    return []
                wait: Optional[float] = None  # a response in flight notifies (see MetricSender._start)
                if n and not held and room:
                    wait = self._first_queued_at + options.batch_interval - now
                if spooling:
                    wait = spooler.next_replay - now if wait is None else min(wait, spooler.next_replay - now)
                self._cond.wait(None if wait is None else max(wait, 0.001))

    def _batch(self, points: List[bytes]) -> Batch:
        self._seq += 1
        batch_id = str(uuid.uuid4())
        data = request_header(self._run_id, batch_id) + b"".join(points)
        return Batch(self._seq, batch_id, len(points), len(data), data)
