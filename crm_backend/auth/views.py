from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from crm_backend.auth import service
from crm_backend.auth.deps import CurrentUser, SessionDep, require
from crm_backend.auth.models import ApiKey, Role, User
from crm_backend.auth.permissions import ROLE_PERMISSIONS, Permission
from crm_backend.auth.schemas import (
    ApiKeyCreate,
    ApiKeyCreated,
    ApiKeyOut,
    Me,
    Token,
    UserCreate,
    UserOut,
    UserUpdate,
)
from crm_backend.core.errors import Unauthorized
from crm_backend.core.pagination import Page, Pages, paginate
from crm_backend.core.schemas import PathId
from crm_backend.core.security import create_access_token

router = APIRouter(prefix="/auth", tags=["auth"])
users_router = APIRouter(prefix="/users", tags=["users"])
keys_router = APIRouter(prefix="/api-keys", tags=["api keys"])
ADMIN = require(Permission.users_admin)
UserPages = Pages({"email": User.email, "created_at": User.created_at, "role": User.role},
                  ["email"])
KeyPages = Pages({"name": ApiKey.name, "created_at": ApiKey.created_at}, ["name"])


@router.post("/token", response_model=Token, summary="Sign in (OAuth2 password flow)")
def login(form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep):
    user = service.authenticate(session=session, email=form.username, password=form.password)
    if user is None:
        raise Unauthorized("Wrong email or password.")
    session.commit()
    token, ttl = create_access_token(user.id, user.role)
    return Token(access_token=token, expires_in=ttl)


@router.get("/me", response_model=Me)
def me(user: CurrentUser):
    perms = sorted(ROLE_PERMISSIONS[Role(user.role)])
    return Me(**UserOut.model_validate(user).model_dump(), permissions=perms)


@users_router.get("", response_model=Page[UserOut], dependencies=[ADMIN])
def list_users(session: SessionDep, params: UserPages, role: Role | None = None,
               is_active: bool | None = None):
    return paginate(session, select(User), params, tiebreaker=User.id,
                    filters={User.role: role, User.is_active: is_active})


@users_router.post("", response_model=UserOut, status_code=201, dependencies=[ADMIN])
def create_user(body: UserCreate, session: SessionDep):
    user = service.create_user(session=session, **body.model_dump())
    session.commit()
    return user


@users_router.get("/{user_id}", response_model=UserOut, dependencies=[ADMIN])
def get_user(user_id: PathId, session: SessionDep):
    return service.get_user(session=session, user_id=user_id)


@users_router.patch("/{user_id}", response_model=UserOut, dependencies=[ADMIN])
def update_user(user_id: PathId, body: UserUpdate, session: SessionDep):
    user = service.get_user(session=session, user_id=user_id)
    service.update_user(session=session, user=user, changes=body.model_dump(exclude_unset=True))
    session.commit()
    return user


@keys_router.get("", response_model=Page[ApiKeyOut], dependencies=[ADMIN])
def list_keys(session: SessionDep, params: KeyPages):
    return paginate(session, select(ApiKey), params, tiebreaker=ApiKey.id)


@keys_router.post("", response_model=ApiKeyCreated, status_code=201)
def create_key(body: ApiKeyCreate, session: SessionDep, user: CurrentUser,
               _=ADMIN):
    row, key = service.create_api_key(session=session, name=body.name, scopes=body.scopes,
                                      created_by_id=user.id)
    session.commit()
    return ApiKeyCreated(**ApiKeyOut.model_validate(row).model_dump(), key=key)


@keys_router.delete("/{key_id}", status_code=204, dependencies=[ADMIN])
def revoke_key(key_id: PathId, session: SessionDep):
    service.revoke_api_key(session=session, key_id=key_id)
    session.commit()
    return Response(status_code=status.HTTP_204_NO_CONTENT)
