"""``traintrack orgs …``: the organisations of the instance (instance administrator)."""

from __future__ import annotations

from typing import List

from .. import Organization
from ._context import Context
from ._format import Result, record, rows_result
from ._parser import Subcommands, command, group


def register(commands: Subcommands) -> None:
    orgs = group(commands, "orgs", "organisations of this instance (instance administrator)")
    create = command(orgs, "create", "create an organisation with its first owner; prints the owner's key once", create_org)
    create.add_argument("name", metavar="NAME")
    create.add_argument("--owner", default="", metavar="USER_NAME", help='the first owner\'s user name (default "admin")')
    create.add_argument("--owner-email", default="")
    command(orgs, "ls", "list organisations", list_orgs, aliases=("list",))
    get = command(orgs, "get", "show an organisation (default: yours)", get_org)
    get.add_argument("org_id", nargs="?", default="", metavar="ORG_ID")


def create_org(ctx: Context) -> Result:
    a = ctx.args
    new = ctx.client.admin.organizations.create(a.name, owner_user_name=a.owner, owner_email=a.owner_email)
    note = (
        f"Created organisation {new.organization.name} ({new.organization.id}) with owner {new.owner.user_name} ({new.owner.id}).\n"
        f"The owner's key {new.owner_key.id} is shown once, below: store it now; it cannot be read again."
    )
    return Result(new, new.owner_key_secret, note=note)


def list_orgs(ctx: Context) -> Result:
    found: List[Organization] = list(ctx.client.admin.organizations.list())
    return rows_result(found, ("ID", "NAME", "CREATED"), lambda o: (o.id, o.name, o.created_at))


def get_org(ctx: Context) -> Result:
    o = ctx.client.admin.organizations.get(ctx.args.org_id)
    return Result(o, record([("id", o.id), ("name", o.name), ("created", o.created_at)]))
