"""``client.admin.users``, ``client.admin.service_accounts`` and ``client.admin.groups``."""

from __future__ import annotations

from typing import Iterable, Iterator, List, Optional

from ._admin_models import Group, User
from ._roles import role_to_proto
from ._gen.v1 import user_pb2
from ._pages import paged
from ._transport import Transport
from .errors import InvalidArgument, NotFound


class Users:
    """The people (and machines) of the caller's organisation, as ``client.admin.users``.

    Creating, changing and deactivating need the owner role; any member may read.
    """

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, user_name: str, *, role: Optional[str] = None, email: str = "", display_name: str = "") -> User:
        """Creates an active user, with ``role`` on the organisation when given (``"viewer"`` … ``"owner"``).

        Raises:
            AlreadyExists: the user name is taken (user names are case-insensitive).
            InvalidArgument: a bad user name, email, display name or role.
        """
        request = user_pb2.CreateUserRequest(user_name=user_name, email=email, display_name=display_name, role=role_to_proto(role))
        # Not retried: a retry after a lost response would answer AlreadyExists for the user just created.
        return User._from_proto(self._t.call(self._t.users.CreateUser, request, what="CreateUser", retry=False).user)

    def get(self, user_id: str = "", *, user_name: str = "") -> User:
        """One user, by id (``"u_…"``) or by ``user_name``. NotFound when absent (or of another organisation)."""
        if bool(user_id) == bool(user_name):
            raise InvalidArgument("give exactly one of user_id and user_name")
        request = user_pb2.GetUserRequest(id=user_id, user_name=user_name)
        return User._from_proto(self._t.call(self._t.users.GetUser, request, what="GetUser").user)

    def find(self, ref: str) -> User:
        """A user by id when ``ref`` is one (``"u_…"``), else by user name; NotFound when neither matches."""
        if ref.startswith("u_"):
            try:
                return self.get(ref)
            except NotFound:
                pass  # "u_x" is also a valid user name
        return self.get(user_name=ref)

    def list(self, *, group_id: str = "", include_inactive: bool = False, page_size: int = 100) -> Iterator[User]:
        """Users and service accounts by user name (only ``group_id``'s members when given); paginated lazily."""

        def fetch(token: str) -> user_pb2.ListUsersResponse:
            request = user_pb2.ListUsersRequest(page_size=page_size, page_token=token, group_id=group_id, include_inactive=include_inactive)
            page: user_pb2.ListUsersResponse = self._t.call(self._t.users.ListUsers, request, what="ListUsers")
            return page

        return paged(fetch, lambda page: page.users, User._from_proto)

    def update(self, user_id: str, *, display_name: Optional[str] = None, email: Optional[str] = None, active: Optional[bool] = None) -> User:
        """Changes the fields given (None leaves a field as it is). ``active=False`` is ``deactivate``."""
        request = user_pb2.UpdateUserRequest(id=user_id)
        if display_name is not None:
            request.display_name = display_name
        if email is not None:
            request.email = email
        if active is not None:
            request.active = active
        return User._from_proto(self._t.call(self._t.users.UpdateUser, request, what="UpdateUser").user)

    def deactivate(self, user_id: str) -> User:
        """Deactivates a user: every key of theirs answers Unauthenticated from now on. Idempotent.

        Raises:
            FailedPrecondition: the user is the organisation's last active owner.
        """
        request = user_pb2.DeactivateUserRequest(id=user_id)
        return User._from_proto(self._t.call(self._t.users.DeactivateUser, request, what="DeactivateUser").user)


class ServiceAccounts:
    """Users for machines (a training cluster, CI), as ``client.admin.service_accounts``."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, name: str, *, role: Optional[str] = None, display_name: str = "") -> User:
        """Creates a service account (a user without email or SCIM identity), with ``role`` on the organisation when given.

        Give it a key with ``client.admin.keys.create(name, user_id=account.id)``.
        """
        request = user_pb2.CreateServiceAccountRequest(name=name, display_name=display_name, role=role_to_proto(role))
        response = self._t.call(self._t.users.CreateServiceAccount, request, what="CreateServiceAccount", retry=False)
        return User._from_proto(response.user)

    def list(self, *, include_inactive: bool = False) -> Iterator[User]:
        """The organisation's service accounts, by name; paginated lazily."""
        return (u for u in Users(self._t).list(include_inactive=include_inactive) if u.service_account)


class Groups:
    """Groups of users, as ``client.admin.groups``; a grant naming a group applies to each member."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def create(self, display_name: str, *, member_ids: Iterable[str] = ()) -> Group:
        """Creates a group, optionally with members (user ids). AlreadyExists: the name is taken."""
        request = user_pb2.CreateGroupRequest(display_name=display_name, member_ids=list(member_ids))
        return Group._from_proto(self._t.call(self._t.users.CreateGroup, request, what="CreateGroup", retry=False).group)

    def list(self, *, member_id: str = "", page_size: int = 100) -> Iterator[Group]:
        """Groups by display name (only those holding user ``member_id`` when given); paginated lazily."""

        def fetch(token: str) -> user_pb2.ListGroupsResponse:
            request = user_pb2.ListGroupsRequest(page_size=page_size, page_token=token, member_id=member_id)
            page: user_pb2.ListGroupsResponse = self._t.call(self._t.users.ListGroups, request, what="ListGroups")
            return page

        return paged(fetch, lambda page: page.groups, Group._from_proto)

    def find(self, ref: str) -> Group:
        """A group by id (``"g_…"``) or by display name; NotFound when none matches."""
        for group in self.list():
            if group.id == ref or group.display_name == ref:
                return group
        raise NotFound(f"no group with id or name {ref!r}: list them with client.admin.groups.list()")

    def members(self, group_id: str) -> List[User]:
        """The users in a group, by user name."""
        return list(Users(self._t).list(group_id=group_id))

    def add_members(self, group_id: str, user_ids: Iterable[str]) -> Group:
        """Adds users (at most 1000 ids a call); those in the group already stay."""
        request = user_pb2.AddGroupMembersRequest(group_id=group_id, user_ids=list(user_ids))
        return Group._from_proto(self._t.call(self._t.users.AddGroupMembers, request, what="AddGroupMembers").group)

    def remove_members(self, group_id: str, user_ids: Iterable[str]) -> Group:
        """Removes users (those not in it are ignored). FailedPrecondition: it would leave the organisation without an owner."""
        request = user_pb2.RemoveGroupMembersRequest(group_id=group_id, user_ids=list(user_ids))
        return Group._from_proto(self._t.call(self._t.users.RemoveGroupMembers, request, what="RemoveGroupMembers").group)

    def delete(self, group_id: str) -> None:
        """Deletes a group and the grants naming it. FailedPrecondition: it would leave the organisation without an owner."""
        self._t.call(self._t.users.DeleteGroup, user_pb2.DeleteGroupRequest(group_id=group_id), what="DeleteGroup")
