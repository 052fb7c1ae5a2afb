"""LogMetricsRequest / StreamMetricsRequest wire bytes, built by hand.

Building a protobuf ``MetricPoint`` per point (and copying it into a request)
costs microseconds of Python per point, more than the server spends on it. The
metric logger instead encodes each point straight to its wire bytes when it is
logged: one ``log()`` call shares its step, timestamp and worker, so those are
encoded once per call, and each key's field is encoded once per run. A batch is
then the request's header and the points' bytes joined.

The bytes are what ``experiment_pb2`` would write, field for field, except that a
value of +0.0 is written where protobuf omits it (both parse to the same message);
``tests/test_metric_encoding.py`` checks this against the generated parser.

Field numbers (proto/traintrack/v1/experiment.proto): LogMetricsRequest and
StreamMetricsRequest {run_id = 1, batch_id = 2, repeated points = 3};
MetricPoint {key = 1, value = 2 (double), step = 3 (int64), timestamp = 4
(google.protobuf.Timestamp {seconds = 1, nanos = 2}), worker = 5 (Worker {rank =
1, host = 2})}.
"""

from __future__ import annotations

import struct
from typing import Callable, Dict, List, Mapping, Optional, Tuple

# Keys: (field number << 3) | wire type (0 varint, 1 fixed64, 2 length-delimited).
_REQUEST_RUN_ID = b"\x0a"
_REQUEST_BATCH_ID = b"\x12"
_REQUEST_POINT = b"\x1a"
_POINT_KEY = b"\x0a"
_POINT_VALUE = b"\x11"
_POINT_STEP = b"\x18"
_POINT_TIMESTAMP = b"\x22"
_POINT_WORKER = b"\x2a"
_SECONDS = b"\x08"
_NANOS = b"\x10"
_RANK = b"\x08"
_HOST = b"\x12"

_pack_double = struct.Struct("<d").pack
_ONE_BYTE = [bytes((i,)) for i in range(0x80)]


def varint(n: int) -> bytes:
    """``n`` as a protobuf varint; a negative ``n`` as its 64-bit two's complement (10 bytes), as int64 and int32 are."""
    if n < 0:
        n += 1 << 64
    if n < 0x80:
        return _ONE_BYTE[n]
    if n < 0x4000:
        return bytes((n & 0x7F | 0x80, n >> 7))
    if n < 0x200000:
        return bytes((n & 0x7F | 0x80, (n >> 7) & 0x7F | 0x80, n >> 14))
    out = bytearray()
    while n > 0x7F:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _string_field(key: bytes, text: str) -> bytes:
    data = text.encode("utf-8")
    return key + varint(len(data)) + data


def request_header(run_id: str, batch_id: str) -> bytes:
    """The fields of a LogMetricsRequest (or StreamMetricsRequest) before its points."""
    return (_string_field(_REQUEST_RUN_ID, run_id) if run_id else b"") + (_string_field(_REQUEST_BATCH_ID, batch_id) if batch_id else b"")


def worker_field(rank: Optional[int], host: str) -> bytes:
    """``MetricPoint.worker`` as a whole field; empty when ``rank`` is None (no worker)."""
    if rank is None:
        return b""
    body = (_RANK + varint(rank) if rank else b"") + (_string_field(_HOST, host) if host else b"")
    return _POINT_WORKER + varint(len(body)) + body


def timestamp_field(seconds: int, nanos: int) -> bytes:
    """``MetricPoint.timestamp`` as a whole field."""
    body = (_SECONDS + varint(seconds) if seconds else b"") + (_NANOS + varint(nanos) if nanos else b"")
    return _POINT_TIMESTAMP + varint(len(body)) + body


def point(key: str, value: float, step: int, timestamp: Optional[Tuple[int, int]], worker: bytes = b"") -> bytes:
    """One point as a ``points`` field of a request: ``timestamp`` is (seconds, nanos) or None; ``worker`` from worker_field."""
    body = b"".join(
        (
            _string_field(_POINT_KEY, key) if key else b"",
            _POINT_VALUE,
            _pack_double(value),
            _POINT_STEP + varint(step) if step else b"",
            timestamp_field(*timestamp) if timestamp is not None else b"",
            worker,
        )
    )
    return _REQUEST_POINT + varint(len(body)) + body


class PointEncoder:
    """Encodes the points of ``Run.log`` calls: every point of a call shares its step, timestamp and worker.

    ``check_key`` is called once for each key not seen before and raises to refuse it.
    ``invalid_value(key, value)`` makes the exception raised for a value that is not a number.
    """

    def __init__(self, rank: Optional[int], host: str, check_key: Callable[[str], None], invalid_value: Callable[[str, object], Exception]) -> None:
        self._worker = worker_field(rank, host)
        self._check_key = check_key
        self._invalid_value = invalid_value
        self._keys: Dict[str, bytes] = {}  # a checked key -> its key field and the value field's key
        # Per length of the bytes after the value (step, timestamp, worker): key -> the point's
        # first bytes up to its value (the points key, the point's length, the key field, the value's key).
        self._heads: Dict[int, Dict[str, bytes]] = {}
        self._ms = -1
        self._timestamp = b""

    def encode(self, metrics: Mapping[str, object], step: int, ms: int) -> List[bytes]:
        """The points of one call, one bytes object each: ``step`` and ``ms`` (milliseconds since the epoch) shared."""
        if ms != self._ms:
            seconds, millis = divmod(ms, 1000)
            self._timestamp = timestamp_field(seconds, millis * 1_000_000)
            self._ms = ms
        tail = (_POINT_STEP + varint(step) if step else b"") + self._timestamp + self._worker
        heads = self._heads.get(len(tail))
        if heads is None:
            heads = self._heads[len(tail)] = {}
        out: List[bytes] = []
        append = out.append
        for key, value in metrics.items():
            head = heads.get(key)
            if head is None:
                head = heads[key] = self._head(key, len(tail))
            try:
                packed = _pack_double(value)  # anything with __float__ or __index__
            except struct.error:
                packed = _pack_double(self._number(key, value))
            append(head + packed + tail)
        return out

    def _head(self, key: str, tail_length: int) -> bytes:
        field = self._keys.get(key)
        if field is None:
            self._check_key(key)
            field = self._keys[key] = _string_field(_POINT_KEY, key) + _POINT_VALUE
        return _REQUEST_POINT + varint(len(field) + 8 + tail_length) + field

    def _number(self, key: str, value: object) -> float:
        # What float() takes beyond what struct does: numeric strings; huge ints overflow.
        try:
            return float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError, OverflowError):
            raise self._invalid_value(key, value) from None
