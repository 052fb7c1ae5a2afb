"""What the command line reads and prints: durations and moments, aligned tables, records, JSON."""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import datetime, timedelta, timezone
from typing import Any, List, Optional, Sequence, Tuple

from ._errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+)([smhdw])")
_DURATION_HELP = "a number and a unit (s, m, h, d, w), e.g. 90s, 15m, 12h, 30d, or several: 1h30m"


def parse_duration(text: str) -> timedelta:
    """``"30d"`` → 30 days; ``"1h30m"`` → 90 minutes. UsageError for anything else, zero included."""
    value = text.strip().lower()
    parts = _DURATION.findall(value)
    if not value or "".join(n + u for n, u in parts) != value:
        raise UsageError(f"invalid duration {text!r}: use {_DURATION_HELP}")
    seconds = sum(int(n) * _UNITS[u] for n, u in parts)
    if seconds == 0:
        raise UsageError(f"invalid duration {text!r}: it must be longer than zero")
    return timedelta(seconds=seconds)


def parse_moment(text: str, *, now: Optional[datetime] = None, ago: bool) -> datetime:
    """A duration (that long ago when ``ago``, else from now) or an ISO 8601 date or time (UTC unless it says)."""
    now = now or datetime.now(timezone.utc)
    if text[:1].isdigit() and text.strip()[-1:].lower() in _UNITS:
        delta = parse_duration(text)
        return now - delta if ago else now + delta
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"invalid time {text!r}: use {_DURATION_HELP}, or a date such as 2026-12-31 or 2026-12-31T18:00Z") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def show(value: Any) -> str:
    """A cell of a human table: ``-`` for nothing, UTC times to the second, yes/no for flags."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Columns aligned by two spaces, headers first; the last column is not padded."""
    cells = [list(headers)] + [[show(v) for v in row] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(headers))]
    lines = []
    for line in cells:
        padded = [cell.ljust(width) for cell, width in zip(line[:-1], widths)] + [line[-1]]
        lines.append("  ".join(padded).rstrip())
    return "\n".join(lines)


def record(fields: Sequence[Tuple[str, Any]]) -> str:
    """``label:  value`` lines, values aligned."""
    width = max((len(label) for label, _ in fields), default=0) + 1
    return "\n".join(f"{(label + ':').ljust(width)}  {show(value)}" for label, value in fields)


def jsonable(value: Any) -> Any:
    """Dataclasses as objects (every field, secrets included), times as ISO 8601 UTC strings."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def to_json(value: Any) -> str:
    return json.dumps(jsonable(value), indent=2, ensure_ascii=False)


@dataclasses.dataclass
class Result:
    """What a command printed: ``data`` as the JSON document with --json, ``text`` otherwise.

    ``note`` goes to stderr in both modes (it is for the person, not the script).
    """

    data: Any
    text: str
    note: str = ""


def rows_result(items: List[Any], headers: Sequence[str], row: Any) -> Result:
    """A list as a table (``row(item)`` gives the cells) or as a JSON array of the items."""
    return Result(items, table(headers, [row(item) for item in items]))
