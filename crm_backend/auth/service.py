from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_backend.auth.models import ApiKey, Role, User
from crm_backend.auth.permissions import Permission
from crm_backend.core.db import utcnow
from crm_backend.core.errors import Conflict, NotFound
from crm_backend.core.security import hash_password, new_api_key, verify_password


def get_user(*, session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def get_by_email(*, session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def authenticate(*, session: Session, email: str, password: str) -> User | None:
    user = get_by_email(session=session, email=email)
    if user is None or not user.is_active or not verify_password(password, user.password_hash):
        return None
    user.last_login_at = utcnow()
    return user


def create_user(*, session: Session, email: str, full_name: str, role: Role,
                password: str) -> User:
    if get_by_email(session=session, email=email):
        raise Conflict(f"A user with email {email} already exists.", email=email)
    user = User(email=email.strip().lower(), full_name=full_name, role=role,
                password_hash=hash_password(password))
    session.add(user)
    session.flush()
    return user


def update_user(*, session: Session, user: User, changes: dict) -> User:
    if password := changes.pop("password", None):
        user.password_hash = hash_password(password)
    for key, value in changes.items():
        setattr(user, key, value)
    session.flush()
    return user


def create_api_key(*, session: Session, name: str, scopes: list[Permission],
                   created_by_id: int | None, replace: bool = False) -> tuple[ApiKey, str]:
    """A new key. With `replace`, a key of that name gets a new secret and these scopes
    instead (its old secret stops working); without, an existing name is a conflict."""
    key, prefix, digest = new_api_key()
    row = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if row is not None and not replace:
        raise Conflict(f"An API key named {name!r} exists; revoke it, or replace its secret.")
    if row is None:
        row = ApiKey(name=name, created_by_id=created_by_id)
        session.add(row)
    row.prefix, row.key_hash, row.revoked_at = prefix, digest, None
    row.scopes = sorted(str(s) for s in scopes)
    session.flush()
    return row, key


def revoke_api_key(*, session: Session, key_id: int) -> None:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"No API key with id {key_id}.")
    row.revoked_at = row.revoked_at or utcnow()
    session.flush()
