"""Reading artefacts, of a dataset version or of a run, as streams and as files.

``ArtefactStream`` is a raw binary file: ``read`` pulls the next chunks of the
server stream, so memory stays at about one chunk (1 MiB) whatever the size.
A read from the first byte to the last is checked against the artefact's
sha256 (DataLoss when they differ). A broken stream resumes at the current
offset, with the same bounded retries as uploads. ``seek`` restarts the stream
at the new offset (the hash is then no longer checked).

Datasets (DatasetService.DownloadArtefact), runs
(RunArtefactService.DownloadRunArtefact) and model versions
(ModelService.DownloadModelFile) stream alike: a description first, then
chunks. An ``ArtefactReader`` holds what differs, the call that opens one
file's stream at an offset and a label for messages, and opens, downloads
and writes files the same way for all three.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import time
import uuid
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Callable, Deque, Iterator, List, Optional, Sequence, Union

import grpc

from . import _progress
from ._gen.v1 import dataset_pb2, model_pb2, run_artefact_pb2
from ._models import Artefact
from ._paths import safe_join
from ._transport import RETRYABLE, Transport, describe
from .errors import DataLoss, from_rpc_error

log = logging.getLogger("traintrack")

#: One message of a download stream: the artefact's description first, then chunks,
#: each a view of the received message's bytes (see _download_wire.py).
DownloadResponse = Union[
    memoryview, dataset_pb2.DownloadArtefactResponse, run_artefact_pb2.DownloadRunArtefactResponse, model_pb2.DownloadModelFileResponse
]
#: Starts the server stream of the artefact at ``path`` from byte ``offset`` (no deadline: see Transport.stream).
OpenAt = Callable[[str, int], Iterator[DownloadResponse]]

_BLOCK = 1024 * 1024
#: Files ``download`` fetches at once.
_PARALLEL_FILES = 4
#: Chunks ``chunks`` may hand to its hashing thread before waiting for it (memory: this many MiB).
_HASH_AHEAD = 4


class ArtefactStream(io.RawIOBase):
    """A read-only, seekable binary stream over one stored artefact.

    Args:
        transport: For the retry policy.
        artefact: The artefact as listed (its size and sha256 are what the bytes are checked against).
        open_at: Starts the server stream at an offset; called again to resume or after a seek.
        label: What owns the artefact, for messages: ``customer_churn@1.0.0``, ``run "run_…"``.
    """

    def __init__(self, transport: Transport, artefact: Artefact, open_at: OpenAt, label: str) -> None:
        super().__init__()
        self._t = transport
        self._open_at = open_at
        self._label = label
        self.artefact = artefact
        self._position = 0
        self._responses: Optional[Iterator[DownloadResponse]] = None
        self._pending = memoryview(b"")
        self._hasher: Optional["hashlib._Hash"] = hashlib.sha256()

    # -- io.RawIOBase -----------------------------------------------------------------

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._position
        elif whence == io.SEEK_END:
            offset += self.artefact.size
        elif whence != io.SEEK_SET:
            raise ValueError(f"invalid whence {whence}")
        if offset < 0:
            raise ValueError(f"negative seek position {offset}")
        if offset != self._position:
            self._restart()
            self._position = offset
            self._hasher = None  # a partial read cannot be checked
        return self._position

    def readinto(self, buffer: "bytearray | memoryview") -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("I/O operation on a closed artefact stream")
        target = memoryview(buffer).cast("B")
        if len(target) == 0 or self._position >= self.artefact.size:
            self._verify()
            return 0
        if not self._pending:
            self._pending = self._next_chunk()
        n = min(len(target), len(self._pending))
        target[:n] = self._pending[:n]
        if self._hasher is not None:
            self._hasher.update(self._pending[:n])
        self._pending = self._pending[n:]
        self._position += n
        if self._position == self.artefact.size:
            self._verify()
        return n

    def chunks(self) -> Iterator[memoryview]:
        """The bytes from the current position to the end, as the server sends them (about 1 MiB each).

        No copy is made: each chunk is a view of the received message. The
        sha256 is checked and a broken stream resumed exactly as with ``read``.
        """
        if self.closed:
            raise ValueError("I/O operation on a closed artefact stream")
        # The hash runs on a thread of its own (hashlib releases the GIL), in
        # order, while this one receives and the caller writes: inline, it
        # cost as much as the rest of the download together.
        hashing: Deque["Future[None]"] = deque()
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="traintrack-sha256") as hasher_thread:
            while self._position < self.artefact.size:
                chunk, self._pending = (self._pending, memoryview(b"")) if self._pending else (self._next_chunk(), self._pending)
                if self._hasher is not None:
                    hashing.append(hasher_thread.submit(self._hasher.update, chunk))
                    if len(hashing) > _HASH_AHEAD:
                        hashing.popleft().result()
                self._position += len(chunk)
                yield chunk
            for done in hashing:
                done.result()
        self._verify()

    def close(self) -> None:
        self._restart()
        super().close()

    # -- the server stream -------------------------------------------------------------

    def _restart(self) -> None:
        if self._responses is not None:
            self._responses.cancel()  # type: ignore[attr-defined]
        self._responses = None
        self._pending = memoryview(b"")

    def _next_chunk(self) -> memoryview:
        """The next non-empty chunk at ``_position``, reopening the stream after a break."""
        failures = 0
        while True:
            try:
                if self._responses is None:
                    self._responses = self._open()
                for response in self._responses:
                    if isinstance(response, memoryview) and response:
                        return response
                raise DataLoss(
                    f'artefact "{self.artefact.name}" of {self._label} ended after {self._position} of {self.artefact.size} bytes'
                )
            except grpc.RpcError as error:
                self._responses = None
                code = error.code() if isinstance(error, grpc.Call) else None
                if code not in RETRYABLE or failures >= self._t.retry.max_retries:
                    raise from_rpc_error(error) from error
                failures += 1
                wait = self._t.retry.backoff(failures)
                log.warning(
                    'download of "%s" broke (%s); resuming at byte %d in %.1f s',
                    self.artefact.name, describe(error), self._position, wait,
                )
                time.sleep(wait)

    def _open(self) -> Iterator[DownloadResponse]:
        responses = self._open_at(self.artefact.name, self._position)
        first = next(responses, None)
        # Datasets and runs describe the file as "artefact", model versions as "file".
        kind = None if first is None or isinstance(first, memoryview) else first.WhichOneof("payload")
        if first is None or isinstance(first, memoryview) or kind not in ("artefact", "file"):
            raise DataLoss(f'the download of "{self.artefact.name}" did not start with its description')
        if getattr(first, kind).sha256 != self.artefact.sha256:
            raise DataLoss(f'artefact "{self.artefact.name}" of {self._label} changed on the server while it was read')
        return responses

    def _verify(self) -> None:
        if self._hasher is None or self._position != self.artefact.size:
            return
        digest = self._hasher.hexdigest()
        self._hasher = None  # checked once
        if digest != self.artefact.sha256:
            raise DataLoss(
                f'artefact "{self.artefact.name}" of {self._label} arrived with sha256 {digest}, '
                f"but the server recorded {self.artefact.sha256}"
            )


@dataclass(frozen=True)
class ArtefactReader:
    """Reads the artefacts of one owner, a dataset version or a run: as streams, or into files.

    Attributes:
        transport: The client's transport (retries).
        open_at: Starts one artefact's server stream at an offset.
        label: The owner, for messages: ``customer_churn@1.0.0``, ``run "run_…"``.
        progress: The client's progress setting (see _progress.resolve).
    """

    transport: Transport
    open_at: OpenAt
    label: str
    progress: Optional[bool]

    def stream(self, artefact: Artefact) -> ArtefactStream:
        """A raw, seekable stream over ``artefact``; nothing is fetched until it is read."""
        return ArtefactStream(self.transport, artefact, self.open_at, self.label)

    def open(self, artefact: Artefact, mode: str = "rb", *, encoding: Optional[str] = None) -> IO[Any]:
        """A buffered binary stream (``"rb"``), or text (``"r"``, UTF-8 unless ``encoding``), over ``artefact``."""
        if mode not in ("rb", "r"):
            raise ValueError(f"mode must be 'rb' or 'r', not {mode!r}")
        binary = io.BufferedReader(self.stream(artefact), buffer_size=_BLOCK)
        return binary if mode == "rb" else io.TextIOWrapper(binary, encoding=encoding or "utf-8")

    def download(self, root: Path, artefacts: Sequence[Artefact]) -> List[Path]:
        """Writes each artefact under ``root`` at its path; returns the files written, in order.

        Every path is checked before anything is written: one that would land
        outside ``root`` is InvalidArgument.
        """
        targets = [(artefact, safe_join(root, artefact.name)) for artefact in artefacts]
        if len(targets) <= 1:
            for artefact, target in targets:
                self.download_to(artefact, target)
        else:
            # Several at once: one stream rarely fills the link (each waits on its
            # own round trips and disk writes), and the work outside Python
            # (gRPC, hashlib, file writes) runs in parallel.
            with ThreadPoolExecutor(max_workers=min(_PARALLEL_FILES, len(targets)), thread_name_prefix="traintrack-download") as pool:
                for _ in pool.map(lambda t: self.download_to(*t), targets):
                    pass  # re-raises the first failure, after the downloads already started finish
        return [target for _, target in targets]

    def download_to(self, artefact: Artefact, target: Path) -> None:
        """Writes ``artefact`` to ``target`` through a temporary file renamed once complete and verified."""
        target.parent.mkdir(parents=True, exist_ok=True)
        # A reader never sees a partial file under the final name; a failed download leaves nothing.
        partial = target.with_name(f".{target.name}.{uuid.uuid4().hex[:8]}.part")
        bar = _progress.bar(artefact.size, artefact.name, self.progress)
        try:
            # Each chunk goes to the file as received: no copy, one write per ~1 MiB message.
            # (A buffered file passes writes larger than its buffer straight through.)
            with self.stream(artefact) as stream, open(partial, "wb") as out:
                for chunk in stream.chunks():
                    out.write(chunk)
                    bar.update(len(chunk))
            os.replace(partial, target)
        finally:
            bar.close()
            if partial.exists():
                partial.unlink()
