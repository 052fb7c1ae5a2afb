"""Roles and key scopes as the strings people read (``"editor"``, ``"read-only"``), and times, to and from the wire."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Dict, Optional, Union

from google.protobuf.timestamp_pb2 import Timestamp

from ._gen.v1 import api_key_pb2, role_pb2
from .errors import InvalidArgument

#: The roles, from least to most; each includes everything of the ones before it.
ROLES = ("viewer", "editor", "maintainer", "owner")
#: What a key may do at most: everything its principal may, reads only, one project, or SCIM provisioning.
SCOPES = ("all", "read-only", "project", "scim")

_ROLE_VALUES = {
    "viewer": role_pb2.ROLE_VIEWER,
    "editor": role_pb2.ROLE_EDITOR,
    "maintainer": role_pb2.ROLE_MAINTAINER,
    "owner": role_pb2.ROLE_OWNER,
}
_ROLE_NAMES: Dict[int, str] = {int(value): name for name, value in _ROLE_VALUES.items()}
_SCOPE_VALUES = {
    "all": api_key_pb2.API_KEY_SCOPE_ALL,
    "read-only": api_key_pb2.API_KEY_SCOPE_READ_ONLY,
    "project": api_key_pb2.API_KEY_SCOPE_PROJECT,
    "scim": api_key_pb2.API_KEY_SCOPE_SCIM,
}
_SCOPE_NAMES: Dict[int, str] = {int(value): name for name, value in _SCOPE_VALUES.items()}


def role_to_proto(role: Optional[str]) -> "role_pb2.Role":
    """``"editor"`` → ROLE_EDITOR; None or ``""`` → unspecified. InvalidArgument names the roles otherwise."""
    if not role:
        return role_pb2.ROLE_UNSPECIFIED
    value = _ROLE_VALUES.get(role.lower())
    if value is None:
        raise InvalidArgument(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return value


def role_name(role: int) -> Optional[str]:
    """ROLE_EDITOR → ``"editor"``; unspecified (no role) → None."""
    return _ROLE_NAMES.get(role)


def scope_to_proto(scope: Optional[str]) -> "api_key_pb2.ApiKeyScope":
    """``"read-only"`` (or ``"read_only"``) → API_KEY_SCOPE_READ_ONLY; None → ALL."""
    if not scope:
        return api_key_pb2.API_KEY_SCOPE_ALL
    value = _SCOPE_VALUES.get(scope.lower().replace("_", "-"))
    if value is None:
        raise InvalidArgument(f"unknown key scope {scope!r}: use one of {', '.join(SCOPES)}")
    return value


def timestamp(when: Union[datetime, timedelta]) -> Timestamp:
    """A Timestamp for a datetime (naive means local time) or for ``now + timedelta``."""
    moment = datetime.now(timezone.utc) + when if isinstance(when, timedelta) else when
    seconds = moment.timestamp()
    whole = int(seconds // 1)
    return Timestamp(seconds=whole, nanos=int(round((seconds - whole) * 1e9)) % 1_000_000_000)


def scope_name(scope: int) -> str:
    """API_KEY_SCOPE_READ_ONLY → ``"read-only"``; unspecified means all."""
    return _SCOPE_NAMES.get(scope, "all")
