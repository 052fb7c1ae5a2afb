"""Progress bars for uploads and downloads (tqdm), shown only when they help."""

from __future__ import annotations

import os
from typing import Any, Optional

from tqdm import tqdm

_OFF = {"0", "false", "no", "off"}
_ON = {"1", "true", "yes", "on"}


def resolve(progress: Optional[bool]) -> Optional[bool]:
    """The effective setting: an explicit ``progress=`` wins, then ``TRAINTRACK_PROGRESS``, else automatic.

    Returns True (always show), False (never) or None (automatic: only on a terminal).
    """
    if progress is not None:
        return progress
    env = os.environ.get("TRAINTRACK_PROGRESS", "").strip().lower()
    if env in _OFF:
        return False
    if env in _ON:
        return True
    return None


def bar(total: int, description: str, progress: Optional[bool], initial: int = 0) -> "tqdm[Any]":
    """A byte counter with rate, appearing only for transfers that last more than a second."""
    return tqdm(
        total=total,
        initial=initial,
        desc=description,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        # tqdm's disable=None means "off unless stderr is a terminal".
        disable=None if progress is None else not progress,
        delay=1.0,
        leave=True,
        dynamic_ncols=True,
    )
