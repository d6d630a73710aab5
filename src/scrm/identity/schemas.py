"""API shapes of the identity domain."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from scrm.core.actors import DataScope

# Deliberately permissive: internal domains such as `.local` are normal for staff accounts, and
# deliverability is not ours to judge. Stored lower-cased.
Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
    ),
]


class LoginIn(BaseModel):
    email: str = Field(max_length=254)
    password: str = Field(max_length=256)


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"


class SwitchTenantIn(BaseModel):
    tenant_id: int


class UserBrief(BaseModel):
    id: int
    email: str
    display_name: str


class TenantBrief(BaseModel):
    id: int
    name: str


class TenantChoice(TenantBrief):
    role_name: str


class RoleBrief(BaseModel):
    id: int
    key: str
    name: str


class MeOut(BaseModel):
    user: UserBrief | None
    tenant: TenantBrief
    tenants: list[TenantChoice]
    role: RoleBrief | None
    permissions: list[str]
    data_scope: DataScope


class UserOut(BaseModel):
    id: int
    email: str
    display_name: str
    role_id: int
    role_name: str
    department_id: int | None
    department_name: str | None
    is_active: bool
    last_login_at: datetime | None
    created_at: datetime


class UserCreate(BaseModel):
    email: Email
    display_name: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=8, max_length=256)
    role_id: int
    department_id: int | None = None


class UserUpdate(BaseModel):
    display_name: str | None = Field(default=None, min_length=1, max_length=100)
    role_id: int | None = None
    department_id: int | None = None
    is_active: bool | None = None


class DepartmentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    parent_id: int | None


class DepartmentCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    parent_id: int | None = None


class RoleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    key: str
    name: str
    permissions: list[str]
    data_scope: DataScope
    is_builtin: bool


class RoleCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    permissions: list[str] = Field(default_factory=list, max_length=500)
    data_scope: DataScope = DataScope.OWN


class RoleUpdate(BaseModel):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    permissions: list[str] | None = Field(default=None, max_length=500)
    data_scope: DataScope | None = None


class PermissionOut(BaseModel):
    code: str
    label_zh: str
    label_en: str


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    role_id: int
    role_name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    secret: str = Field(description="The whole key. Shown once; store it now.")


class ApiKeyCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    role_id: int


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: datetime
    actor: str
    actor_name: str | None
    action: str
    target_type: str | None
    target_id: str | None
    ip: str | None
    user_agent: str | None
    detail: dict[str, Any]
