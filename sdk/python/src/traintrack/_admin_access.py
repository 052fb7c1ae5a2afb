"""``client.admin.grants``, ``.keys``, ``.audit`` and ``.organizations``."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Iterator, List, Optional, Union

from ._admin_models import ApiKey, AuditEvent, Grant, NewApiKey, NewOrganization, Organization, User
from ._roles import role_to_proto, scope_to_proto, timestamp
from ._gen.v1 import access_pb2, api_key_pb2, audit_pb2, organization_pb2
from ._pages import paged
from ._transport import Transport
from .errors import InvalidArgument

#: A moment: an absolute datetime (naive means local time), or a timedelta from now.
When = Union[datetime, timedelta]


def _ago(when: When) -> When:
    """A timedelta of the audit filters means that long ago."""
    return -abs(when) if isinstance(when, timedelta) else when


def _principal(user_id: str, group_id: str) -> None:
    if bool(user_id) == bool(group_id):
        raise InvalidArgument("give exactly one of user_id and group_id")


class Grants:
    """Roles of users and groups on the organisation or on one project, as ``client.admin.grants``.

    Project grants add to organisation grants, never remove. Nobody grants more
    than they hold: owners grant any role on the organisation, a maintainer of a
    scope up to maintainer on it.
    """

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def add(self, role: str, *, user_id: str = "", group_id: str = "", project: str = "") -> Grant:
        """Grants ``role`` to a user or a group on ``project`` (the organisation when ``""``); an existing grant is returned as it is."""
        _principal(user_id, group_id)
        request = access_pb2.GrantRoleRequest(role=role_to_proto(role), user_id=user_id, group_id=group_id, project=project)
        return Grant._from_proto(self._t.call(self._t.access.GrantRole, request, what="GrantRole").grant)

    def revoke(self, grant_id: str = "", *, role: Optional[str] = None, user_id: str = "", group_id: str = "", project: str = "") -> bool:
        """Revokes a grant, by id or by what it grants (role, user or group, project).

        Returns False when no such grant existed (e.g. a retry after success).
        Raises FailedPrecondition when it would leave the organisation without an active owner.
        """
        if not grant_id:
            _principal(user_id, group_id)
            if not role:
                raise InvalidArgument("give the grant's id, or its role with user_id or group_id")
        request = access_pb2.RevokeRoleRequest(grant_id=grant_id, role=role_to_proto(role), user_id=user_id, group_id=group_id, project=project)
        return bool(self._t.call(self._t.access.RevokeRole, request, what="RevokeRole").revoked)

    def list(self, *, user_id: str = "", group_id: str = "", project: str = "", page_size: int = 100) -> Iterator[Grant]:
        """Grants naming a user directly, or a group, or on a project; all of the organisation's without filters. Lazy."""

        def fetch(token: str) -> access_pb2.ListGrantsResponse:
            request = access_pb2.ListGrantsRequest(page_size=page_size, page_token=token, user_id=user_id, group_id=group_id, project=project)
            page: access_pb2.ListGrantsResponse = self._t.call(self._t.access.ListGrants, request, what="ListGrants")
            return page

        return paged(fetch, lambda page: page.grants, Grant._from_proto)

    def test(self, methods: List[str], *, project: str = "") -> List[str]:
        """Which of ``methods`` (``"DatasetService/CreateDataset"`` or ``"DatasetService.CreateDataset"``) the caller may call on ``project``."""
        request = access_pb2.TestPermissionsRequest(project=project, methods=methods)
        response = self._t.call(self._t.access.TestPermissions, request, what="TestPermissions")
        return [p.method for p in response.permissions if p.allowed]


class Keys:
    """API keys, as ``client.admin.keys``: anyone manages their own; owners any user's or service account's."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, name: str, *, user_id: str = "", scope: str = "all", project: str = "", expires: Optional[When] = None) -> NewApiKey:
        """Creates a key; its secret is in the result only (the server keeps a hash).

        Example::

            ci = client.admin.service_accounts.create("ci", role="editor")
            new = client.admin.keys.create("ci", user_id=ci.id, expires=timedelta(days=30))
            new.secret  # store it now: it cannot be read again

        Args:
            name: 1 to 128 bytes, to recognise the key in a list.
            user_id: Whose key; ``""``: the caller's own. Another user's: owners only.
            scope: ``"all"``, ``"read-only"``, ``"project"`` (with ``project``) or ``"scim"`` (owners only).
            expires: When it stops working (a datetime, or a timedelta from now); None: never.
        """
        if (scope_to_proto(scope) == api_key_pb2.API_KEY_SCOPE_PROJECT) != bool(project):
            raise InvalidArgument('a key has a project exactly when its scope is "project"')
        request = api_key_pb2.CreateApiKeyRequest(name=name, user_id=user_id, scope=scope_to_proto(scope), project=project)
        if expires is not None:
            request.expires_at.CopyFrom(timestamp(expires))
        # Not retried: a retry after a lost response would leave a second key, whose secret nobody saw.
        response = self._t.call(self._t.api_keys.CreateApiKey, request, what="CreateApiKey", retry=False)
        return NewApiKey(ApiKey._from_proto(response.key), response.secret)

    def list(self, *, user_id: str = "", all_users: bool = False, include_revoked: bool = False, page_size: int = 100) -> Iterator[ApiKey]:
        """Keys newest first, never their secrets: the caller's own, ``user_id``'s, or (owners) every user's. Lazy."""

        def fetch(token: str) -> api_key_pb2.ListApiKeysResponse:
            request = api_key_pb2.ListApiKeysRequest(
                page_size=page_size, page_token=token, user_id=user_id, all_users=all_users, include_revoked=include_revoked
            )
            page: api_key_pb2.ListApiKeysResponse = self._t.call(self._t.api_keys.ListApiKeys, request, what="ListApiKeys")
            return page

        return paged(fetch, lambda page: page.keys, ApiKey._from_proto)

    def revoke(self, key_id: str) -> ApiKey:
        """Revokes a key at once (it answers Unauthenticated from now on). Idempotent."""
        response = self._t.call(self._t.api_keys.RevokeApiKey, api_key_pb2.RevokeApiKeyRequest(id=key_id), what="RevokeApiKey")
        return ApiKey._from_proto(response.key)


class Audit:
    """The audit log (owners only), as ``client.admin.audit``."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def list(
        self,
        *,
        since: Optional[When] = None,
        until: Optional[When] = None,
        user_id: str = "",
        key_id: str = "",
        resource: str = "",
        page_size: int = 100,
    ) -> Iterator[AuditEvent]:
        """Events newest first, filtered by every argument given; paginated lazily.

        Example::

            for event in client.admin.audit.list(since=timedelta(hours=1), resource="user/"):
                print(event.time, event.user_id, event.method, event.resource, event.outcome)

        Args:
            since, until: Events at or after ``since`` and before ``until``: datetimes, or
                timedeltas meaning that long ago (``since=timedelta(hours=1)``: the last hour).
            resource: One resource (``"run/r_…"``), or every one under a prefix ending in ``"/"``.
        """

        def fetch(token: str) -> audit_pb2.ListAuditEventsResponse:
            request = audit_pb2.ListAuditEventsRequest(page_size=page_size, page_token=token, user_id=user_id, key_id=key_id, resource=resource)
            if since is not None:
                request.since.CopyFrom(timestamp(_ago(since)))
            if until is not None:
                request.until.CopyFrom(timestamp(_ago(until)))
            page: audit_pb2.ListAuditEventsResponse = self._t.call(self._t.audit.ListAuditEvents, request, what="ListAuditEvents")
            return page

        return paged(fetch, lambda page: page.events, AuditEvent._from_proto)


class Organizations:
    """The tenants of the instance, as ``client.admin.organizations`` (create and list: instance administrator only)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, name: str, *, owner_user_name: str = "", owner_email: str = "") -> NewOrganization:
        """Creates an organisation with its first owner (default user name ``"admin"``) and that owner's key, shown once."""
        request = organization_pb2.CreateOrganizationRequest(name=name, owner_user_name=owner_user_name, owner_email=owner_email)
        r = self._t.call(self._t.organizations.CreateOrganization, request, what="CreateOrganization", retry=False)
        return NewOrganization(Organization._from_proto(r.organization), User._from_proto(r.owner), ApiKey._from_proto(r.owner_key), r.owner_key_secret)

    def get(self, organization_id: str = "") -> Organization:
        """One organisation; ``""``: the caller's own."""
        request = organization_pb2.GetOrganizationRequest(id=organization_id)
        return Organization._from_proto(self._t.call(self._t.organizations.GetOrganization, request, what="GetOrganization").organization)

    def list(self, *, page_size: int = 100) -> Iterator[Organization]:
        """Every organisation by name; paginated lazily."""

        def fetch(token: str) -> organization_pb2.ListOrganizationsResponse:
            request = organization_pb2.ListOrganizationsRequest(page_size=page_size, page_token=token)
            page: organization_pb2.ListOrganizationsResponse = self._t.call(self._t.organizations.ListOrganizations, request, what="ListOrganizations")
            return page

        return paged(fetch, lambda page: page.organizations, Organization._from_proto)
