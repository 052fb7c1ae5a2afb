"""``traintrack users …`` and ``traintrack service-accounts …``.

A user is named on the command line by id (``u_…``) or by user name.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple

from .. import ROLES, Client, NotFound, PermissionDenied, User
from ._context import Context
from ._format import Result, record, rows_result
from ._parser import Subcommands, command, group

USER_HEADERS = ("ID", "USER NAME", "DISPLAY NAME", "EMAIL", "KIND", "ACTIVE", "CREATED")


def register(commands: Subcommands) -> None:
    users = group(commands, "users", "the users of your organisation (owners change them; everyone may read)")
    create = command(users, "create", "create a user, optionally with a role on the organisation", create_user)
    create.add_argument("user_name", metavar="USER_NAME")
    create.add_argument("--role", choices=ROLES, help="a role on the organisation (default: none)")
    create.add_argument("--email", default="")
    create.add_argument("--display-name", default="")
    ls = command(users, "ls", "list users and service accounts", list_users, aliases=("list",))
    ls.add_argument("--all", action="store_true", help="also deactivated users")
    ls.add_argument("--group", metavar="GROUP", help="only the members of this group (id or name)")
    get = command(users, "get", "show one user", get_user)
    get.add_argument("user", metavar="USER", help="id or user name")
    update = command(users, "update", "change a user's display name, email or active flag", update_user)
    update.add_argument("user", metavar="USER", help="id or user name")
    update.add_argument("--display-name")
    update.add_argument("--email")
    update.add_argument("--activate", action="store_true", help="reactivate a deactivated user")
    deactivate = command(users, "deactivate", "deactivate a user: every key of theirs stops working at once", deactivate_user)
    deactivate.add_argument("user", metavar="USER", help="id or user name")

    accounts = group(commands, "service-accounts", "users for machines (a training cluster, CI)")
    sa_create = command(accounts, "create", "create a service account; give it a key with 'traintrack keys create --user NAME'", create_account)
    sa_create.add_argument("name", metavar="NAME")
    sa_create.add_argument("--role", choices=ROLES, help="a role on the organisation (default: none)")
    sa_create.add_argument("--display-name", default="")
    sa_ls = command(accounts, "ls", "list service accounts", list_accounts, aliases=("list",))
    sa_ls.add_argument("--all", action="store_true", help="also deactivated ones")


def user_id(client: Client, ref: str) -> str:
    """The id of the user named ``ref`` (an id or a user name); NotFound (exit 5) when none."""
    return client.admin.users.find(ref).id


def user_names(client: Client) -> Dict[str, str]:
    """User names by id, to show ids as people read them; empty when the caller may not list users."""
    try:
        return {u.id: u.user_name for u in client.admin.users.list(include_inactive=True)}
    except (PermissionDenied, NotFound):
        return {}


def user_row(u: User) -> Sequence[Any]:
    return (u.id, u.user_name, u.display_name, u.email, "service" if u.service_account else "user", u.active, u.created_at)


def user_record(u: User, role: Optional[str] = None) -> str:
    fields: List[Tuple[str, Any]] = [("id", u.id), ("user name", u.user_name), ("display name", u.display_name), ("email", u.email)]
    fields += [("kind", "service account" if u.service_account else "user"), ("active", u.active)]
    if role is not None:
        fields.append(("role", role))
    fields += [("external id", u.external_id), ("created", u.created_at), ("updated", u.updated_at)]
    return record(fields)


def create_user(ctx: Context) -> Result:
    a = ctx.args
    u = ctx.client.admin.users.create(a.user_name, role=a.role, email=a.email, display_name=a.display_name)
    return Result(u, user_record(u, a.role or "none"))


def list_users(ctx: Context) -> Result:
    admin = ctx.client.admin
    group_id = admin.groups.find(ctx.args.group).id if ctx.args.group else ""
    found: List[User] = list(admin.users.list(group_id=group_id, include_inactive=ctx.args.all))
    return rows_result(found, USER_HEADERS, user_row)


def get_user(ctx: Context) -> Result:
    u = ctx.client.admin.users.find(ctx.args.user)
    return Result(u, user_record(u))


def update_user(ctx: Context) -> Result:
    a = ctx.args
    users = ctx.client.admin.users
    u = users.update(users.find(a.user).id, display_name=a.display_name, email=a.email, active=True if a.activate else None)
    return Result(u, user_record(u))


def deactivate_user(ctx: Context) -> Result:
    users = ctx.client.admin.users
    u = users.deactivate(users.find(ctx.args.user).id)
    return Result(u, f"Deactivated {u.user_name} ({u.id}): its keys answer 'not authenticated' from now on.")


def create_account(ctx: Context) -> Result:
    a = ctx.args
    u = ctx.client.admin.service_accounts.create(a.name, role=a.role, display_name=a.display_name)
    note = f"Next: traintrack keys create --user {u.user_name} --name {u.user_name} --expires 90d"
    return Result(u, user_record(u, a.role or "none"), note=note)


def list_accounts(ctx: Context) -> Result:
    found = list(ctx.client.admin.service_accounts.list(include_inactive=ctx.args.all))
    return rows_result(found, USER_HEADERS, user_row)
