"""Optimistic concurrency over HTTP: records carry a `version`, exposed as an ETag.

A client sends the version it read, as `If-Match: "3"`; if the record has moved on, the write
is refused with 409 instead of silently overwriting someone else's change. The database's
version check (see core.db.Versioned) also catches two writes racing inside the same instant.
"""

from typing import Annotated

from fastapi import Header, Response

from crm_backend.core.errors import StaleWrite, Unprocessable

IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description='The ETag (version) you last read, e.g. "3".'),
]


def etag(version: int) -> str:
    return f'"{version}"'


def set_etag(response: Response, obj) -> None:
    response.headers["ETag"] = etag(obj.version)


def check_if_match(obj, if_match: str | None) -> None:
    if if_match is None or if_match.strip() == "*":
        return
    wanted = if_match.strip().removeprefix("W/").strip('"')
    if not wanted.isdigit():
        raise Unprocessable("If-Match must be an ETag such as \"3\".", if_match=if_match)
    if int(wanted) != obj.version:
        raise StaleWrite(
            "The record was changed since you read it; reload it and apply your change again.",
            current_version=obj.version, your_version=int(wanted))
