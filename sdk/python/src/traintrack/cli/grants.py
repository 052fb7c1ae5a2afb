"""``traintrack grants …``: roles of users and groups on the organisation or on one project."""

from __future__ import annotations

import argparse
from typing import Any, Dict, List, Sequence, Tuple

from .. import ROLES, Client, Grant, NotFound, PermissionDenied
from ._context import Context
from ._errors import UsageError
from ._format import Result, record, rows_result
from ._parser import Subcommands, command, group
from .users import user_id, user_names


def register(commands: Subcommands) -> None:
    grants = group(commands, "grants", "roles of users and groups on the organisation or one project")
    add = command(grants, "add", "grant a role (project grants add to organisation grants)", add_grant)
    _principal_options(add, required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--project", default="", help="a project's name (default: the organisation)")
    revoke = command(grants, "revoke", "revoke a grant, by id or by --user/--group, --role and --project", revoke_grant)
    revoke.add_argument("grant_id", nargs="?", default="", metavar="GRANT_ID")
    _principal_options(revoke, required=False)
    revoke.add_argument("--role", choices=ROLES)
    revoke.add_argument("--project", default="")
    ls = command(grants, "ls", "list grants (all of the organisation's, or filtered)", list_grants, aliases=("list",))
    _principal_options(ls, required=False)
    ls.add_argument("--project", default="", help="only grants on this project")


def _principal_options(parser: argparse.ArgumentParser, *, required: bool) -> None:
    who = parser.add_mutually_exclusive_group(required=required)
    who.add_argument("--user", metavar="USER", help="a user or service account (id or name)")
    who.add_argument("--group", metavar="GROUP", help="a group (id or name)")


def _principal(client: Client, args: argparse.Namespace) -> Tuple[str, str]:
    """(user id, group id) from --user or --group."""
    if args.user:
        return user_id(client, args.user), ""
    if args.group:
        return "", client.admin.groups.find(args.group).id
    return "", ""


def add_grant(ctx: Context) -> Result:
    client = ctx.client
    uid, gid = _principal(client, ctx.args)
    g = client.admin.grants.add(ctx.args.role, user_id=uid, group_id=gid, project=ctx.args.project)
    who = f"user {ctx.args.user}" if uid else f"group {ctx.args.group}"
    return Result(g, record([("id", g.id), ("role", g.role), ("to", who), ("on", g.project or "the organisation"), ("created", g.created_at)]))


def revoke_grant(ctx: Context) -> Result:
    a = ctx.args
    if not a.grant_id and not ((a.user or a.group) and a.role):
        raise UsageError("give a GRANT_ID (from 'traintrack grants ls'), or --user or --group with --role (and --project)")
    client = ctx.client
    uid, gid = _principal(client, a) if not a.grant_id else ("", "")
    revoked = client.admin.grants.revoke(a.grant_id, role=a.role, user_id=uid, group_id=gid, project=a.project)
    text = "Revoked." if revoked else "No such grant: nothing to revoke."
    return Result({"revoked": revoked}, text)


def list_grants(ctx: Context) -> Result:
    client = ctx.client
    uid, gid = _principal(client, ctx.args)
    found: List[Grant] = list(client.admin.grants.list(user_id=uid, group_id=gid, project=ctx.args.project))
    names = {} if ctx.json else _names(client)

    def row(g: Grant) -> Sequence[Any]:
        who = f"user {names.get(g.user_id, g.user_id)}" if g.user_id else f"group {names.get(g.group_id, g.group_id)}"
        return (g.id, g.role, who, g.project or "(organisation)", g.created_at)

    return rows_result(found, ("ID", "ROLE", "PRINCIPAL", "ON", "CREATED"), row)


def _names(client: Client) -> Dict[str, str]:
    """User names and group names by id, to show grants as people read them."""
    names = user_names(client)
    try:
        names.update({g.id: g.display_name for g in client.admin.groups.list()})
    except (PermissionDenied, NotFound):
        pass
    return names
