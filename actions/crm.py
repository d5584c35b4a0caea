"""The CRM's HTTP API as the actions use it: one client with timeouts, retries with backoff,
and idempotency keys, configured from the environment.

CRM_URL      base URL of the CRM (default http://localhost:8000)
CRM_API_KEY  a service key with the assistant's scopes (see README)
"""

import asyncio
import logging
import os
from typing import Any

import httpx

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(5.0, connect=2.0)
ATTEMPTS = 3
BACKOFF_SECONDS = 0.25
RETRY_STATUSES = {502, 503, 504}


class CrmUnavailable(Exception):
    """The CRM could not be reached, or kept failing, after every retry."""


class CrmRejected(Exception):
    """The CRM answered, and said no (4xx); `code` and `details` come from its error body."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details or {}


def base_url() -> str:
    return os.environ.get("CRM_URL", "http://localhost:8000").rstrip("/")


def _headers(idempotency_key: str | None) -> dict:
    headers = {"X-API-Key": os.environ.get("CRM_API_KEY", "")}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key[:200]
    return headers


async def request(method: str, path: str, *, json: Any = None, params: dict | None = None,
                  idempotency_key: str | None = None, retry: bool | None = None) -> Any:
    """Send one API call; returns the decoded JSON body (None for 204).

    Connection failures are always retried (nothing reached the CRM). Timeouts and gateway
    errors are retried only for calls that are safe to repeat: reads, and writes that carry an
    idempotency key or are idempotent by design (`retry=True`).
    """
    safe = retry if retry is not None else (method == "GET" or idempotency_key is not None)
    url = f"{base_url()}/api/v1{path}"
    last: Exception | None = None
    async with httpx.AsyncClient(timeout=TIMEOUT) as client:
        for attempt in range(ATTEMPTS):
            if attempt:
                await asyncio.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
            try:
                resp = await client.request(method, url, json=json, params=params,
                                            headers=_headers(idempotency_key))
            except httpx.ConnectError as exc:
                last = exc
                continue
            except httpx.TransportError as exc:
                last = exc
                if safe:
                    continue
                break
            if resp.status_code in RETRY_STATUSES or resp.status_code >= 500:
                last = RuntimeError(f"CRM answered {resp.status_code}")
                if safe:
                    continue
                break
            if resp.status_code >= 400:
                error = _error_of(resp)
                raise CrmRejected(resp.status_code, error.get("code", "error"),
                                  error.get("message", resp.text[:200]), error.get("details"))
            return resp.json() if resp.content else None
    log.warning("CRM unavailable for %s %s: %s", method, path, last)
    raise CrmUnavailable(str(last))


def _error_of(resp: httpx.Response) -> dict:
    try:
        return resp.json().get("error", {})
    except ValueError:
        return {}


async def get(path: str, **params) -> Any:
    return await request("GET", path, params={k: v for k, v in params.items() if v is not None})


async def first(path: str, **params) -> dict | None:
    """The first item of a list endpoint, or None."""
    items = (await get(path, page_size=1, **params))["items"]
    return items[0] if items else None
