"""Every way a command fails, as one line for a person and an exit code for a script.

Exit codes: 0 success, 1 any other failure (server unreachable, conflict, …),
2 usage (a bad option or argument, or a request the server finds invalid),
3 not authenticated (no key, or a key the server refuses: unknown, revoked,
expired, deactivated user), 4 permission denied, 5 not found, 130 interrupted.
"""

from __future__ import annotations

from typing import Tuple

from .. import errors

EXIT_OTHER = 1
EXIT_USAGE = 2
EXIT_UNAUTHENTICATED = 3
EXIT_PERMISSION_DENIED = 4
EXIT_NOT_FOUND = 5
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A failure the command line explains itself: ``message`` says what happened and what to do."""

    def __init__(self, message: str, code: int = EXIT_OTHER) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class UsageError(CliError):
    """The command line itself is wrong (exit 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_USAGE)


class NotLoggedIn(CliError):
    """No API key to send (exit 3)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, EXIT_UNAUTHENTICATED)


def explain(error: BaseException, url: str) -> Tuple[int, str]:
    """The exit code and the one-line message for ``error``, raised while talking to ``url``."""
    if isinstance(error, CliError):
        return error.code, error.message
    if isinstance(error, errors.Unauthenticated):
        return EXIT_UNAUTHENTICATED, (
            f"not authenticated at {url}: {error.message}; run 'traintrack login' with a valid key, or set TRAINTRACK_API_KEY"
        )
    if isinstance(error, errors.PermissionDenied):
        return EXIT_PERMISSION_DENIED, (
            f"permission denied: {error.message}; 'traintrack whoami' shows your roles, an owner of your organisation can grant more"
        )
    if isinstance(error, errors.NotFound):
        return EXIT_NOT_FOUND, f"not found: {error.message}"
    if isinstance(error, errors.InvalidArgument):
        return EXIT_USAGE, f"invalid request: {error.message}"
    if isinstance(error, errors.ConfigurationError):
        return EXIT_USAGE, f"{error.message} (set it with --url, TRAINTRACK_URL or 'traintrack login')"
    if isinstance(error, errors.Unavailable):
        return EXIT_OTHER, (
            f"cannot reach the Traintrack server at {url} ({error.message}); "
            "check that it is running and that --url, TRAINTRACK_URL or 'traintrack login' name it"
        )
    if isinstance(error, errors.DeadlineExceeded):
        return EXIT_OTHER, f"the server at {url} did not answer in time ({error.message}); try again, or check its health"
    if isinstance(error, errors.AlreadyExists):
        return EXIT_OTHER, f"already exists: {error.message}"
    if isinstance(error, errors.FailedPrecondition):
        return EXIT_OTHER, f"refused: {error.message}"
    if isinstance(error, errors.Unimplemented):
        return EXIT_OTHER, f"the server at {url} does not offer this ({error.message}); it may be older than this command line"
    if isinstance(error, errors.TraintrackError):
        return EXIT_OTHER, error.message
    if isinstance(error, KeyboardInterrupt):
        return EXIT_INTERRUPTED, "interrupted"
    if isinstance(error, OSError):
        return EXIT_OTHER, f"{error.strerror or error}{f': {error.filename}' if error.filename else ''}"
    return EXIT_OTHER, f"unexpected {type(error).__name__}: {error} (a bug: TRAINTRACK_DEBUG=1 shows the traceback)"
