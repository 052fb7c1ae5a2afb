"""A live logger's spool: the batches it keeps on disk while the server is unreachable, replayed oldest first.

When the sender (_metric_sender) has retried a batch for ``offline_after``
seconds, that batch, and every later one, is written to the spool (_spool): one
file per batch, named by sequence number and batch id, at most
``spool_max_bytes`` per run (when full, ``on_full`` applies). The spooled
batches are replayed oldest first, always before newer batches, after the
client's backoff, until the server answers again.

The spool directory is locked while its logger lives (see _spool). Batches left
by a logger that ended without delivering them (its process killed, or the
server still unreachable when the run ended) are orphans: a logger of the same
run adopts them when it starts and sends them before its own, and
``client.runs.replay_spool`` (_replay) sends them on request.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import grpc

from ._metric_failures import DeliveryFailures, retryable
from ._metric_options import LoggerOptions
from ._spool import Batch, Spool, adopt_orphans, default_spool_dir
from .errors import TraintrackError, from_rpc_error

if TYPE_CHECKING:
    from ._transport import RetryPolicy

log = logging.getLogger("traintrack")


class MetricSpooler:
    """Spools, adopts and replays the batches of one run's logger; see the module documentation.

    Its state is guarded by the logger's condition (``cond``). The logger thread
    changes it (and ``close``, at the end); ``flush`` reads the spool.
    """

    def __init__(
        self,
        run_id: str,
        options: LoggerOptions,
        retry: "RetryPolicy",
        cond: threading.Condition,
        failures: DeliveryFailures,
        drop: Callable[[int], None],
    ) -> None:
        self._run_id = run_id
        self._options = options
        self._retry = retry
        self._cond = cond
        self._failures = failures
        self._drop = drop  # counts points dropped under on_full="drop"; called with the lock held
        root = Path(options.spool_dir) if options.spool_dir else default_spool_dir()
        self.spool = Spool(root / run_id, f"{os.getpid()}-{uuid.uuid4().hex[:12]}", options.spool_max_bytes)
        self._adopting = True  # until the logger thread has taken over the run's orphaned batches
        self._replay_attempt = 0
        self.next_replay = 0.0  # when to replay the spool next (time.monotonic), while it holds batches

    @property
    def spooling(self) -> bool:
        return bool(self.spool.batches)

    @property
    def pending(self) -> bool:
        """Batches are spooled, or orphans still to be adopted: flush waits for them."""
        return self.spooling or self._adopting

    @property
    def holds_queue(self) -> bool:
        """The spool is full under "block": points stay in memory, so the queue fills and log() waits."""
        return self.spooling and self._options.on_full == "block" and self.spool.bytes >= self.spool.max_bytes

    def adopt(self) -> None:
        """Takes over the batches that dead loggers of this run left in its spool: they go first."""
        try:
            batches, unreadable = adopt_orphans(self.spool.run_dir)
        except OSError as error:
            batches, unreadable = [], [f"{self.spool.run_dir}: {error}"]
        with self._cond:
            for batch in batches:
                self.spool.append(batch)
            self._adopting = False
            self._cond.notify_all()
        for problem in unreadable:
            log.error("run %s: a spooled metric batch cannot be read, and is deleted: %s", self._run_id, problem)
        if batches:
            log.info("run %s: %d metric batches left in the spool by an earlier process are sent first", self._run_id, len(batches))

    def go_offline(self, batch: Batch) -> None:
        """The server has been unreachable for ``offline_after`` seconds: spools ``batch`` and schedules the first replay."""
        log.warning(
            "run %s: the server has been unreachable for %.0f s (%s); spooling metric batches to %s",
            self._run_id, self._options.offline_after, self._failures.last_unreachable, self.spool.directory,
        )
        self._replay_later(1)
        self.spool_or_drop(batch)

    def spool_or_drop(self, batch: Batch) -> None:
        """Writes the batch to the spool, or drops it when the spool is full under on_full="drop"."""
        with self._cond:
            if self._options.on_full == "drop" and not self.spool.fits(batch) and self.spool.batches:  # one batch always fits
                self._drop(batch.points)
                return
        # Under "block" a batch already taken is spooled even past the bound (by at most one
        # batch); holds_queue then keeps the queue in memory until replays make room.
        try:
            self.spool.write(batch)
            with self._cond:
                self.spool.append(batch)
        except OSError as error:
            log.error("run %s: cannot spool a metric batch to %s: %s", self._run_id, self.spool.directory, error)
            self._failures.count(batch.points, TraintrackError(f"cannot write the spool {self.spool.directory}: {error}"))

    def replay(self, send: Callable[[Batch], None]) -> None:
        """Sends spooled batches oldest first with ``send`` (one attempt); on a retryable failure, schedules the next replay."""
        while True:
            with self._cond:
                if not self.spool.batches:
                    break
                batch = self.spool.batches[0]
            try:
                send(batch)
            except grpc.RpcError as error:
                if retryable(error):
                    self._failures.unreachable(error)
                    self._replay_later(self._replay_attempt + 1)
                    return
                self._failures.reject(batch, from_rpc_error(error))
            except OSError as error:  # its file is gone or unreadable: no resend can help
                self._failures.reject(batch, TraintrackError(f"cannot read the spooled batch {batch.path}: {error}"))
            with self._cond:
                self.spool.remove_first()
                self._cond.notify_all()
        log.info("run %s: the server answers again; every spooled metric batch was replayed", self._run_id)
        self._replay_attempt = 0
        self._failures.reachable()
        with self._cond:
            self.spool.cleanup()

    def close(self) -> None:
        """Removes the spool when empty; what is left becomes an orphan: replay_spool, or the run's next logger, sends it."""
        with self._cond:
            self.spool.cleanup()
            self.spool.release()

    def _replay_later(self, attempt: int) -> None:
        self._replay_attempt = attempt
        self.next_replay = time.monotonic() + self._retry.backoff(attempt)
