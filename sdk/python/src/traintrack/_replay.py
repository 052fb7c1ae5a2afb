"""Replaying spools that no live logger holds: what a crashed or finished process left on disk (``client.runs.replay_spool``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Dict, List, Optional

from google.protobuf.message import DecodeError

from ._spool import WriterDir, claim_orphans, count_points, remove_if_empty
from .errors import Aborted, DeadlineExceeded, InvalidArgument, TraintrackError, Unavailable

if TYPE_CHECKING:
    from ._transport import Transport

log = logging.getLogger("traintrack")

# The server unreachable or busy: the batch stays on disk, for the next replay.
_TRY_AGAIN = (Unavailable, Aborted, DeadlineExceeded)


@dataclass(frozen=True)
class SpoolReplay:
    """What ``client.runs.replay_spool`` did for one run.

    Attributes:
        run_id: The run the batches belong to.
        batches: Batches delivered, oldest first, each then deleted from the spool.
        points: Points in those batches.
        deduplicated: Batches among them the server had received before (a process
            that died after sending one and before deleting its file): not written twice.
        rejected: Points in batches the server refused for good (e.g. the run is
            gone) or that could not be read; their files are deleted, ``errors`` says why.
        busy: Writer directories skipped because a live logger holds them (its own
            process replays them).
        errors: The errors of the rejected batches.
    """

    run_id: str
    batches: int = 0
    points: int = 0
    deduplicated: int = 0
    rejected: int = 0
    busy: int = 0
    errors: List[TraintrackError] = field(default_factory=list)


def replay(transport: "Transport", root: Path, run_id: Optional[str]) -> Dict[str, SpoolReplay]:
    """Sends the orphaned batches under ``root`` (of one run, or of every run), oldest first; see Runs.replay_spool."""
    if run_id is not None:
        if not run_id or run_id in (".", "..") or "/" in run_id or "\\" in run_id:
            raise InvalidArgument(f"{run_id!r} is not a run id")
        run_dirs = [root / run_id]
    else:
        try:
            run_dirs = sorted(p for p in root.iterdir() if p.is_dir())
        except FileNotFoundError:
            run_dirs = []
    results: Dict[str, SpoolReplay] = {}
    for run_dir in run_dirs:
        writers, busy = claim_orphans(run_dir)
        if not writers and not busy:
            remove_if_empty(run_dir)
            continue
        try:
            results[run_dir.name] = _replay_run(transport, run_dir.name, writers, busy)
        finally:
            for writer in writers:
                writer.release()
            remove_if_empty(run_dir)
    return results


def _replay_run(transport: "Transport", run_id: str, writers: List[WriterDir], busy: int) -> SpoolReplay:
    batches = points = deduplicated = rejected = 0
    errors: List[TraintrackError] = []
    for writer in writers:
        for path in writer.batch_files():
            try:
                data = path.read_bytes()
                count = count_points(data)
            except (OSError, DecodeError) as error:
                errors.append(TraintrackError(f"cannot read the spooled batch {path}: {error}"))
                path.unlink(missing_ok=True)
                continue
            try:
                response = transport.call(transport.log_metrics_bytes, data, what="LogMetrics")
            except _TRY_AGAIN:
                raise  # this batch and the later ones stay spooled, in order
            except TraintrackError as error:
                log.error("run %s: the server rejected the spooled batch %s (%d points): %s", run_id, path, count, error)
                rejected += count
                errors.append(error)
            else:
                batches += 1
                points += count
                deduplicated += bool(response.deduplicated)
            path.unlink(missing_ok=True)
        writer.remove()
    if batches:
        log.info("run %s: replayed %d spooled batches (%d points)", run_id, batches, points)
    return SpoolReplay(run_id, batches, points, deduplicated, rejected, busy, errors)
