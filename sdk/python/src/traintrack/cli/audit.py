"""``traintrack audit``: who did what, when, from where, and how it went (owners)."""

from __future__ import annotations

import itertools
from typing import List

from .. import AuditEvent
from ._context import Context
from ._errors import UsageError
from ._format import Result, parse_moment, rows_result
from ._parser import Subcommands, command
from .users import user_id, user_names


def register(commands: Subcommands) -> None:
    audit = command(commands, "audit", "list audit events, newest first (owners)", list_events)
    audit.add_argument("--since", metavar="WHEN", help="that long ago (90s, 15m, 1h, 7d) or a date/time, e.g. 2026-12-01T09:00Z")
    audit.add_argument("--until", metavar="WHEN", help="events before this (same forms as --since)")
    audit.add_argument("--user", metavar="USER", help="only this user's or service account's events (id or name)")
    audit.add_argument("--key", metavar="KEY_ID", default="", help="only this key's events")
    audit.add_argument("--resource", default="", help='one resource ("user/u_…"), or every one under a prefix ending in "/" ("run/")')
    audit.add_argument("--limit", type=int, default=100, help="at most this many events (default 100; 0: all)")


def list_events(ctx: Context) -> Result:
    a = ctx.args
    if a.limit < 0:
        raise UsageError("--limit must be 0 (all) or more")
    since = parse_moment(a.since, ago=True) if a.since else None
    until = parse_moment(a.until, ago=True) if a.until else None
    client = ctx.client
    who = user_id(client, a.user) if a.user else ""
    events = client.admin.audit.list(since=since, until=until, user_id=who, key_id=a.key, resource=a.resource)
    found: List[AuditEvent] = list(itertools.islice(events, a.limit) if a.limit else events)
    names = {} if ctx.json or not found else user_names(client)
    return rows_result(
        found,
        ("TIME", "USER", "KEY", "METHOD", "RESOURCE", "SOURCE", "OUTCOME"),
        lambda e: (e.time, names.get(e.user_id, e.user_id), e.key_id, e.method, e.resource, e.source, e.outcome),
    )
