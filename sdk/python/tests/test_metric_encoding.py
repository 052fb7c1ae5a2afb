"""The hand-built LogMetricsRequest bytes are what the generated protobuf code reads back, exactly."""

from __future__ import annotations

import itertools
import math
import struct
from datetime import datetime, timedelta, timezone
from typing import List, Optional, Tuple

import pytest

import traintrack as tt
from traintrack._gen.v1 import experiment_pb2
from traintrack._metric_encoding import PointEncoder, point, request_header, varint, worker_field

KEYS = ["loss", "ü/ключ 日本 ✓", "k" * 250, "x"]
VALUES = [0.0, -0.0, 1.5, -2.25, math.nan, math.inf, -math.inf, 5e-324, 1.7976931348623157e308, 1e-300]
STEPS = [0, 1, 127, 128, 16383, 16384, 2**21 - 1, 2**21, 2**28, 2**53 - 1, -1, -128, -(2**53 - 1)]
TIMESTAMPS: List[Optional[Tuple[int, int]]] = [None, (0, 0), (1_700_000_000, 123_000_000), (1_700_000_000, 0), (0, 1), (-1, 999_000_000), (253_402_300_799, 999_999_999)]
WORKERS: List[Optional[Tuple[int, str]]] = [None, (0, ""), (0, "gpu-1"), (7, "hôst-ü"), (2**31 - 1, "h" * 255), (-1, "")]


def expected_point(key: str, value: float, step: int, timestamp: Optional[Tuple[int, int]], worker: Optional[Tuple[int, str]]) -> experiment_pb2.MetricPoint:
    p = experiment_pb2.MetricPoint(key=key, value=value, step=step)
    if timestamp is not None:
        p.timestamp.seconds, p.timestamp.nanos = timestamp
    if worker is not None:
        p.worker.SetInParent()
        p.worker.rank, p.worker.host = worker
    return p


def same(ours: bytes, expected: "experiment_pb2.LogMetricsRequest | experiment_pb2.StreamMetricsRequest") -> None:
    """``ours`` parses to ``expected``: compared through protobuf's own bytes, since NaN != NaN defeats ==."""
    parsed = type(expected).FromString(ours)
    assert parsed.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True)
    for a, b in zip(parsed.points, expected.points):  # bit for bit: -0.0 and NaN included
        assert struct.pack("<d", a.value) == struct.pack("<d", b.value)
        assert a.HasField("timestamp") == b.HasField("timestamp") and a.HasField("worker") == b.HasField("worker")


def test_every_combination_of_edge_cases_parses_back_to_the_same_point() -> None:
    cases = itertools.product(KEYS, VALUES, STEPS, TIMESTAMPS, WORKERS)
    for key, value, step, timestamp, worker in cases:
        ours = point(key, value, step, timestamp, worker_field(*worker) if worker else b"")
        expected = experiment_pb2.LogMetricsRequest(points=[expected_point(key, value, step, timestamp, worker)])
        same(ours, expected)
        if struct.pack("<d", value) != bytes(8):
            # Byte for byte, too; protobuf leaves out a value of +0.0, which we write.
            assert ours == expected.SerializeToString(), (key, value, step, timestamp, worker)


@pytest.mark.parametrize("message", [experiment_pb2.LogMetricsRequest, experiment_pb2.StreamMetricsRequest])
def test_a_whole_request_is_the_header_and_the_points_joined(message: type) -> None:
    run_id, batch_id = "run_7k2m", "3b6f0c9e-8a8e-4d1e-9a43-1b5c2d7e9f00"
    points = [expected_point(f"m{i % 3}", (i + 1) / 7, i, (1_700_000_000 + i, i * 1_000_000 % 1_000_000_000), (i % 4, "node")) for i in range(500)]
    ours = request_header(run_id, batch_id) + b"".join(point(p.key, p.value, p.step, (p.timestamp.seconds, p.timestamp.nanos), worker_field(p.worker.rank, p.worker.host)) for p in points)
    expected = message(run_id=run_id, batch_id=batch_id, points=points)
    same(ours, expected)
    assert ours == expected.SerializeToString()


def test_varints_match_protobufs_int64_encoding() -> None:
    assert varint(0) == b"\x00"
    for n in [1, 127, 128, 255, 300, 16383, 16384, 2**21 - 1, 2**21, 2**35, 2**63 - 1, -1, -(2**63)]:
        assert varint(n) == experiment_pb2.MetricPoint(step=n).SerializeToString()[1:]  # after the field's key


class Floaty:
    def __float__(self) -> float:
        return 2.5


def test_the_run_encoder_shares_step_timestamp_and_worker_across_a_call() -> None:
    checked: List[str] = []
    encoder = PointEncoder(3, "gpu-3", checked.append, lambda key, value: tt.InvalidArgument(f"{key}: {value!r}"))
    calls = [
        ({"loss": 0.5, "acc": -0.0, "lr": 3, "flag": True}, 0, 1_700_000_000_000),
        ({"loss": math.nan, "acc": "1.25", "lr": Floaty()}, 2**53 - 1, 1_700_000_000_999),
        ({"loss": -math.inf, "acc": 0.0}, -5, -1),  # before the epoch: seconds -1, nanos 999,000,000
        ({"loss": 1e308}, 128, 1_700_000_001_000),
    ]
    for metrics, step, ms in calls:
        ours = b"".join(encoder.encode(metrics, step, ms))
        seconds, millis = divmod(ms, 1000)
        expected = experiment_pb2.LogMetricsRequest(
            points=[expected_point(k, float(v), step, (seconds, millis * 1_000_000), (3, "gpu-3")) for k, v in metrics.items()]  # type: ignore[arg-type]
        )
        same(ours, expected)
    assert checked == ["loss", "acc", "lr", "flag"], "each key is checked once"


def test_the_run_encoder_refuses_what_is_not_a_number() -> None:
    encoder = PointEncoder(None, "", lambda key: None, lambda key, value: tt.InvalidArgument(f"{key}: {value!r}"))
    for bad in ["high", None, [1.0], 10**400]:
        with pytest.raises(tt.InvalidArgument):
            encoder.encode({"loss": bad}, 1, 0)


def test_metric_points_sent_by_log_metrics_encode_like_protobuf() -> None:
    stamps = [None, datetime(2026, 1, 2, 3, 4, 5, 678901), datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=timezone.utc),
              datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-5)))]
    for stamp, rank in itertools.product(stamps, [None, 0, 5]):
        mp = tt.MetricPoint("loss", -1.5, step=42, timestamp=stamp, rank=rank, host="h" if rank else "")
        expected = experiment_pb2.MetricPoint(key="loss", value=-1.5, step=42)
        if stamp is not None:
            expected.timestamp.FromDatetime(stamp)
        if rank is not None:
            expected.worker.SetInParent()
            expected.worker.rank, expected.worker.host = rank, mp.host
        same(mp._encode(), experiment_pb2.LogMetricsRequest(points=[expected]))
