"""Reject oversized request bodies with 413 before they reach a handler."""

from starlette.types import ASGIApp, Receive, Scope, Send

from crm_backend.core.errors import error_body
from fastapi.responses import JSONResponse


class BodySizeLimit:
    def __init__(self, app: ASGIApp, *, default: int, large: int, large_prefixes: tuple[str, ...]):
        self.app, self.default, self.large, self.large_prefixes = app, default, large, large_prefixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        limit = self.large if scope["path"].startswith(self.large_prefixes) else self.default
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return await self._reject(limit, scope, receive, send)

        seen = 0

        async def counting_receive():
            nonlocal seen
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > limit:  # chunked bodies have no Content-Length to check up front
                raise _TooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await self._reject(limit, scope, receive, send)

    @staticmethod
    async def _reject(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        response = JSONResponse(
            error_body("payload_too_large", f"The request body exceeds {limit} bytes.",
                       {"limit_bytes": limit}), 413)
        await response(scope, receive, send)


class _TooLarge(Exception):
    pass
