"""``client.admin``: the users, service accounts, groups, grants, API keys, audit log and organisations of Traintrack.

Example::

    import traintrack as tt
    from datetime import timedelta

    client = tt.Client()
    alice = client.admin.users.create("alice", role="editor", email="alice@example.com")
    ml = client.admin.groups.create("ml-team", member_ids=[alice.id])
    client.admin.grants.add("maintainer", group_id=ml.id, project="churn")
    cluster = client.admin.service_accounts.create("training-cluster", role="editor")
    new = client.admin.keys.create("cluster", user_id=cluster.id, expires=timedelta(days=30))
    print(new.secret)                     # shown once
    client.admin.keys.revoke(new.key.id)  # answers Unauthenticated from now on
    for event in client.admin.audit.list(since=timedelta(hours=1)):
        print(event.time, event.method, event.resource, event.outcome)

Roles are ``"viewer"``, ``"editor"``, ``"maintainer"``, ``"owner"`` (tt.ROLES); key
scopes ``"all"``, ``"read-only"``, ``"project"``, ``"scim"`` (tt.KEY_SCOPES). What a
caller may not do raises PermissionDenied; ids of another organisation NotFound.
"""

from __future__ import annotations

from ._admin_access import Audit, Grants, Keys, Organizations
from ._admin_users import Groups, ServiceAccounts, Users
from ._transport import Transport

__all__ = ["Admin", "Audit", "Grants", "Groups", "Keys", "Organizations", "ServiceAccounts", "Users"]


class Admin:
    """Identity and access management, as ``client.admin``; see the module's example."""

    def __init__(self, transport: Transport) -> None:
        #: Users of the organisation: create, get, find, list, update, deactivate.
        self.users = Users(transport)
        #: Users for machines: create, list.
        self.service_accounts = ServiceAccounts(transport)
        #: Groups: create, list, find, members, add_members, remove_members, delete.
        self.groups = Groups(transport)
        #: Roles of users and groups: add, revoke, list, test.
        self.grants = Grants(transport)
        #: API keys: create (the secret is shown once), list, revoke.
        self.keys = Keys(transport)
        #: The audit log (owners): list.
        self.audit = Audit(transport)
        #: Organisations (instance administrator): create, get, list.
        self.organizations = Organizations(transport)
