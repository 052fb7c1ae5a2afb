"""The gRPC channel, credentials and retries shared by every call of a client."""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Sequence, Tuple, TypeVar
from urllib.parse import urlsplit

import grpc

from ._download_wire import chunk_or_message
from ._gen.v1 import (
    access_pb2_grpc,
    api_key_pb2_grpc,
    audit_pb2_grpc,
    dataset_pb2,
    dataset_pb2_grpc,
    experiment_pb2,
    experiment_pb2_grpc,
    lineage_pb2_grpc,
    model_pb2,
    model_pb2_grpc,
    organization_pb2_grpc,
    pipeline_pb2_grpc,
    run_artefact_pb2,
    run_artefact_pb2_grpc,
    upload_pb2_grpc,
    user_pb2_grpc,
)
from .errors import ConfigurationError, TraintrackError, from_rpc_error

log = logging.getLogger("traintrack")

MiB = 1024 * 1024

# The server accepts requests up to 16 MiB by default (TRAINTRACK_MAX_REQUEST_BYTES);
# responses can be large too: a version lists up to 100,000 artefacts.
_CHANNEL_OPTIONS: Sequence[Tuple[str, Any]] = (
    ("grpc.max_send_message_length", 16 * MiB),
    ("grpc.max_receive_message_length", 256 * MiB),
    ("grpc.primary_user_agent", "traintrack-python"),
    # Reconnect soon after an outage (gRPC's default waits up to 120 s between
    # attempts): the metric logger replays its spool as soon as the server is back.
    ("grpc.initial_reconnect_backoff_ms", 500),
    ("grpc.max_reconnect_backoff_ms", 4000),
)

# Codes after which the same request may succeed: the server or a backing service
# was unreachable, or a concurrent writer (e.g. an upload's write lease) got there first.
RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a failed call is retried.

    Waits grow exponentially from ``initial_backoff`` to ``max_backoff`` seconds
    (with ±20 % jitter). The defaults wait about a minute in total, longer than
    the 30 s write lease a broken upload stream may still hold on the server.
    """

    max_retries: int = 10
    initial_backoff: float = 0.5
    max_backoff: float = 8.0

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1-based)."""
        base = min(self.max_backoff, self.initial_backoff * 2.0 ** (retry - 1))
        return base * random.uniform(0.8, 1.2)


def parse_target(url: str) -> Tuple[str, bool]:
    """``http://host:port`` → (``host:port``, insecure); ``https://host`` → (``host:443``, TLS).

    A bare ``host:port`` means plaintext. Raises ConfigurationError for anything else.
    """
    if "://" not in url:
        url = f"http://{url}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigurationError(f"TRAINTRACK_URL {url!r} must look like http://host:port or https://host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ConfigurationError(f"TRAINTRACK_URL {url!r} must not have a path: gRPC calls go to the root")
    secure = parts.scheme == "https"
    try:
        port = parts.port or (443 if secure else 80)
    except ValueError as error:
        raise ConfigurationError(f"TRAINTRACK_URL {url!r} has an invalid port") from error
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return f"{host}:{port}", secure


T = TypeVar("T")


class Transport:
    """One HTTP/2 channel to the server, the stubs on it, and the calling conventions.

    Every call sends ``authorization: Bearer <key>``, has a deadline (except the
    long streams, which set their own) and is mapped to an SDK exception.
    """

    def __init__(self, url: str, api_key: str, *, timeout: float, retry: RetryPolicy) -> None:
        target, secure = parse_target(url)
        if secure:
            self.channel = grpc.secure_channel(target, grpc.ssl_channel_credentials(), options=_CHANNEL_OPTIONS)
        else:
            self.channel = grpc.insecure_channel(target, options=_CHANNEL_OPTIONS)
        self.url = url
        self.metadata: Tuple[Tuple[str, str], ...] = (("authorization", f"Bearer {api_key}"),)
        self.timeout = timeout
        self.retry = retry
        # The generated stubs are untyped: each method takes (request, metadata=, timeout=).
        self.uploads: Any = upload_pb2_grpc.UploadServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.datasets: Any = dataset_pb2_grpc.DatasetServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.experiments: Any = experiment_pb2_grpc.ExperimentServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.run_artefacts: Any = run_artefact_pb2_grpc.RunArtefactServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.models: Any = model_pb2_grpc.ModelServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.lineage: Any = lineage_pb2_grpc.LineageServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.pipelines: Any = pipeline_pb2_grpc.PipelineServiceStub(self.channel)  # type: ignore[no-untyped-call]
        # Identity and access (client.admin, client.whoami).
        self.users: Any = user_pb2_grpc.UserServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.access: Any = access_pb2_grpc.AccessServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.api_keys: Any = api_key_pb2_grpc.ApiKeyServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.audit: Any = audit_pb2_grpc.AuditServiceStub(self.channel)  # type: ignore[no-untyped-call]
        self.organizations: Any = organization_pb2_grpc.OrganizationServiceStub(self.channel)  # type: ignore[no-untyped-call]
        # LogMetrics taking the request already serialized: the metric logger encodes a
        # batch once, and sends (or spools to disk, and replays) those very bytes.
        self.log_metrics_bytes: grpc.UnaryUnaryMultiCallable[bytes, experiment_pb2.LogMetricsResponse] = self.channel.unary_unary(
            "/traintrack.v1.ExperimentService/LogMetrics",
            request_serializer=None,
            response_deserializer=experiment_pb2.LogMetricsResponse.FromString,
        )
        # Downloads whose chunks arrive as views of the received messages, not parsed copies
        # (_download_wire.py). Any: grpc's stubs type the call's result as no Iterator.
        self.download_artefact: Any = self.channel.unary_stream(
            "/traintrack.v1.DatasetService/DownloadArtefact",
            request_serializer=dataset_pb2.DownloadArtefactRequest.SerializeToString,
            response_deserializer=chunk_or_message(dataset_pb2.DownloadArtefactResponse),
        )
        self.download_run_artefact: Any = self.channel.unary_stream(
            "/traintrack.v1.RunArtefactService/DownloadRunArtefact",
            request_serializer=run_artefact_pb2.DownloadRunArtefactRequest.SerializeToString,
            response_deserializer=chunk_or_message(run_artefact_pb2.DownloadRunArtefactResponse),
        )
        self.download_model_file: Any = self.channel.unary_stream(
            "/traintrack.v1.ModelService/DownloadModelFile",
            request_serializer=model_pb2.DownloadModelFileRequest.SerializeToString,
            response_deserializer=chunk_or_message(model_pb2.DownloadModelFileResponse),
        )

    def close(self) -> None:
        self.channel.close()

    def call(self, method: Callable[..., T], request: Any, *, what: str, retry: bool = True) -> T:
        """Calls a unary method; retries retryable failures (when ``retry``) and raises SDK exceptions."""
        return self.retrying(lambda: method(request, metadata=self.metadata, timeout=self.timeout), what=what, retry=retry)

    def retrying(self, attempt: Callable[[], T], *, what: str, retry: bool = True) -> T:
        """Runs ``attempt`` until it succeeds, fails with a non-retryable error, or retries run out."""
        for retries in range(self.retry.max_retries + 1):
            try:
                return attempt()
            except grpc.RpcError as error:
                code = error.code() if isinstance(error, grpc.Call) else None
                if not retry or code not in RETRYABLE or retries == self.retry.max_retries:
                    raise from_rpc_error(error) from error
                wait = self.retry.backoff(retries + 1)
                log.info("%s failed (%s: %s); retrying in %.1f s", what, code.name if code else "?", error.details() if isinstance(error, grpc.Call) else error, wait)
                time.sleep(wait)
        raise AssertionError("unreachable")

    def stream(self, method: Callable[..., Iterator[T]], request: Any) -> Iterator[T]:
        """Starts a server-streaming call without a deadline (downloads may be long)."""
        return method(request, metadata=self.metadata)


def describe(error: BaseException) -> str:
    """A short description of a failed call for log lines."""
    if isinstance(error, grpc.Call):
        code = error.code()
        return f"{code.name if code else '?'}: {error.details()}"
    if isinstance(error, TraintrackError):
        return f"{type(error).__name__}: {error.message}"
    return repr(error)
