"""client.admin and client.whoami() against the real server: users, groups, grants, keys, audit, organisations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Iterator

import pytest
from support.server import ServerProcess, unique

import traintrack as tt


def test_roles_and_key_scopes_are_the_strings_people_read() -> None:
    from traintrack._gen.v1 import api_key_pb2, role_pb2
    from traintrack._roles import role_name, role_to_proto, scope_name, scope_to_proto

    assert tt.ROLES == ("viewer", "editor", "maintainer", "owner")
    assert [role_name(role_to_proto(r)) for r in tt.ROLES] == list(tt.ROLES)
    assert role_to_proto("Editor") == role_pb2.ROLE_EDITOR and role_to_proto(None) == role_pb2.ROLE_UNSPECIFIED
    assert role_name(role_pb2.ROLE_UNSPECIFIED) is None
    assert [scope_name(scope_to_proto(s)) for s in tt.KEY_SCOPES] == list(tt.KEY_SCOPES)
    assert scope_to_proto("read_only") == api_key_pb2.API_KEY_SCOPE_READ_ONLY
    assert scope_name(api_key_pb2.API_KEY_SCOPE_UNSPECIFIED) == "all"
    with pytest.raises(tt.InvalidArgument, match="use one of viewer, editor, maintainer, owner"):
        role_to_proto("admin")
    with pytest.raises(tt.InvalidArgument, match="unknown key scope"):
        scope_to_proto("write")


def test_arguments_the_sdk_refuses_before_calling(client_offline: tt.Client) -> None:
    admin = client_offline.admin
    with pytest.raises(tt.InvalidArgument, match="exactly one of user_id and user_name"):
        admin.users.get()
    with pytest.raises(tt.InvalidArgument, match="exactly one of user_id and group_id"):
        admin.grants.add("viewer", user_id="u_1", group_id="g_1")
    with pytest.raises(tt.InvalidArgument, match="give the grant's id"):
        admin.grants.revoke(user_id="u_1")
    with pytest.raises(tt.InvalidArgument, match='exactly when its scope is "project"'):
        admin.keys.create("k", scope="read-only", project="churn")


@pytest.fixture
def client_offline() -> Iterator[tt.Client]:
    """A client of no server: for what the SDK checks before it calls."""
    with tt.Client(url="http://127.0.0.1:9", api_key="k", progress=False) as c:
        yield c


def key_client(server: ServerProcess, secret: str) -> tt.Client:
    return tt.Client(url=server.url, api_key=secret, progress=False)


def test_the_bootstrap_key_is_an_owner_and_the_instance_admin(client: tt.Client) -> None:
    me = client.whoami()
    assert me.organization is not None and me.user is not None and me.key is not None
    assert me.organization_role == "owner"
    assert me.instance_admin
    assert me.key.user_id == me.user.id


def test_users_are_created_found_listed_updated_and_deactivated(server: ServerProcess, client: tt.Client) -> None:
    users = client.admin.users
    name = unique("alice")
    alice = users.create(name, role="editor", email=f"{name}@example.com", display_name="Alice")
    assert (alice.user_name, alice.email, alice.active, alice.service_account) == (name, f"{name}@example.com", True, False)
    assert alice.id.startswith("u_")
    assert users.get(alice.id) == alice == users.get(user_name=name) == users.find(name) == users.find(alice.id)
    assert name in [u.user_name for u in users.list()]
    assert [g.role for g in client.admin.grants.list(user_id=alice.id)] == ["editor"]
    with pytest.raises(tt.AlreadyExists):
        users.create(name.upper())  # user names are case-insensitive
    with pytest.raises(tt.InvalidArgument):
        users.create("no spaces allowed")
    assert users.update(alice.id, display_name="Alice A.").display_name == "Alice A."

    new = client.admin.keys.create("laptop", user_id=alice.id)
    with key_client(server, new.secret) as as_alice:
        assert as_alice.whoami().user == users.get(alice.id)
        assert users.deactivate(alice.id).active is False
        with pytest.raises(tt.Unauthenticated):
            as_alice.whoami()
    assert name not in [u.user_name for u in users.list()]
    assert name in [u.user_name for u in users.list(include_inactive=True)]
    with pytest.raises(tt.NotFound):
        users.get(user_name=unique("nobody"))


def test_groups_hold_members_and_grants_to_a_group_reach_them(server: ServerProcess, client: tt.Client) -> None:
    bob = client.admin.users.create(unique("bob"))
    carol = client.admin.users.create(unique("carol"))
    groups = client.admin.groups
    team = groups.create(unique("ml-team"), member_ids=[bob.id])
    assert team.member_count == 1 and team.id.startswith("g_")
    assert groups.add_members(team.id, [bob.id, carol.id]).member_count == 2
    assert {u.id for u in groups.members(team.id)} == {bob.id, carol.id}
    assert team.id in [g.id for g in groups.list(member_id=carol.id)]
    assert groups.find(team.display_name).id == team.id

    project = unique("churn")
    grant = client.admin.grants.add("maintainer", group_id=team.id, project=project)
    assert (grant.role, grant.group_id, grant.project) == ("maintainer", team.id, project)
    assert client.admin.grants.add("maintainer", group_id=team.id, project=project).id == grant.id  # granting twice: the same grant
    assert [g.id for g in client.admin.grants.list(project=project)] == [grant.id]
    with key_client(server, client.admin.keys.create("k", user_id=carol.id).secret) as as_carol:
        me = as_carol.whoami()
        assert me.organization_role is None and me.project_roles == {project: "maintainer"}

    assert groups.remove_members(team.id, [carol.id]).member_count == 1
    assert client.admin.grants.revoke(grant.id) is True
    assert client.admin.grants.revoke(grant.id) is False
    groups.delete(team.id)
    with pytest.raises(tt.NotFound):
        groups.find(team.id)


def test_a_service_account_key_works_until_revoked(server: ServerProcess, client: tt.Client) -> None:
    cluster = client.admin.service_accounts.create(unique("cluster"), role="editor")
    assert cluster.service_account
    assert cluster.id in [u.id for u in client.admin.service_accounts.list()]
    new = client.admin.keys.create("cluster", user_id=cluster.id, expires=timedelta(days=30))
    assert new.secret and new.key.user_id == cluster.id and new.key.scope == "all"
    assert new.key.expires_at is not None and new.key.expires_at > datetime.now(timezone.utc) + timedelta(days=29)
    assert "secret" not in repr(new)
    listed = {k.id: k for k in client.admin.keys.list(user_id=cluster.id)}
    assert listed[new.key.id].prefix and new.secret.startswith(listed[new.key.id].prefix)

    with key_client(server, new.secret) as as_cluster:
        me = as_cluster.whoami()
        assert me.user is not None and me.user.id == cluster.id and me.organization_role == "editor"
        list(as_cluster.datasets.list())
        with pytest.raises(tt.PermissionDenied):
            as_cluster.admin.users.create(unique("sneaky"))
        assert client.admin.keys.revoke(new.key.id).revoked_at is not None
        with pytest.raises(tt.Unauthenticated):
            as_cluster.whoami()
    assert new.key.id not in [k.id for k in client.admin.keys.list(user_id=cluster.id)]
    assert new.key.id in [k.id for k in client.admin.keys.list(user_id=cluster.id, include_revoked=True)]


def test_a_read_only_key_reads_but_does_not_write(server: ServerProcess, client: tt.Client) -> None:
    new = client.admin.keys.create("read", scope="read-only")
    with key_client(server, new.secret) as reader:
        assert reader.whoami().organization_role == "viewer"
        list(reader.admin.users.list())
        with pytest.raises(tt.PermissionDenied):
            reader.datasets.save(tt.Dataset(name=unique("nope"), version="1"))
    with pytest.raises(tt.InvalidArgument):
        client.admin.keys.create("p", scope="project")  # a project scope names its project


def test_the_audit_log_records_who_did_what(client: tt.Client) -> None:
    me = client.whoami()
    made = client.admin.users.create(unique("audited"))
    events = list(client.admin.audit.list(since=timedelta(hours=1), resource=f"user/{made.id}"))
    assert events, "no audit event for the user just created"
    event = events[0]
    assert event.method.endswith("UserService/CreateUser") and event.outcome == "ok"
    assert me.user is not None and me.key is not None and (event.user_id, event.key_id) == (me.user.id, me.key.id)
    assert event.time is not None and event.time > datetime.now(timezone.utc) - timedelta(hours=1)
    assert list(client.admin.audit.list(until=timedelta(hours=1), resource=f"user/{made.id}")) == []


def test_organisations_are_tenants_that_see_nothing_of_each_other(server: ServerProcess, client: tt.Client) -> None:
    mine = client.admin.users.create(unique("mine"))
    new = client.admin.organizations.create(unique("acme"), owner_user_name="boss")
    assert new.owner.user_name == "boss" and new.owner_key.user_id == new.owner.id
    assert new.organization.id in [o.id for o in client.admin.organizations.list()]
    with key_client(server, new.owner_key_secret) as acme:
        me = acme.whoami()
        assert me.organization == new.organization and me.organization_role == "owner" and not me.instance_admin
        assert acme.admin.organizations.get() == new.organization
        with pytest.raises(tt.NotFound):
            acme.admin.users.get(mine.id)
        with pytest.raises(tt.PermissionDenied):
            acme.admin.organizations.create(unique("other"))
    with pytest.raises(tt.AlreadyExists):
        client.admin.organizations.create(new.organization.name)
