import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from traintrack._gen.v1 import api_key_pb2 as _api_key_pb2
from traintrack._gen.v1 import organization_pb2 as _organization_pb2
from traintrack._gen.v1 import role_pb2 as _role_pb2
from traintrack._gen.v1 import user_pb2 as _user_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Grant(_message.Message):
    __slots__ = ("id", "role", "user_id", "group_id", "project", "created_at")
    ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    id: str
    role: _role_pb2.Role
    user_id: str
    group_id: str
    project: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., role: _Optional[_Union[_role_pb2.Role, str]] = ..., user_id: _Optional[str] = ..., group_id: _Optional[str] = ..., project: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GrantRoleRequest(_message.Message):
    __slots__ = ("role", "user_id", "group_id", "project")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    role: _role_pb2.Role
    user_id: str
    group_id: str
    project: str
    def __init__(self, role: _Optional[_Union[_role_pb2.Role, str]] = ..., user_id: _Optional[str] = ..., group_id: _Optional[str] = ..., project: _Optional[str] = ...) -> None: ...

class GrantRoleResponse(_message.Message):
    __slots__ = ("grant",)
    GRANT_FIELD_NUMBER: _ClassVar[int]
    grant: Grant
    def __init__(self, grant: _Optional[_Union[Grant, _Mapping]] = ...) -> None: ...

class RevokeRoleRequest(_message.Message):
    __slots__ = ("grant_id", "role", "user_id", "group_id", "project")
    GRANT_ID_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    grant_id: str
    role: _role_pb2.Role
    user_id: str
    group_id: str
    project: str
    def __init__(self, grant_id: _Optional[str] = ..., role: _Optional[_Union[_role_pb2.Role, str]] = ..., user_id: _Optional[str] = ..., group_id: _Optional[str] = ..., project: _Optional[str] = ...) -> None: ...

class RevokeRoleResponse(_message.Message):
    __slots__ = ("revoked",)
    REVOKED_FIELD_NUMBER: _ClassVar[int]
    revoked: bool
    def __init__(self, revoked: bool = ...) -> None: ...

class ListGrantsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "user_id", "group_id", "project")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    USER_ID_FIELD_NUMBER: _ClassVar[int]
    GROUP_ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    user_id: str
    group_id: str
    project: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., user_id: _Optional[str] = ..., group_id: _Optional[str] = ..., project: _Optional[str] = ...) -> None: ...

class ListGrantsResponse(_message.Message):
    __slots__ = ("grants", "next_page_token")
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    grants: _containers.RepeatedCompositeFieldContainer[Grant]
    next_page_token: str
    def __init__(self, grants: _Optional[_Iterable[_Union[Grant, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WhoAmIRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ProjectRole(_message.Message):
    __slots__ = ("project", "role")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    project: str
    role: _role_pb2.Role
    def __init__(self, project: _Optional[str] = ..., role: _Optional[_Union[_role_pb2.Role, str]] = ...) -> None: ...

class WhoAmIResponse(_message.Message):
    __slots__ = ("organization", "user", "key", "instance_admin", "organization_role", "project_roles")
    ORGANIZATION_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_ADMIN_FIELD_NUMBER: _ClassVar[int]
    ORGANIZATION_ROLE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_ROLES_FIELD_NUMBER: _ClassVar[int]
    organization: _organization_pb2.Organization
    user: _user_pb2.User
    key: _api_key_pb2.ApiKey
    instance_admin: bool
    organization_role: _role_pb2.Role
    project_roles: _containers.RepeatedCompositeFieldContainer[ProjectRole]
    def __init__(self, organization: _Optional[_Union[_organization_pb2.Organization, _Mapping]] = ..., user: _Optional[_Union[_user_pb2.User, _Mapping]] = ..., key: _Optional[_Union[_api_key_pb2.ApiKey, _Mapping]] = ..., instance_admin: bool = ..., organization_role: _Optional[_Union[_role_pb2.Role, str]] = ..., project_roles: _Optional[_Iterable[_Union[ProjectRole, _Mapping]]] = ...) -> None: ...

class TestPermissionsRequest(_message.Message):
    __slots__ = ("project", "methods")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    METHODS_FIELD_NUMBER: _ClassVar[int]
    project: str
    methods: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project: _Optional[str] = ..., methods: _Optional[_Iterable[str]] = ...) -> None: ...

class MethodPermission(_message.Message):
    __slots__ = ("method", "allowed")
    METHOD_FIELD_NUMBER: _ClassVar[int]
    ALLOWED_FIELD_NUMBER: _ClassVar[int]
    method: str
    allowed: bool
    def __init__(self, method: _Optional[str] = ..., allowed: bool = ...) -> None: ...

class TestPermissionsResponse(_message.Message):
    __slots__ = ("permissions",)
    PERMISSIONS_FIELD_NUMBER: _ClassVar[int]
    permissions: _containers.RepeatedCompositeFieldContainer[MethodPermission]
    def __init__(self, permissions: _Optional[_Iterable[_Union[MethodPermission, _Mapping]]] = ...) -> None: ...
