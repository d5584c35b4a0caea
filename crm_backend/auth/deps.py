"""Typed dependencies: the database session, the caller, and per-route permissions."""

from dataclasses import dataclass, field
from typing import Annotated

import jwt
from fastapi import Depends, Security
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.auth.models import ApiKey, Role, User
from crm_backend.auth.permissions import ROLE_PERMISSIONS, Permission
from crm_backend.core.db import get_session
from crm_backend.core.errors import Forbidden, Unauthorized
from crm_backend.core.security import decode_access_token, hash_api_key, split_api_key

SessionDep = Annotated[Session, Depends(get_session)]

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)
api_key_scheme = APIKeyHeader(name="X-API-Key", auto_error=False,
                              description="Service API key (see `crm apikeys create`)")


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" or "api_key"
    id: int
    name: str
    permissions: frozenset[Permission] = field(default_factory=frozenset)
    role: Role | None = None

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}"

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions


def _from_token(session: Session, token: str) -> Principal:
    try:
        claims = decode_access_token(token)
        user_id = int(claims["sub"])
    except (jwt.PyJWTError, ValueError):
        raise Unauthorized(
            "The access token is invalid or has expired; sign in again.") from None
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise Unauthorized("This account is disabled or no longer exists.")
    role = Role(user.role)
    return Principal("user", user.id, user.email, ROLE_PERMISSIONS[role], role)


def _from_api_key(session: Session, key: str) -> Principal:
    prefix = split_api_key(key)
    row = prefix and session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if not row or row.revoked_at is not None or row.key_hash != hash_api_key(key):
        raise Unauthorized("The API key is invalid or has been revoked.")
    # Scopes are stored as text; unknown ones (from an older release) are ignored.
    perms = frozenset(Permission(s) for s in row.scopes if s in Permission._value2member_map_)
    return Principal("api_key", row.id, row.name, perms)


def get_principal(
    session: SessionDep,
    token: Annotated[str | None, Security(oauth2_scheme)],
    api_key: Annotated[str | None, Security(api_key_scheme)],
) -> Principal:
    if api_key:
        principal = _from_api_key(session, api_key)
    elif token:
        principal = _from_token(session, token)
    else:
        raise Unauthorized("Authentication required: send a bearer token or an X-API-Key.")
    # The audit hook reads the actor from the request's session (see audit.service).
    session.info["actor"] = principal.ref
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(permission: Permission):
    """Route dependency: the caller must hold `permission` (role or API key scope)."""

    def check(principal: CurrentPrincipal) -> Principal:
        if not principal.can(permission):
            raise Forbidden(f"This action needs the '{permission}' permission.",
                            permission=str(permission))
        return principal

    # As a Security scope the permission also appears in the route's OpenAPI security entry,
    # which is where the permission matrix in docs/ is read from.
    return Security(check, scopes=[str(permission)])


def current_user(principal: CurrentPrincipal, session: SessionDep) -> User:
    if principal.kind != "user":
        raise Forbidden("This endpoint is for staff accounts, not API keys.")
    return session.get(User, principal.id)


CurrentUser = Annotated[User, Depends(current_user)]
