"""The settings of a run's metric logger (``tt.LoggerOptions``), checked when they are made.

A frozen value with no machinery: the client and runs take it from users, and
the logger's modules (_metric_logger, _metric_sender, _metric_spooler) read it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

#: The most points the server accepts in one batch.
MAX_BATCH_POINTS = 10_000


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
