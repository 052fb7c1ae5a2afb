"""The on-disk spool of metric batches: its layout, the lock that tells a live writer from a dead one, and the logger's spool.

Layout: ``<root>/<run_id>/<pid>-<writer>/<sequence, 12 digits>-<batch_id>.batch``,
one file per batch, each a serialized LogMetricsRequest (run id, batch id and
points: a complete request, so resending it is safe). Each writer directory
holds a ``.lock`` file that its live logger keeps locked (``flock``, or
``msvcrt.locking`` on Windows); the operating system releases it when the
process ends, however it ends (SIGKILL included). A directory whose lock can be
taken therefore belongs to nobody alive: its batches are *orphans*, which
``client.runs.replay_spool`` sends, and which a logger of the same run adopts
when it starts. A writer directory appears only with its lock already held: it
is made as ``<pid>-<writer>.tmp``, locked, then renamed.

SDK versions before the lock wrote the same files without ``.lock``: such a
directory is claimed only when the process named by its pid is gone.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Deque, List, Optional, Tuple

from google.protobuf.message import DecodeError

from ._gen.v1 import experiment_pb2

LOCK_NAME = ".lock"
_WRITER = re.compile(r"(\d+)-[0-9a-f]+(\.tmp)?")
_BATCH = re.compile(r"\d{12}-(.+)\.batch")

if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _alive(pid: int) -> bool:
        return True  # os.kill(pid, 0) would terminate it: never claim an unlocked legacy directory

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _alive(pid: int) -> bool:
        if pid == os.getpid():
            return True
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True


def default_spool_dir() -> Path:
    """``$TRAINTRACK_SPOOL_DIR``, else ``$XDG_CACHE_HOME/traintrack/spool``, else ``~/.cache/traintrack/spool``."""
    configured = os.environ.get("TRAINTRACK_SPOOL_DIR")
    if configured:
        return Path(configured)
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(cache) / "traintrack" / "spool"


def count_points(data: bytes) -> int:
    """The points of a spooled request; DecodeError when the file is not one."""
    return len(experiment_pb2.LogMetricsRequest.FromString(data).points)


class WriterDir:
    """A writer directory of a run's spool, held: its ``.lock`` is locked by this process until ``release`` or ``remove``."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: Optional[int] = fd
        self.pending = 0  # its batches still in a logger's spool

    @classmethod
    def create(cls, run_dir: Path, name: str) -> "WriterDir":
        """Makes ``run_dir/name``, locked before it appears under that name."""
        for attempt in range(3):
            staging = run_dir / f"{name}.tmp"
            try:
                run_dir.mkdir(parents=True, exist_ok=True)
                staging.mkdir()
                fd = os.open(staging / LOCK_NAME, os.O_CREAT | os.O_RDWR, 0o644)
            except FileNotFoundError:  # a replay removed the empty run directory just then
                if attempt == 2:
                    raise
                continue
            if not _try_lock(fd):  # nobody else locks a .tmp directory
                os.close(fd)
                raise OSError(f"cannot lock {staging / LOCK_NAME}")
            os.rename(staging, run_dir / name)
            return cls(run_dir / name, fd)
        raise AssertionError("unreachable")

    @classmethod
    def claim(cls, path: Path) -> "Tuple[Optional[WriterDir], bool]":
        """(the directory held, False), or (None, True) when a live writer holds it, or (None, False) when it is gone."""
        match = _WRITER.fullmatch(path.name)
        lock = path / LOCK_NAME
        try:
            fd = os.open(lock, os.O_RDWR)
        except FileNotFoundError:
            if not path.is_dir():
                return None, False
            if match is None or _alive(int(match.group(1))):
                return None, True
            fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)  # an older SDK's directory, its process gone
        if not _try_lock(fd):
            os.close(fd)
            return None, True
        try:
            held, now = os.fstat(fd), os.stat(lock)
            same = (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)
        except FileNotFoundError:
            same = False
        if not same:  # its owner emptied and removed it before we locked
            os.close(fd)
            return None, False
        return cls(path, fd), False

    def batch_files(self) -> List[Path]:
        """Its batches, oldest first; deletes ``.partial`` files (a write a crash cut short: never spooled)."""
        files = []
        for entry in self.path.iterdir():
            if entry.suffix == ".partial":
                entry.unlink(missing_ok=True)
            elif _BATCH.fullmatch(entry.name):
                files.append(entry)
        return sorted(files)

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def remove(self) -> None:
        """Deletes the directory, then releases its lock."""
        shutil.rmtree(self.path, ignore_errors=True)
        self.release()


def claim_orphans(run_dir: Path) -> Tuple[List[WriterDir], int]:
    """Holds every writer directory of ``run_dir`` no live process holds, in the order they were first written.

    Returns them and how many are busy (held by a live logger). Removes stale
    ``.tmp`` directories (a writer that died while creating its directory).
    """
    claimed: List[Tuple[float, str, WriterDir]] = []
    busy = 0
    try:
        entries = sorted(run_dir.iterdir())
    except FileNotFoundError:
        return [], 0
    for entry in entries:
        match = _WRITER.fullmatch(entry.name)
        if match is None or not entry.is_dir():
            continue
        if match.group(2):
            if not _alive(int(match.group(1))):
                shutil.rmtree(entry, ignore_errors=True)
            continue
        writer, is_busy = WriterDir.claim(entry)
        busy += is_busy
        if writer is not None:
            files = writer.batch_files()
            first = files[0].stat().st_mtime if files else 0.0
            claimed.append((first, entry.name, writer))
    claimed.sort(key=lambda c: (c[0], c[1]))
    return [writer for _, _, writer in claimed], busy


def remove_if_empty(run_dir: Path) -> None:
    try:
        run_dir.rmdir()
    except OSError:
        pass  # not empty: another writer's batches, or gone already


def adopt_orphans(run_dir: Path) -> Tuple[List["Batch"], List[str]]:
    """The orphaned batches of a run, oldest first, their directories held (see claim_orphans), for a logger's spool.

    Also returns the files that could not be read (deleted: they can never be sent).
    """
    batches: List[Batch] = []
    unreadable = []
    writers, _ = claim_orphans(run_dir)
    for writer in writers:
        adopted = 0
        for path in writer.batch_files():
            try:
                data = path.read_bytes()
                points = count_points(data)
            except (OSError, DecodeError) as error:
                unreadable.append(f"{path}: {error}")
                path.unlink(missing_ok=True)
                continue
            match = _BATCH.fullmatch(path.name)
            batches.append(Batch(0, match.group(1) if match else "", points, len(data), None, path, writer))
            adopted += 1
        if not adopted:
            writer.remove()
    return batches, unreadable


@dataclass
class Batch:
    """One batch of a logger: in memory until spooled, then only on disk (``path``)."""

    seq: int
    batch_id: str
    points: int
    size: int
    data: Optional[bytes]
    path: Optional[Path] = None
    writer: Optional[WriterDir] = None

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        return self.path.read_bytes()


class Spool:
    """A logger's spooled batches, oldest first: its own, written to its writer directory, and orphans it adopted."""

    def __init__(self, run_dir: Path, name: str, max_bytes: int) -> None:
        self.run_dir = run_dir
        self.directory = run_dir / name
        self.max_bytes = max_bytes
        self.batches: Deque[Batch] = deque()
        self.bytes = 0
        self.points = 0
        self._own: Optional[WriterDir] = None

    def fits(self, batch: Batch) -> bool:
        return self.bytes + batch.size <= self.max_bytes

    def write(self, batch: Batch) -> None:
        """Writes the batch's file durably (a temporary file renamed into place) and drops it from memory; ``append`` lists it."""
        if self._own is None:
            self._own = WriterDir.create(self.run_dir, self.directory.name)
        path = self.directory / f"{batch.seq:012d}-{batch.batch_id}.batch"
        partial = path.with_suffix(".partial")
        with open(partial, "wb") as file:
            file.write(batch.read())
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
        batch.path, batch.data, batch.writer = path, None, self._own

    def append(self, batch: Batch) -> None:
        self.batches.append(batch)
        self.bytes += batch.size
        self.points += batch.points
        if batch.writer is not None:
            batch.writer.pending += 1

    def remove_first(self) -> None:
        batch = self.batches.popleft()
        self.bytes -= batch.size
        self.points -= batch.points
        if batch.path is not None:
            batch.path.unlink(missing_ok=True)
        writer = batch.writer
        if writer is not None:
            writer.pending -= 1
            if not writer.pending and writer is not self._own:
                writer.remove()  # an adopted directory, drained

    def cleanup(self) -> None:
        """Removes this writer's directory (and the run's, when empty) once no batch is left."""
        if self.batches:
            return
        if self._own is not None:
            self._own.remove()
            self._own = None
        remove_if_empty(self.run_dir)

    def release(self) -> None:
        """Lets go of every directory still holding batches: they become orphans, for replay_spool or the next logger."""
        for writer in {id(b.writer): b.writer for b in self.batches if b.writer is not None}.values():
            writer.release()
        if self._own is not None:
            self._own.release()
            self._own = None
