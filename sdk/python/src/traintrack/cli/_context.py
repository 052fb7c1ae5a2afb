"""What every command gets: its arguments, the settings, a client made on first use, and the streams."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Dict, Mapping, Optional, TextIO

from .. import Client, RetryPolicy
from ._config import Settings, config_path, load, loose_permissions, resolve

# A command line should fail in seconds when the server is down, not after the
# SDK's minute of retries meant for training jobs riding out a restart.
CLI_RETRY = RetryPolicy(max_retries=2, initial_backoff=0.3, max_backoff=1.0)
CLI_TIMEOUT_S = 30.0


class Context:
    """One invocation: ``args``, ``settings``, ``client`` (connected lazily), and where to print."""

    def __init__(self, args: argparse.Namespace, env: Mapping[str, str], stdout: TextIO, stderr: TextIO) -> None:
        self.args = args
        self.env = env
        self.stdout = stdout
        self.stderr = stderr
        self.json: bool = bool(getattr(args, "json", False))
        self.config_path: Path = config_path(env)
        self._saved: Optional[Dict[str, str]] = None
        self._client: Optional[Client] = None
        self.url_option: Optional[str] = getattr(args, "url", None)
        self.key_option: Optional[str] = getattr(args, "api_key", None)

    @property
    def saved(self) -> Dict[str, str]:
        """The login file's settings (read once)."""
        if self._saved is None:
            self._saved = load(self.config_path)
            if self._saved and loose_permissions(self.config_path):
                self.warn(f"{self.config_path} is readable by other users: run 'chmod 600 {self.config_path}'")
        return self._saved

    @property
    def settings(self) -> Settings:
        return resolve(self.url_option, self.key_option, self.env, self.saved, self.config_path)

    @property
    def url(self) -> str:
        """The server's URL, for messages; never fails (a broken login file only changes nothing here)."""
        if self._client is not None:
            return self._client.url
        try:
            return self.settings.url
        except Exception:
            return self.url_option or self.env.get("TRAINTRACK_URL") or "the server"

    @property
    def client(self) -> Client:
        """A client with the resolved settings; NotLoggedIn when there is no key."""
        if self._client is None:
            settings = self.settings
            self._client = connect(settings.url, settings.require_key())
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def warn(self, message: str) -> None:
        print(f"traintrack: warning: {message}", file=self.stderr)

    def note(self, message: str) -> None:
        """A line for the person at the terminal, on stderr, so stdout stays what scripts read."""
        print(message, file=self.stderr)

    def interactive(self) -> bool:
        return sys.stdin is not None and sys.stdin.isatty()


def connect(url: str, api_key: str) -> Client:
    """A client as the command line uses it: few retries, no progress bars."""
    return Client(url=url, api_key=api_key, timeout=CLI_TIMEOUT_S, progress=False, retry=CLI_RETRY)
