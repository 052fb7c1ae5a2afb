"""Streaming, resumable uploads of one file (UploadService).

The file is read in chunks of at most 1 MiB as gRPC sends them, so memory stays
flat whatever its size, and hashed (sha256) on the way. The server hashes the
bytes it receives as well; the two digests must agree, or the upload is aborted
and DataLoss raised. Hashing while streaming reads the file once (a first pass
to declare the sha256 upfront would read a 10 GiB file twice).

A broken stream resumes where the server's durable bytes end: GetUpload gives
``bytes_received``, and a new stream with a ``resume`` header carries the file
from there (the hash of the bytes before it is recomputed from the file). Retries
are bounded and back off exponentially (see RetryPolicy); ABORTED (another
stream still holds the upload's write lease, about 30 s after a break the
server has not noticed) is retried the same way.

Resuming needs the upload's id, which an Upload stream returns only when it
succeeds. So a file larger than SMALL_UPLOAD_BYTES is first created with
CreateUpload, which names the upload before any byte is sent, and every stream
of it, the first included, resumes that upload (the first at offset 0): even a
break before the first durable segment resumes the same upload.

A file of at most SMALL_UPLOAD_BYTES is sent in one stream with a
``new_upload`` header, and a broken one is simply sent again. The threshold is
the server's: it writes uploads of a declared size up to 1 MiB straight to
their blob once complete and keeps nothing durable before that, so a resume of
one would start again at offset 0 anyway, while CreateUpload would add a round
trip to every small file (paid once per file by a dataset of many small files).
The upload a broken small stream leaves behind is never committed and expires.
Were the server's limit to change, nothing would break: only whether a file
near it resumes or starts again after a break.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Tuple, Union

import grpc
from tqdm import tqdm

from . import _progress
from ._gen.v1 import upload_pb2
from ._transport import RETRYABLE, Transport, describe
from .errors import DataLoss, FailedPrecondition, TraintrackError, from_rpc_error

log = logging.getLogger("traintrack")

MiB = 1024 * 1024
CHUNK_BYTES = 1 * MiB
#: Files larger than this are created with CreateUpload first, so that a broken stream
#: resumes; smaller ones are sent again (the server's small-upload limit: see above).
SMALL_UPLOAD_BYTES = 1 * MiB

_UPLOAD = upload_pb2.DESCRIPTOR.services_by_name["UploadService"].methods_by_name["Upload"]
_UPLOAD_PATH = f"/{_UPLOAD.containing_service.full_name}/{_UPLOAD.name}"
# UploadRequest.chunk is field 2, length-delimited: key (2 << 3) | 2.
_CHUNK_KEY = bytes([0x12])


def chunk_message(data: bytes) -> bytes:
    """``UploadRequest(chunk=data)`` in wire format, built by hand.

    protobuf's (upb) serializer copies a large bytes field slowly: about 1.4 ms of
    CPU per MiB, twice the cost of hashing it, on a machine the server may share.
    Framing it here is one copy: the field's key, its varint length, the bytes.
    """
    length = len(data)
    prefix = bytearray(_CHUNK_KEY)
    while length > 0x7F:
        prefix.append((length & 0x7F) | 0x80)
        length >>= 7
    prefix.append(length)
    return bytes(prefix) + data


def _serialize(message: Union[upload_pb2.UploadRequest, bytes]) -> bytes:
    return message if isinstance(message, bytes) else message.SerializeToString()


@dataclass(frozen=True)
class UploadResult:
    """A complete upload, ready to be named in a CreateDataset."""

    upload_id: str
    size: int
    sha256: str
    #: Offsets at which broken streams were resumed, in order (empty if none broke).
    resumed_at: Tuple[int, ...] = ()


class _Requests:
    """The messages of one Upload stream: the header, then the file from ``offset`` on.

    Iterated by gRPC on its own thread. A failure to read the file ends the
    stream early (the server then keeps the upload resumable) and is kept in
    ``error`` for the caller to raise, instead of becoming an opaque gRPC error.
    """

    def __init__(self, path: str, header: upload_pb2.UploadHeader, offset: int, size: int, hasher: "hashlib._Hash", bar: "tqdm[Any]") -> None:
        self.path = path
        self.header = header
        self.offset = offset
        self.size = size
        self.hasher = hasher
        self.position = offset
        self.bar = bar
        self.error: Optional[BaseException] = None

    def __iter__(self) -> Iterator[Union[upload_pb2.UploadRequest, bytes]]:
        yield upload_pb2.UploadRequest(header=self.header)
        try:
            with open(self.path, "rb") as file:
                file.seek(self.offset)
                while self.position < self.size:
                    data = file.read(min(CHUNK_BYTES, self.size - self.position))
                    if not data:
                        raise DataLoss(f"{self.path} shrank to {self.position} bytes while it was uploaded (it had {self.size})")
                    self.hasher.update(data)
                    self.position += len(data)
                    self.bar.update(len(data))
                    yield chunk_message(data)
        except Exception as error:  # noqa: BLE001 - re-raised by the caller
            self.error = error


def _hash_prefix(path: str, length: int) -> "hashlib._Hash":
    """sha256 state after the first ``length`` bytes of the file."""
    hasher = hashlib.sha256()
    with open(path, "rb") as file:
        remaining = length
        while remaining > 0:
            data = file.read(min(8 * MiB, remaining))
            if not data:
                raise DataLoss(f"{path} shrank below {length} bytes while it was uploaded")
            hasher.update(data)
            remaining -= len(data)
    return hasher


class Uploader:
    """Uploads files through one Transport; see the module docstring for the protocol."""

    def __init__(self, transport: Transport, progress: Optional[bool]) -> None:
        self._t = transport
        self._progress = progress
        # The generated stub's Upload, but taking chunks already framed (see chunk_message).
        self._upload_call = transport.channel.stream_unary(
            _UPLOAD_PATH, request_serializer=_serialize, response_deserializer=upload_pb2.UploadResponse.FromString
        )

    def upload_file(self, path: str, file_name: str, media_type: str) -> UploadResult:
        """Streams a file into a new staged upload and returns it once complete and verified.

        Raises InvalidArgument (e.g. a bad file name), ResourceExhausted (too large for
        the server), DataLoss (hash mismatch), Unavailable (retries ran out), OSError.
        """
        before = os.stat(path)
        bar = _progress.bar(before.st_size, file_name, self._progress)
        try:
            result = self._upload(path, file_name, media_type, before.st_size, bar)
        finally:
            bar.close()
        after = os.stat(path)
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            # The bytes sent may mix the old and the new file, even when both hashes agree.
            self.abort(result.upload_id)
            raise DataLoss(f"{path} changed while it was uploaded; the upload was discarded: upload it again")
        return result

    def _create(self, new: upload_pb2.NewUpload) -> str:
        """Creates the upload without any bytes (CreateUpload) and returns its id, for every stream to resume.

        A retry after a lost response may create a second upload; the first is never used and expires.
        """
        created: upload_pb2.CreateUploadResponse = self._t.call(
            self._t.uploads.CreateUpload, upload_pb2.CreateUploadRequest(upload=new), what=f"CreateUpload of {new.file_name}"
        )
        return created.upload.upload_id

    def _upload(self, path: str, file_name: str, media_type: str, size: int, bar: "tqdm[Any]") -> UploadResult:
        new = upload_pb2.NewUpload(file_name=file_name, media_type=media_type, size=size)
        upload_id = self._create(new) if size > SMALL_UPLOAD_BYTES else None
        offset = 0
        # sha256 of the file's first `offset` bytes. Each stream hashes on from a copy of
        # it: gRPC may pull one more chunk from a stream that already failed.
        prefix = hashlib.sha256()
        resumed: List[int] = []
        failures = 0
        while True:
            if upload_id is None:
                header = upload_pb2.UploadHeader(new_upload=new)
            else:
                header = upload_pb2.UploadHeader(resume=upload_pb2.ResumeUpload(upload_id=upload_id, offset=offset))
            requests = _Requests(path, header, offset, size, prefix.copy(), bar)
            future: "grpc.Future[upload_pb2.UploadResponse]" = self._upload_call.future(iter(requests), metadata=self._t.metadata)
            try:
                upload = future.result().upload
                if requests.error is not None:
                    raise requests.error
                break
            except KeyboardInterrupt:
                future.cancel()
                raise
            except grpc.RpcError as error:
                if requests.error is not None:
                    self._abandon(upload_id)
                    raise requests.error from error
                code = error.code() if isinstance(error, grpc.Call) else None
                # DEADLINE_EXCEEDED: the stream sent nothing for the server's idle timeout (a stalled
                # source); what was durable stays, so an upload with an id resumes like a broken one.
                resumable = code in RETRYABLE or (
                    code in (grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.DEADLINE_EXCEEDED) and upload_id is not None
                )
                if not resumable or failures >= self._t.retry.max_retries:
                    self._abandon(upload_id)
                    raise from_rpc_error(error) from error
                failures += 1
                wait = self._t.retry.backoff(failures)
                time.sleep(wait)
                if upload_id is None:
                    log.warning("upload of %s broke (%s); starting over (retry %d of %d)", file_name, describe(error), failures, self._t.retry.max_retries)
                else:
                    state = self._t.call(self._t.uploads.GetUpload, upload_pb2.GetUploadRequest(upload_id=upload_id), what="GetUpload").upload
                    if state.state == upload_pb2.UPLOAD_STATE_COMPLETE and state.bytes_received == size:
                        # Every byte arrived; only the response was lost.
                        requests.hasher = _hash_prefix(path, size)
                        upload = state
                        break
                    if state.state != upload_pb2.UPLOAD_STATE_IN_PROGRESS:
                        why = f": {state.discard_reason}" if state.discard_reason else ""
                        raise FailedPrecondition(f'upload "{upload_id}" of {file_name} can no longer be resumed; it is {upload_pb2.UploadState.Name(state.state)}{why}') from error
                    if code == grpc.StatusCode.FAILED_PRECONDITION and state.bytes_received == offset:
                        raise from_rpc_error(error) from error  # not a stale offset: expired or similar
                    log.warning(
                        "upload of %s broke (%s); resuming upload %s at byte %d of %d (retry %d of %d)",
                        file_name, describe(error), upload_id, state.bytes_received, size, failures, self._t.retry.max_retries,
                        extra={"upload_id": upload_id, "resume_offset": state.bytes_received},
                    )
                    if state.bytes_received != offset:
                        prefix = _hash_prefix(path, state.bytes_received)
                    offset = state.bytes_received
                    resumed.append(offset)
                bar.n = offset
                bar.refresh()

        digest = requests.hasher.hexdigest()
        if upload.sha256 != digest or upload.bytes_received != size:
            self._abandon(upload.upload_id)
            raise DataLoss(
                f"upload of {file_name} does not match the file: the server received {upload.bytes_received} bytes "
                f"with sha256 {upload.sha256}, the file has {size} bytes with sha256 {digest}; the upload was discarded"
            )
        return UploadResult(upload_id=upload.upload_id, size=size, sha256=digest, resumed_at=tuple(resumed))

    def abort(self, upload_id: str) -> None:
        """Discards a staged upload; errors are logged, not raised (the server expires it anyway)."""
        try:
            self._t.call(self._t.uploads.AbortUpload, upload_pb2.AbortUploadRequest(upload_id=upload_id), what="AbortUpload", retry=False)
        except TraintrackError as error:
            log.debug("could not abort upload %s: %s", upload_id, error)

    def _abandon(self, upload_id: Optional[str]) -> None:
        if upload_id is not None:
            self.abort(upload_id)
