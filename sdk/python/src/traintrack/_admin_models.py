"""Plain, immutable values of ``client.admin`` and ``client.whoami()``: users, groups, grants, keys, audit events.

Roles and key scopes are plain strings here (``"editor"``, ``"read-only"``), not
the wire's enum numbers, so that they print, compare and serialise as people read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Dict, Optional

from ._gen.v1 import access_pb2, api_key_pb2, audit_pb2, organization_pb2, user_pb2
from ._models import to_datetime
from ._roles import role_name, scope_name

@dataclass(frozen=True)
class User:
    """A user or service account (``service_account``) of the organisation; ``id`` is also its SCIM id."""

    id: str
    user_name: str
    display_name: str
    email: str
    active: bool
    service_account: bool
    external_id: str
    created_at: Optional[datetime]
    updated_at: Optional[datetime]

    @classmethod
    def _from_proto(cls, u: user_pb2.User) -> User:
        return cls(
            id=u.id,
            user_name=u.user_name,
            display_name=u.display_name,
            email=u.email,
            active=u.active,
            service_account=u.service_account,
            external_id=u.external_id,
            created_at=to_datetime(u.created_at),
            updated_at=to_datetime(u.updated_at),
        )


@dataclass(frozen=True)
class Group:
    """A group of users; grants that name it apply to every member."""

    id: str
    display_name: str
    external_id: str
    member_count: int
    created_at: Optional[datetime]

    @classmethod
    def _from_proto(cls, g: user_pb2.Group) -> Group:
        return cls(g.id, g.display_name, g.external_id, g.member_count, to_datetime(g.created_at))


@dataclass(frozen=True)
class Grant:
    """``role`` for a user (``user_id``) or a group (``group_id``) on a project, or on the organisation (``project == ""``)."""

    id: str
    role: Optional[str]
    user_id: str
    group_id: str
    project: str
    created_at: Optional[datetime]

    @classmethod
    def _from_proto(cls, g: access_pb2.Grant) -> Grant:
        return cls(g.id, role_name(g.role), g.user_id, g.group_id, g.project, to_datetime(g.created_at))


@dataclass(frozen=True)
class ApiKey:
    """An API key as listed: never its secret. ``scope`` is one of SCOPES; ``project`` goes with ``"project"``."""

    id: str
    name: str
    prefix: str
    user_id: str
    scope: str
    project: str
    created_at: Optional[datetime]
    last_used_at: Optional[datetime]
    expires_at: Optional[datetime]
    revoked_at: Optional[datetime]

    @classmethod
    def _from_proto(cls, k: api_key_pb2.ApiKey) -> ApiKey:
        return cls(
            id=k.id,
            name=k.name,
            prefix=k.prefix,
            user_id=k.user_id,
            scope=scope_name(k.scope),
            project=k.project,
            created_at=to_datetime(k.created_at),
            last_used_at=to_datetime(k.last_used_at),
            expires_at=to_datetime(k.expires_at),
            revoked_at=to_datetime(k.revoked_at),
        )


@dataclass(frozen=True)
class NewApiKey:
    """A key just created: ``secret`` is shown here once (the server keeps only its hash). Send it as the API key."""

    key: ApiKey
    secret: str = field(repr=False)


@dataclass(frozen=True)
class AuditEvent:
    """Who (``user_id``, ``key_id``) did what (``method`` on ``resource``), when, from where (``source``), and the ``outcome``."""

    id: str
    time: Optional[datetime]
    user_id: str
    key_id: str
    method: str
    resource: str
    source: str
    outcome: str
    request_id: str

    @classmethod
    def _from_proto(cls, e: audit_pb2.AuditEvent) -> AuditEvent:
        return cls(e.id, to_datetime(e.time), e.user_id, e.key_id, e.method, e.resource, e.source, e.outcome, e.request_id)


@dataclass(frozen=True)
class Organization:
    """A tenant of the instance."""

    id: str
    name: str
    created_at: Optional[datetime]

    @classmethod
    def _from_proto(cls, o: organization_pb2.Organization) -> Organization:
        return cls(o.id, o.name, to_datetime(o.created_at))


@dataclass(frozen=True)
class NewOrganization:
    """An organisation just created, with its first owner and that owner's key (``owner_key_secret`` shown once)."""

    organization: Organization
    owner: User
    owner_key: ApiKey
    owner_key_secret: str = field(repr=False)


@dataclass(frozen=True)
class WhoAmI:
    """The caller, as ``client.whoami()`` returns it.

    Attributes:
        organization: None for the instance administrator key (``TRAINTRACK_ADMIN_KEY``).
        user, key: The principal and the key this client authenticates with (None for that administrator key).
        instance_admin: May create and list organisations.
        organization_role: The effective role on the organisation after the key's scope; None: no role.
        project_roles: Projects where the effective role is higher than ``organization_role``.
    """

    organization: Optional[Organization]
    user: Optional[User]
    key: Optional[ApiKey]
    instance_admin: bool
    organization_role: Optional[str]
    project_roles: Dict[str, str]

    @classmethod
    def _from_proto(cls, r: access_pb2.WhoAmIResponse) -> WhoAmI:
        return cls(
            organization=Organization._from_proto(r.organization) if r.HasField("organization") else None,
            user=User._from_proto(r.user) if r.HasField("user") else None,
            key=ApiKey._from_proto(r.key) if r.HasField("key") else None,
            instance_admin=r.instance_admin,
            organization_role=role_name(r.organization_role),
            project_roles={p.project: role_name(p.role) or "" for p in r.project_roles},
        )
