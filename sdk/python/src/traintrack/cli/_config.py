"""The login file, ``$XDG_CONFIG_HOME/traintrack/config.json`` (``~/.config/…`` by default), and where settings come from.

The file holds ``{"url": …, "api_key": …}`` and is only ever readable by its
owner (mode 0600, in a 0700 directory). Settings come from, first to last:
the --url / --api-key options, TRAINTRACK_URL / TRAINTRACK_API_KEY, the file,
then the default URL. The file's key is sent only to the file's URL: a URL
from the option or the environment that differs needs a key of its own.
"""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Mapping, Optional

from ..client import DEFAULT_URL
from ._errors import CliError, NotLoggedIn


def config_path(env: Mapping[str, str]) -> Path:
    """``$XDG_CONFIG_HOME/traintrack/config.json``; ``~/.config`` when unset or not absolute (as the XDG spec says)."""
    base = env.get("XDG_CONFIG_HOME", "")
    root = Path(base) if base and os.path.isabs(base) else Path(env.get("HOME") or Path.home()) / ".config"
    return root / "traintrack" / "config.json"


def load(path: Path) -> Dict[str, str]:
    """The saved settings; empty when there is no file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        raise CliError(f"{path} is not valid JSON: fix it, or delete it with 'traintrack logout' and log in again") from None
    if not isinstance(data, dict):
        raise CliError(f"{path} should hold a JSON object: delete it with 'traintrack logout' and log in again")
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def loose_permissions(path: Path) -> bool:
    """Whether others than its owner may read or write the file."""
    try:
        return bool(path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))
    except FileNotFoundError:
        return False


def save(path: Path, url: str, api_key: str) -> None:
    """Writes the file whole (a crash leaves the old one or the new one), mode 0600, its directory 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # Created 0600 from the start: the key is never readable by others, not even for a moment.
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the file may have existed (a crashed save) with other bits
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            json.dump({"url": url, "api_key": api_key}, file, indent=2)
            file.write("\n")
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def remove(path: Path) -> bool:
    """Deletes the file; False when there was none."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


@dataclass(frozen=True)
class Settings:
    """Where to connect and with which key, and where each came from (for messages)."""

    url: str
    api_key: Optional[str]
    url_from: str
    key_from: str

    def require_key(self) -> str:
        if self.api_key:
            return self.api_key
        raise NotLoggedIn(f"no API key for {self.url}: run 'traintrack login', or set TRAINTRACK_API_KEY{self.key_from}")


def resolve(url_option: Optional[str], key_option: Optional[str], env: Mapping[str, str], saved: Mapping[str, str], path: Path) -> Settings:
    """The settings from the options, the environment and the saved file, in that order."""
    saved_url = saved.get("url", "")
    if url_option:
        url, url_from = url_option, "--url"
    elif env.get("TRAINTRACK_URL"):
        url, url_from = env["TRAINTRACK_URL"], "TRAINTRACK_URL"
    elif saved_url:
        url, url_from = saved_url, str(path)
    else:
        url, url_from = DEFAULT_URL, "the default"
    if key_option:
        return Settings(url, key_option, url_from, "--api-key")
    if env.get("TRAINTRACK_API_KEY"):
        return Settings(url, env["TRAINTRACK_API_KEY"], url_from, "TRAINTRACK_API_KEY")
    if saved.get("api_key") and url.rstrip("/") == saved_url.rstrip("/"):
        return Settings(url, saved["api_key"], url_from, str(path))
    why = f" (the key saved in {path} is for {saved_url}, not {url})" if saved.get("api_key") else ""
    return Settings(url, None, url_from, why)
