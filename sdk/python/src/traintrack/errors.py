"""Exceptions raised by the SDK.

Every error the server reports becomes one of these, chosen by its gRPC status
code (never by its text) and carrying the server's message, which says what to
fix. All derive from :class:`TraintrackError`; the raw ``grpc.RpcError`` is kept
as ``__cause__`` for logs.
"""

from __future__ import annotations

from typing import Dict, Optional, Type

import grpc

__all__ = [
    "TraintrackError",
    "ConfigurationError",
    "InvalidArgument",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "Unauthenticated",
    "FailedPrecondition",
    "Aborted",
    "ResourceExhausted",
    "Unavailable",
    "DeadlineExceeded",
    "Cancelled",
    "DataLoss",
    "Internal",
    "Unimplemented",
]


class TraintrackError(Exception):
    """Base class of every error the SDK raises.

    Attributes:
        message: What went wrong and what to do, as the server (or the SDK) said it.
        code: The gRPC status code, or ``None`` for errors found by the SDK itself
            without a matching code.
    """

    #: The status code this class stands for; set on each subclass.
    default_code: Optional[grpc.StatusCode] = None

    def __init__(self, message: str, code: Optional[grpc.StatusCode] = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code if code is not None else self.default_code

    def __str__(self) -> str:
        return self.message


class ConfigurationError(TraintrackError, ValueError):
    """The client is misconfigured: no API key, or a URL it cannot use."""


class InvalidArgument(TraintrackError, ValueError):
    """The request is malformed whatever the state: a bad name, version or path, a chunk too large."""

    default_code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(TraintrackError, LookupError):
    """No dataset, version, artefact or upload by that name or id exists in your organisation."""

    default_code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(TraintrackError):
    """The dataset version exists with other content; versions are immutable, so choose a new one."""

    default_code = grpc.StatusCode.ALREADY_EXISTS


class PermissionDenied(TraintrackError):
    """The API key is valid but may not do this."""

    default_code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(TraintrackError):
    """No API key was sent, or the server does not know it (check ``TRAINTRACK_API_KEY``)."""

    default_code = grpc.StatusCode.UNAUTHENTICATED


class FailedPrecondition(TraintrackError):
    """The request is well-formed, but the state does not allow it (e.g. an expired upload)."""

    default_code = grpc.StatusCode.FAILED_PRECONDITION


class Aborted(TraintrackError):
    """A concurrent writer got there first; the SDK retries these, so you see one only when retries ran out."""

    default_code = grpc.StatusCode.ABORTED


class ResourceExhausted(TraintrackError):
    """A limit of the server was exceeded, e.g. an artefact larger than it accepts."""

    default_code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unavailable(TraintrackError):
    """The server (or its database or object storage) could not be reached, and retries ran out."""

    default_code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(TraintrackError):
    """A call took longer than the client's timeout."""

    default_code = grpc.StatusCode.DEADLINE_EXCEEDED


class Cancelled(TraintrackError):
    """The call was cancelled."""

    default_code = grpc.StatusCode.CANCELLED


class DataLoss(TraintrackError):
    """Bytes do not match their sha256: an upload or download was corrupted, or a file changed while it was read."""

    default_code = grpc.StatusCode.DATA_LOSS


class Internal(TraintrackError):
    """The server failed; its message carries a request id to quote to an administrator."""

    default_code = grpc.StatusCode.INTERNAL


class Unimplemented(TraintrackError):
    """The server does not offer this call (it may be older than the SDK)."""

    default_code = grpc.StatusCode.UNIMPLEMENTED


_BY_CODE: Dict[grpc.StatusCode, Type[TraintrackError]] = {
    cls.default_code: cls
    for cls in (
        InvalidArgument,
        NotFound,
        AlreadyExists,
        PermissionDenied,
        Unauthenticated,
        FailedPrecondition,
        Aborted,
        ResourceExhausted,
        Unavailable,
        DeadlineExceeded,
        Cancelled,
        DataLoss,
        Internal,
        Unimplemented,
    )
    if cls.default_code is not None
}


def from_rpc_error(error: grpc.RpcError) -> TraintrackError:
    """The SDK exception for a failed call: the class of its status code, with the server's message."""
    code: Optional[grpc.StatusCode] = error.code() if isinstance(error, grpc.Call) else None
    details: Optional[str] = error.details() if isinstance(error, grpc.Call) else None
    message = details or (code.name if code is not None else str(error))
    cls = _BY_CODE.get(code, TraintrackError) if code is not None else TraintrackError
    return cls(message, code)
