"""Passwords, access tokens and API keys."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

import bcrypt
import jwt

from crm_backend.core.config import get_settings

JWT_ALGORITHM = "HS256"
API_KEY_PREFIX = "crm_"


def hash_password(password: str) -> str:
    rounds = get_settings().password_hash_rounds
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode()


def verify_password(password: str, password_hash: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:
        return False


def create_access_token(user_id: int, role: str) -> tuple[str, int]:
    settings = get_settings()
    ttl = settings.access_token_minutes * 60
    now = datetime.now(UTC)
    claims = {"sub": str(user_id), "role": role, "iat": now, "exp": now + timedelta(seconds=ttl)}
    return jwt.encode(claims, settings.secret_key, algorithm=JWT_ALGORITHM), ttl


def decode_access_token(token: str) -> dict:
    """Raises jwt.PyJWTError when the token is forged, malformed or expired."""
    return jwt.decode(token, get_settings().secret_key, algorithms=[JWT_ALGORITHM],
                      options={"require": ["sub", "exp"]})


def new_api_key() -> tuple[str, str, str]:
    """Returns (full key, lookup prefix, sha256). The full key is shown to the user once."""
    prefix = secrets.token_hex(4)
    key = f"{API_KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    return key, prefix, hash_api_key(key)


def hash_api_key(key: str) -> str:
    # Keys are 256-bit random, so a fast hash is enough (unlike passwords).
    return hashlib.sha256(key.encode()).hexdigest()


def split_api_key(key: str) -> str | None:
    """The lookup prefix of a well-formed key, else None."""
    if not key.startswith(API_KEY_PREFIX):
        return None
    prefix, _, rest = key[len(API_KEY_PREFIX):].partition("_")
    return prefix if len(prefix) == 8 and rest else None


# Tokens the CRM signs for people outside the staff: a shop page vouching for its logged-in
# customer, or a link to one invoice. Each kind has its own audience, so no token is accepted
# where another kind is expected (staff tokens carry no audience and are refused here too).
CUSTOMER_AUDIENCE = "crm:customer"
INVOICE_AUDIENCE = "crm:invoice"


def create_signed_token(audience: str, subject: int, minutes: int) -> tuple[str, datetime]:
    expires = datetime.now(UTC) + timedelta(minutes=minutes)
    claims = {"sub": str(subject), "aud": audience, "exp": expires,
              "jti": secrets.token_hex(8)}
    return jwt.encode(claims, get_settings().secret_key, algorithm=JWT_ALGORITHM), expires


def read_signed_token(audience: str, token: str) -> int | None:
    """The subject id of a valid token of this audience; None when forged, expired or foreign."""
    try:
        claims = jwt.decode(token, get_settings().secret_key, algorithms=[JWT_ALGORITHM],
                            audience=audience, options={"require": ["sub", "exp", "aud"]})
        return int(claims["sub"])
    except (jwt.PyJWTError, ValueError):
        return None
