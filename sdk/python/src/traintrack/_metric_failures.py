"""What a run's metric logger could not deliver, and the MetricsNotDelivered that ``flush`` raises for it.

The sender (_metric_sender) and the spooler (_metric_spooler) record here the
batches the server refused for good and the last error while it was
unreachable; ``flush`` (_metric_logger) adds what is still queued or spooled and
raises one MetricsNotDelivered that says all of it. Nothing is lost silently.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, List, Optional

import grpc

from ._transport import RETRYABLE
from .errors import TraintrackError, from_rpc_error

if TYPE_CHECKING:
    from ._spool import Batch, Spool

log = logging.getLogger("traintrack")

# Failures after which the very same batch may succeed: the transport's, and DEADLINE_EXCEEDED,
# which may mean the batch was written and the response lost: the resend is deduplicated.
_RETRYABLE = RETRYABLE | {grpc.StatusCode.DEADLINE_EXCEEDED}


def retryable(error: grpc.RpcError) -> bool:
    """The server was unreachable or busy, or did not answer in time: the same batch may yet succeed."""
    return isinstance(error, grpc.Call) and error.code() in _RETRYABLE


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


class DeliveryFailures:
    """The failures of one logger, guarded by its condition (``cond``), which a rejection notifies."""

    def __init__(self, run_id: str, cond: threading.Condition) -> None:
        self._run_id = run_id
        self._cond = cond
        self._rejected = 0
        self._errors: List[TraintrackError] = []
        self.last_unreachable: Optional[TraintrackError] = None

    def reject(self, batch: "Batch", failure: TraintrackError) -> None:
        """A batch no resend can deliver (refused by the server, or unreadable): logged and counted."""
        log.error("run %s: the server rejected a batch of %d metric points: %s", self._run_id, batch.points, failure)
        self.count(batch.points, failure)

    def count(self, points: int, failure: TraintrackError) -> None:
        """Counts points that cannot be delivered, for flush to report once."""
        with self._cond:
            self._rejected += points
            self._errors.append(failure)
            self._cond.notify_all()

    def unreachable(self, error: grpc.RpcError) -> None:
        """A retryable failure: the server is unreachable or busy, as flush says while points wait."""
        with self._cond:
            self.last_unreachable = from_rpc_error(error)

    def reachable(self) -> None:
        with self._cond:
            self.last_unreachable = None

    def crashed(self, error: BaseException) -> None:
        """The logger thread died of ``error``: flush, seeing it dead, reports it."""
        with self._cond:
            self.last_unreachable = error if isinstance(error, TraintrackError) else TraintrackError(repr(error))
            self._cond.notify_all()

    def not_delivered(self, queued: int, spool: "Spool") -> Optional[MetricsNotDelivered]:
        """What is not delivered (``queued`` points in memory, the spool, the rejections), or None; with the lock held.

        Rejections are reported once; what is still pending is reported until delivered.
        """
        spooled = spool.points
        if not (queued or spooled or self._rejected):
            return None
        parts = []
        errors = list(self._errors)
        if self._rejected:
            parts.append(f"{self._rejected} points rejected by the server ({'; '.join(f'{type(e).__name__}: {e}' for e in self._errors[:3])})")
        if spooled:
            parts.append(
                f"{spooled} points in {len(spool.batches)} batches spooled in {spool.run_dir} (sent when the server "
                f"answers while the run is open; after that by client.runs.replay_spool({self._run_id!r}) or a run resumed with its request id)"
            )
        if queued:
            parts.append(f"{queued} points still queued in memory")
        if (queued or spooled) and self.last_unreachable is not None:
            parts.append(f"the server is unreachable ({type(self.last_unreachable).__name__}: {self.last_unreachable})")
            errors.append(self.last_unreachable)
        error = MetricsNotDelivered(
            f"run {self._run_id}: metrics not delivered: " + "; ".join(parts),
            queued=queued,
            spooled=spooled,
            spool_dir=str(spool.run_dir) if spooled else None,
            rejected=self._rejected,
            errors=errors,
        )
        self._rejected = 0
        self._errors = []
        return error
