"""Reject oversized request bodies with 413 before a handler sees them.

FastAPI's own `max_body_size` answers an oversized Content-Length with a plain-text body that
bypasses the app's exception handlers; this middleware keeps the API's one JSON error shape.
"""

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_backend.core.errors import error_body


class BodySizeLimit:
    """Checks Content-Length up front, and counts bytes for chunked bodies that have none."""

    def __init__(self, app: ASGIApp, *, default: int, large: int,
                 large_prefixes: tuple[str, ...]):
        self.app, self.default, self.large = app, default, large
        self.large_prefixes = large_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.large if scope["path"].startswith(self.large_prefixes) else self.default
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await _reject(limit, send)

        seen, rejected = 0, False

        async def counting_receive() -> Message:
            nonlocal seen, rejected
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit and not rejected:
                # Answer now and tell the app the client went away, so it stops reading.
                rejected = True
                await _reject(limit, send)
                return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            if not rejected:
                await send(message)

        await self.app(scope, counting_receive, guarded_send)


async def _reject(limit: int, send: Send) -> None:
    response = JSONResponse(
        error_body("payload_too_large", f"The request body exceeds {limit} bytes.",
                   {"limit_bytes": limit}), 413)
    await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
