"""``traintrack groups …``: a group is named by id (``g_…``) or display name, its members by user id or user name."""

from __future__ import annotations

from typing import List

from .. import Group
from ._context import Context
from ._format import Result, record, rows_result
from ._parser import Subcommands, command, group
from .users import USER_HEADERS, user_id, user_row

GROUP_HEADERS = ("ID", "NAME", "MEMBERS", "EXTERNAL ID", "CREATED")


def register(commands: Subcommands) -> None:
    groups = group(commands, "groups", "groups of users; a role granted to a group applies to each member")
    create = command(groups, "create", "create a group", create_group)
    create.add_argument("name", metavar="NAME")
    create.add_argument("--member", action="append", default=[], metavar="USER", help="a member (repeat for more)")
    ls = command(groups, "ls", "list groups", list_groups, aliases=("list",))
    ls.add_argument("--member", metavar="USER", help="only the groups holding this user")
    members = command(groups, "members", "list the members of a group", list_members)
    members.add_argument("group", metavar="GROUP")
    add = command(groups, "add-members", "add users to a group", add_members)
    add.add_argument("group", metavar="GROUP")
    add.add_argument("users", metavar="USER", nargs="+")
    remove = command(groups, "remove-members", "remove users from a group", remove_members)
    remove.add_argument("group", metavar="GROUP")
    remove.add_argument("users", metavar="USER", nargs="+")
    delete = command(groups, "delete", "delete a group and the grants that name it", delete_group)
    delete.add_argument("group", metavar="GROUP")


def group_record(g: Group) -> str:
    return record([("id", g.id), ("name", g.display_name), ("members", g.member_count), ("external id", g.external_id), ("created", g.created_at)])


def create_group(ctx: Context) -> Result:
    client = ctx.client
    g = client.admin.groups.create(ctx.args.name, member_ids=[user_id(client, m) for m in ctx.args.member])
    return Result(g, group_record(g))


def list_groups(ctx: Context) -> Result:
    client = ctx.client
    member = user_id(client, ctx.args.member) if ctx.args.member else ""
    found: List[Group] = list(client.admin.groups.list(member_id=member))
    return rows_result(found, GROUP_HEADERS, lambda g: (g.id, g.display_name, g.member_count, g.external_id, g.created_at))


def list_members(ctx: Context) -> Result:
    groups = ctx.client.admin.groups
    return rows_result(groups.members(groups.find(ctx.args.group).id), USER_HEADERS, user_row)


def add_members(ctx: Context) -> Result:
    client = ctx.client
    g = client.admin.groups.add_members(client.admin.groups.find(ctx.args.group).id, [user_id(client, u) for u in ctx.args.users])
    return Result(g, group_record(g))


def remove_members(ctx: Context) -> Result:
    client = ctx.client
    g = client.admin.groups.remove_members(client.admin.groups.find(ctx.args.group).id, [user_id(client, u) for u in ctx.args.users])
    return Result(g, group_record(g))


def delete_group(ctx: Context) -> Result:
    groups = ctx.client.admin.groups
    g = groups.find(ctx.args.group)
    groups.delete(g.id)
    return Result({"deleted": g}, f"Deleted group {g.display_name} ({g.id}) and the grants that named it.")
