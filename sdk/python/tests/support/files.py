"""Test files on disk, made without holding them in memory."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Union

MiB = 1024 * 1024


def sha256_of(path: Union[str, "os.PathLike[str]"]) -> str:
    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(8 * MiB), b""):
            hasher.update(block)
    return hasher.hexdigest()


def sparse_file(path: Path, size: int, every: int = 64 * MiB) -> Path:
    """A file of ``size`` bytes made in well under a second: a hole with 1 MiB of random bytes every ``every`` bytes."""
    with open(path, "wb") as f:
        f.truncate(size)
        for offset in range(0, size, every):
            f.seek(offset)
            f.write(os.urandom(min(MiB, size - offset)))
    return path
