"""Sending a run's metric batches: several in flight at once, each retried, then handed to the spool.

The logger thread (_metric_logger) hands each batch to a MetricSender. While the
server answers, up to ``max_in_flight`` batches are sent at once, each without
waiting for the previous one's response, so the server decodes one while the
database writes the other. A batch keeps its ``batch_id`` across every resend,
so a resend after a lost response is deduplicated by the server.

Retryable failures (the server unreachable or busy, a timeout) are retried with
exponential backoff for ``offline_after`` seconds; then the batch, and every
later one, goes to the spooler (_metric_spooler), which replays them, oldest
first and before any newer batch, when the server answers again. Failures that
no resend can fix (e.g. an unknown run) go to _metric_failures, for ``flush``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Deque, Optional, Tuple

import grpc

from ._metric_failures import DeliveryFailures, retryable
from ._metric_options import LoggerOptions
from ._metric_spooler import MetricSpooler
from ._spool import Batch
from .errors import from_rpc_error

if TYPE_CHECKING:
    from ._gen.v1 import experiment_pb2
    from ._transport import Transport

    _Response = experiment_pb2.LogMetricsResponse
    # Batches sent, awaiting their responses, oldest first.
    _Flight = Deque[Tuple[Batch, grpc.Future[_Response]]]

log = logging.getLogger("traintrack")


class MetricSender:
    """Sends and retries the batches of one run's logger; see the module documentation.

    Only the logger thread calls it; ``flush`` reads ``unsettled``. Its state is
    guarded by the logger's condition (``cond``), which it notifies when a
    response arrives and when a batch leaves its hands.
    """

    def __init__(
        self,
        transport: "Transport",
        run_id: str,
        options: LoggerOptions,
        cond: threading.Condition,
        failures: DeliveryFailures,
        spooler: MetricSpooler,
    ) -> None:
        self._t = transport
        self._run_id = run_id
        self._options = options
        self._cond = cond
        self._failures = failures
        self._spooler = spooler
        self._flight: _Flight = deque()
        # Points the logger took from its queue, in batches not yet delivered, rejected, spooled or dropped.
        self.unsettled = 0

    @property
    def in_flight(self) -> int:
        """Batches sent, awaiting their responses."""
        return len(self._flight)

    @property
    def response_due(self) -> bool:
        """The oldest batch in flight has its response: ``settle`` handles it."""
        return bool(self._flight) and self._flight[0][1].done()

    def deliver(self, batch: Optional[Batch]) -> None:
        """Replays the spool when it holds batches, then sends ``batch`` without waiting, or spools it behind them."""
        spooler = self._spooler
        if spooler.spooling:  # nothing is in flight while batches are spooled
            spooler.replay(self._send)
        if batch is None:
            return
        if spooler.spooling:
            spooler.spool_or_drop(batch)  # still unreachable: keep the order
            self._done(batch)
        else:
            self._flight.append((batch, self._start(batch)))

    def settle(self) -> None:
        """Handles the response to the oldest batch in flight.

        After a retryable failure, that batch and every later one that failed
        too are taken one at a time, oldest first, as _send_or_spool does. (A
        later batch may have been written meanwhile, before the one that failed:
        LoggerOptions.max_in_flight says why that is acceptable.)
        """
        batch, future = self._flight.popleft()
        try:
            self._accepted(batch, future.result())
        except grpc.RpcError as error:
            if not retryable(error):
                self._failures.reject(batch, from_rpc_error(error))
                self._done(batch)
                return
            self._failures.unreachable(error)
            again = [batch]
            while self._flight:
                later, later_future = self._flight.popleft()
                if later_future.exception() is None:
                    self._accepted(later, later_future.result())
                    self._done(later)
                else:
                    again.append(later)
            for retried in again:
                if self._spooler.spooling:
                    self._spooler.spool_or_drop(retried)  # keep the order behind what is spooled already
                else:
                    self._send_or_spool(retried)
                self._done(retried)
            return
        self._done(batch)

    def _start(self, batch: Batch) -> "grpc.Future[_Response]":
        """Sends a batch without waiting for the response; its arrival wakes the logger thread."""
        future = self._t.log_metrics_bytes.future(batch.read(), metadata=self._t.metadata, timeout=self._t.timeout)
        future.add_done_callback(self._wake)
        return future

    def _wake(self, _future: "grpc.Future[_Response]") -> None:
        with self._cond:
            self._cond.notify_all()

    def _send(self, batch: Batch) -> None:
        """One attempt, waiting for the response; raises grpc.RpcError (and OSError when a spooled batch cannot be read)."""
        self._accepted(batch, self._t.log_metrics_bytes(batch.read(), metadata=self._t.metadata, timeout=self._t.timeout))

    def _accepted(self, batch: Batch, response: "_Response") -> None:
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
                if not retryable(error):
                    self._failures.reject(batch, from_rpc_error(error))
                    return
                self._failures.unreachable(error)
                left = start + self._options.offline_after - time.monotonic()
                if left <= 0:
                    self._spooler.go_offline(batch)
                    return
                retries += 1
                time.sleep(min(self._t.retry.backoff(retries), left))

    def _done(self, batch: Batch) -> None:
        """The batch left the sender's hands (delivered, rejected, spooled or dropped)."""
        with self._cond:
            self.unsettled -= batch.points
            self._cond.notify_all()
