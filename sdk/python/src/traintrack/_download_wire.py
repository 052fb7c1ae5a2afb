"""Download responses read without parsing or copying their bytes.

A download stream is a description, then chunks of about 1 MiB. Parsed by
protobuf, every chunk would be copied once more out of the received message
(and the parse walks it); yet a response that holds only a chunk is a fixed
prefix, the field's key (0x12: field 2, length-delimited) and a varint length,
followed by the bytes. ``chunk_or_message`` returns those bytes as a view of
the received message, and parses anything else (the description, or a chunk
message of another shape) with protobuf as usual.
"""

from __future__ import annotations

from typing import Callable, Type, TypeVar, Union

from google.protobuf.message import Message

M = TypeVar("M", bound=Message)

# DownloadArtefactResponse.chunk, DownloadRunArtefactResponse.chunk and DownloadModelFileResponse.chunk
# are field 2, length-delimited.
_CHUNK_KEY = 0x12
_MAX_VARINT_BYTES = 10


def _chunk_start(raw: bytes) -> int:
    """Where the chunk's bytes start when ``raw`` is exactly one chunk field, else -1."""
    if len(raw) < 2 or raw[0] != _CHUNK_KEY:
        return -1
    length, shift, at = 0, 0, 1
    while at < len(raw) and at <= _MAX_VARINT_BYTES:
        byte = raw[at]
        at += 1
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return at if at + length == len(raw) else -1
    return -1


def chunk_or_message(message_class: Type[M]) -> Callable[[bytes], Union[memoryview, M]]:
    """A gRPC response deserializer: a chunk's bytes as a memoryview (no copy), any other message parsed."""

    def parse(raw: bytes) -> Union[memoryview, M]:
        start = _chunk_start(raw)
        if start >= 0:
            return memoryview(raw)[start:]
        message = message_class.FromString(raw)
        if message.WhichOneof("payload") == "chunk":
            return memoryview(getattr(message, "chunk"))
        return message

    return parse
