"""Passwords, access tokens, API keys and turning a bearer credential into an `Actor`.

Access tokens are HS256 JWTs naming the user, the tenant they act in and the user's token
generation (bumped on password change, which revokes every earlier token). API keys are
``scrm_<prefix>_<secret>``; only the SHA-256 of the whole key is stored, and the same
``Authorization: Bearer`` header carries either.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from scrm.core.actors import Actor, ActorKind, DataScope
from scrm.core.clock import utcnow
from scrm.core.errors import TooManyRequests, Unauthenticated
from scrm.identity.models import ApiKey, Department, LoginAttempt, Membership, Role, Tenant, User

log = logging.getLogger(__name__)

# OWASP's minimum argon2id profile (19 MiB, t=2, p=1): sound, and fast enough for a login path.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the email is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

API_KEY_PREFIX = "scrm_"
TOKEN_ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def issue_access_token(*, user: User, tenant_id: int, secret_key: str, ttl_seconds: int) -> str:
    now = utcnow()
    claims = {
        "sub": str(user.id),
        "tid": tenant_id,
        "gen": user.token_generation,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(seconds=ttl_seconds)).timestamp()),
    }
    return jwt.encode(claims, secret_key, algorithm=TOKEN_ALGORITHM)


def check_login_rate(
    session: Session, *, email: str, ip: str, max_failures: int, window_seconds: int
) -> None:
    """Raise TooManyRequests when the account or the IP has too many recent failures."""
    since = utcnow() - timedelta(seconds=window_seconds)
    for column, value in ((LoginAttempt.email, email), (LoginAttempt.ip, ip)):
        count = session.scalar(select(func.count()).where(column == value, LoginAttempt.created_at >= since))
        if (count or 0) >= max_failures:
            log.warning("login rate limit hit for %s", "account" if column is LoginAttempt.email else "ip")
            raise TooManyRequests(
                "too many failed logins; try again later", retry_after_seconds=window_seconds
            )


def authenticate(
    session: Session, *, email: str, password: str, ip: str, max_failures: int, window_seconds: int
) -> User:
    """The active user with these credentials, or Unauthenticated.

    On Unauthenticated the caller records the failure with `record_login_failure` in a transaction
    of its own, so the attempt counts towards the rate limit although the request fails.
    """
    email = email.strip().lower()
    check_login_rate(session, email=email, ip=ip, max_failures=max_failures, window_seconds=window_seconds)
    user = session.scalars(select(User).where(User.email == email)).one_or_none()
    if (
        not verify_password(user.password_hash if user else None, password)
        or user is None
        or not user.is_active
    ):
        log.info("failed login from %s", ip)
        raise Unauthenticated("email or password is incorrect")
    user.last_login_at = utcnow()
    return user


def load_login_user(session: Session, user_id: int) -> User | None:
    """The active user with this id (for logins vouched for by an identity provider)."""
    user = session.get(User, user_id)
    return user if user is not None and user.is_active else None


def record_login_failure(session: Session, *, email: str, ip: str) -> None:
    session.add(LoginAttempt(email=email.strip().lower(), ip=ip))


def active_memberships(session: Session, user_id: int) -> list[tuple[Membership, Tenant, Role]]:
    rows = session.execute(
        select(Membership, Tenant, Role)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .join(Role, Role.id == Membership.role_id)
        .where(Membership.user_id == user_id, Membership.is_active.is_(True), Tenant.is_active.is_(True))
        .order_by(Membership.id)
    ).all()
    return [(row[0], row[1], row[2]) for row in rows]


def department_and_descendants(session: Session, tenant_id: int, department_id: int | None) -> frozenset[int]:
    if department_id is None:
        return frozenset()
    rows = session.execute(
        select(Department.id, Department.parent_id).where(Department.tenant_id == tenant_id)
    ).all()
    children: dict[int | None, list[int]] = {}
    for child_id, parent_id in rows:
        children.setdefault(parent_id, []).append(child_id)
    found: set[int] = set()
    stack = [department_id]
    while stack:
        current = stack.pop()
        if current in found:
            continue
        found.add(current)
        stack.extend(children.get(current, []))
    return frozenset(found)


def user_actor(
    session: Session, *, user: User, tenant_id: int, ip: str | None = None, user_agent: str | None = None
) -> Actor:
    """The actor for `user` in `tenant_id`; Unauthenticated if they hold no active seat there."""
    membership_row = session.execute(
        select(Membership, Role)
        .join(Role, Role.id == Membership.role_id)
        .join(Tenant, Tenant.id == Membership.tenant_id)
        .where(
            Membership.user_id == user.id,
            Membership.tenant_id == tenant_id,
            Membership.is_active.is_(True),
            Tenant.is_active.is_(True),
        )
    ).one_or_none()
    if membership_row is None:
        raise Unauthenticated("no active seat in this workspace")
    membership, role = membership_row
    return Actor(
        kind=ActorKind.USER,
        tenant_id=tenant_id,
        user_id=user.id,
        permissions=frozenset(role.permissions),
        data_scope=DataScope(role.data_scope),
        department_ids=department_and_descendants(session, tenant_id, membership.department_id),
        ip=ip,
        user_agent=user_agent,
        name=user.email,
    )


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_api_key() -> tuple[str, str]:
    """A fresh key and its public prefix. The key is shown once; store `hash_api_key(key)`."""
    prefix = secrets.token_hex(4)
    return f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def _api_key_actor(session: Session, key: str, ip: str | None, user_agent: str | None) -> Actor:
    try:
        prefix = key.removeprefix(API_KEY_PREFIX).split("_", 1)[0]
    except IndexError:
        prefix = ""
    row = session.execute(
        select(ApiKey, Role).join(Role, Role.id == ApiKey.role_id).where(ApiKey.prefix == prefix)
    ).one_or_none()
    if row is None or not hmac.compare_digest(row[0].secret_hash, hash_api_key(key)):
        raise Unauthenticated("API key is not valid")
    api_key, role = row
    if api_key.revoked_at is not None:
        raise Unauthenticated("API key has been revoked")
    return Actor(
        kind=ActorKind.API_KEY,
        tenant_id=api_key.tenant_id,
        api_key_id=api_key.id,
        permissions=frozenset(role.permissions),
        data_scope=DataScope(role.data_scope),
        ip=ip,
        user_agent=user_agent,
        name=f"API key {api_key.name}",
    )


def touch_api_key(session: Session, api_key_id: int, *, every_seconds: int = 60) -> None:
    """Record that a key was used, at most once a minute (it is shown in the console)."""
    now = utcnow()
    session.execute(
        update(ApiKey)
        .where(
            ApiKey.id == api_key_id,
            or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - timedelta(seconds=every_seconds)),
        )
        .values(last_used_at=now)
    )


def actor_from_bearer(
    session: Session, *, token: str, secret_key: str, ip: str | None = None, user_agent: str | None = None
) -> Actor:
    """Resolve a bearer credential (access token or API key); Unauthenticated if it is not valid."""
    if token.startswith(API_KEY_PREFIX):
        return _api_key_actor(session, token, ip, user_agent)
    try:
        claims = jwt.decode(
            token, secret_key, algorithms=[TOKEN_ALGORITHM], options={"require": ["exp", "sub", "tid"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthenticated("access token has expired; log in again") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated("access token is not valid") from exc
    user = session.get(User, int(claims["sub"]))
    if user is None or not user.is_active or user.token_generation != claims.get("gen"):
        raise Unauthenticated("access token is no longer valid; log in again")
    return user_actor(session, user=user, tenant_id=int(claims["tid"]), ip=ip, user_agent=user_agent)
