"""``traintrack keys …``: API keys, whose secret is shown once.

``keys create`` prints the secret alone on stdout (its last and only line), and
the "shown once" notice on stderr, so that ``KEY=$(traintrack keys create …)``
captures exactly the secret. With --json, stdout is ``{"key": {…}, "secret": "…"}``.
"""

from __future__ import annotations

from typing import List, Optional

from .. import KEY_SCOPES, ApiKey
from ._context import Context
from ._errors import UsageError
from ._format import Result, parse_moment, rows_result, show
from ._parser import Subcommands, command, group
from .users import user_id, user_names

KEY_HEADERS = ("ID", "NAME", "PREFIX", "USER", "SCOPE", "CREATED", "LAST USED", "EXPIRES", "REVOKED")


def register(commands: Subcommands) -> None:
    keys = group(commands, "keys", "API keys: yours, or (owners) any user's or service account's")
    create = command(keys, "create", "create a key; its secret is printed once, alone on stdout", create_key)
    create.add_argument("--name", required=True, help="to recognise the key in a list, e.g. ci")
    create.add_argument("--expires", metavar="WHEN", help="a duration from now (90s, 15m, 12h, 30d) or a date; default: never")
    create.add_argument("--user", metavar="USER", help="whose key (id or name; owners only); default: yours")
    create.add_argument("--scope", choices=KEY_SCOPES, help="what the key may do at most (default: all; with --project: project)")
    create.add_argument("--project", default="", help="the one project of a project-scoped key")
    ls = command(keys, "ls", "list keys, newest first (never their secrets)", list_keys, aliases=("list",))
    whose = ls.add_mutually_exclusive_group()
    whose.add_argument("--user", metavar="USER", help="this user's keys (owners)")
    whose.add_argument("--all", action="store_true", help="every user's keys (owners)")
    ls.add_argument("--include-revoked", action="store_true")
    revoke = command(keys, "revoke", "revoke keys at once (they answer 'not authenticated' from then on)", revoke_keys)
    revoke.add_argument("key_ids", nargs="+", metavar="KEY_ID")


def create_key(ctx: Context) -> Result:
    a = ctx.args
    scope: str = a.scope or ("project" if a.project else "all")
    if scope == "project" and not a.project:
        raise UsageError("--scope project needs --project NAME")
    if a.project and scope != "project":
        raise UsageError(f"--project goes with --scope project, not --scope {scope}")
    expires = parse_moment(a.expires, ago=False) if a.expires else None
    client = ctx.client
    owner = user_id(client, a.user) if a.user else ""
    new = client.admin.keys.create(a.name, user_id=owner, scope=scope, project=a.project, expires=expires)
    note = (
        f"Created key {new.key.id} ({new.key.name}, scope {scope}{' ' + a.project if a.project else ''}, "
        f"expires {show(new.key.expires_at) if new.key.expires_at else 'never'}).\n"
        "The secret is shown once, below: store it now; it cannot be read again (revoke the key and create another if lost)."
    )
    return Result(new, new.secret, note=note)


def list_keys(ctx: Context) -> Result:
    client = ctx.client
    owner: Optional[str] = user_id(client, ctx.args.user) if ctx.args.user else ""
    found: List[ApiKey] = list(client.admin.keys.list(user_id=owner or "", all_users=ctx.args.all, include_revoked=ctx.args.include_revoked))
    names = {} if ctx.json or not found else user_names(client)
    return rows_result(
        found,
        KEY_HEADERS,
        lambda k: (
            k.id,
            k.name,
            k.prefix,
            names.get(k.user_id, k.user_id),
            k.scope + (f" {k.project}" if k.project else ""),
            k.created_at,
            k.last_used_at,
            k.expires_at,
            k.revoked_at,
        ),
    )


def revoke_keys(ctx: Context) -> Result:
    revoked = [ctx.client.admin.keys.revoke(key_id) for key_id in ctx.args.key_ids]
    text = "\n".join(f"Revoked {k.id} ({k.name}): it answers 'not authenticated' from now on." for k in revoked)
    return Result(revoked, text)
