"""Artefact paths: checked before an upload, and never trusted when writing to disk."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .errors import InvalidArgument

# C0, DEL and C1, as the server refuses them.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def check_artefact_path(path: str) -> str:
    """Returns ``path`` if it is a valid artefact path, else raises InvalidArgument.

    The server's rule, checked early so that a bad name fails before any byte is
    uploaded: relative, "/"-separated, no empty, "." or ".." elements, no "\\",
    NUL or control characters, at most 1024 bytes (255 per element).
    """
    if not path:
        raise InvalidArgument("an artefact name is required, e.g. \"train.csv\"")
    if len(path.encode("utf-8")) > 1024:
        raise InvalidArgument(f"artefact name {path[:80]!r}... is longer than 1024 bytes")
    if path.startswith("/"):
        raise InvalidArgument(f"artefact name {path!r} is absolute; give a relative path, e.g. \"train/part-0.csv\"")
    for element in path.split("/"):
        if element in ("", ".", ".."):
            raise InvalidArgument(f"artefact name {path!r} has an empty, \".\" or \"..\" element; use a plain relative path such as \"train/part-0.csv\"")
        if "\\" in element or _CONTROL.search(element):
            raise InvalidArgument(f"artefact name {path!r} contains a \"\\\", NUL or control character")
        if len(element.encode("utf-8")) > 255:
            raise InvalidArgument(f"artefact name {path!r} has an element longer than 255 bytes")
    return path


def safe_join(root: Path, name: str) -> Path:
    """``root / name`` for an artefact path from the server; InvalidArgument if it would land outside ``root``."""
    check_artefact_path(name)
    target = (root / name).resolve()
    base = root.resolve()
    if target != base and base not in target.parents:
        raise InvalidArgument(f"artefact {name!r} would be written outside {os.fspath(root)!r}; refusing")
    return target
