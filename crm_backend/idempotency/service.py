"""Idempotent creation: a POST retried with the same Idempotency-Key gets the first response.

The stored record commits in the same transaction as the created row, so a crash can never
leave one without the other, and a unique (principal, key) constraint settles concurrent retries.
"""

import hashlib
import json
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.core.errors import Unprocessable
from crm_backend.idempotency.models import IdempotencyRecord

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200,
           description="Unique per logical request; a retry with the same key returns the "
                       "first response instead of creating a duplicate."),
]


def _hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(jsonable_encoder(payload), sort_keys=True).encode()
                          ).hexdigest()


def _replay(session: Session, principal: str, key: str, request_hash: str):
    rec = session.scalar(select(IdempotencyRecord).where(
        IdempotencyRecord.principal == principal, IdempotencyRecord.key == key))
    if rec is None:
        return None
    if rec.request_hash != request_hash:
        raise Unprocessable("This Idempotency-Key was already used for a different request.",
                            idempotency_key=key)
    return JSONResponse(rec.response_body, rec.status_code,
                        headers={"Idempotent-Replayed": "true"})


def create_idempotently(session: Session, *, principal: str, key: str | None, path: str,
                        payload: Any, create: Callable[[], Any],
                        serialize: Callable[[Any], Any]) -> JSONResponse:
    """Run `create` (which must not commit) and commit it with the idempotency record."""
    request_hash = _hash(payload)
    if key and (replay := _replay(session, principal, key, request_hash)):
        return replay
    body = jsonable_encoder(serialize(create()))
    if key:
        session.add(IdempotencyRecord(principal=principal, key=key, method="POST", path=path,
                                      request_hash=request_hash, status_code=201,
                                      response_body=body))
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        # A concurrent retry with the same key committed first: answer as it did.
        if key and (replay := _replay(session, principal, key, request_hash)):
            return replay
        raise
    return JSONResponse(body, 201)
