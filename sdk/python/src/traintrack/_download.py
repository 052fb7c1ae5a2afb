"""Reading artefacts as streams (DatasetService.DownloadArtefact).

``ArtefactStream`` is a raw binary file: ``read`` pulls the next chunks of the
server stream, so memory stays at about one chunk (1 MiB) whatever the size.
A read from the first byte to the last is checked against the artefact's
sha256 (DataLoss when they differ). A broken stream resumes at the current
offset, with the same bounded retries as uploads. ``seek`` restarts the stream
at the new offset (the hash is then no longer checked).
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
from typing import Iterator, Optional

import grpc

from ._gen.v1 import dataset_pb2
from ._models import Artefact, DatasetRef
from ._transport import RETRYABLE, Transport, describe
from .errors import DataLoss, from_rpc_error

log = logging.getLogger("traintrack")


class ArtefactStream(io.RawIOBase):
    """A read-only, seekable binary stream over one artefact of a saved version."""

    def __init__(self, transport: Transport, ref: DatasetRef, artefact: Artefact) -> None:
        super().__init__()
        self._t = transport
        self._ref = ref
        self.artefact = artefact
        self._position = 0
        self._responses: Optional[Iterator[dataset_pb2.DownloadArtefactResponse]] = None
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
            self._pending = memoryview(self._next_chunk())
        n = min(len(target), len(self._pending))
        target[:n] = self._pending[:n]
        if self._hasher is not None:
            self._hasher.update(self._pending[:n])
        self._pending = self._pending[n:]
        self._position += n
        if self._position == self.artefact.size:
            self._verify()
        return n

    def close(self) -> None:
        self._restart()
        super().close()

    # -- the server stream -------------------------------------------------------------

    def _restart(self) -> None:
        if self._responses is not None:
            self._responses.cancel()  # type: ignore[attr-defined]
        self._responses = None
        self._pending = memoryview(b"")

    def _next_chunk(self) -> bytes:
        """The next non-empty chunk at ``_position``, reopening the stream after a break."""
        failures = 0
        while True:
            try:
                if self._responses is None:
                    self._responses = self._open()
                for response in self._responses:
                    if response.WhichOneof("payload") == "chunk" and response.chunk:
                        return response.chunk
                raise DataLoss(
                    f'artefact "{self.artefact.name}" of {self._ref} ended after {self._position} of {self.artefact.size} bytes'
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

    def _open(self) -> Iterator[dataset_pb2.DownloadArtefactResponse]:
        request = dataset_pb2.DownloadArtefactRequest(dataset=self._ref._to_proto(), path=self.artefact.name, offset=self._position)
        responses = self._t.stream(self._t.datasets.DownloadArtefact, request)
        first = next(responses, None)
        if first is None or first.WhichOneof("payload") != "artefact":
            raise DataLoss(f'the download of "{self.artefact.name}" did not start with its description')
        if first.artefact.sha256 != self.artefact.sha256:
            raise DataLoss(f'artefact "{self.artefact.name}" of {self._ref} changed on the server while it was read')
        return responses

    def _verify(self) -> None:
        if self._hasher is None or self._position != self.artefact.size:
            return
        digest = self._hasher.hexdigest()
        self._hasher = None  # checked once
        if digest != self.artefact.sha256:
            raise DataLoss(
                f'artefact "{self.artefact.name}" of {self._ref} arrived with sha256 {digest}, '
                f"but the server recorded {self.artefact.sha256}"
            )
