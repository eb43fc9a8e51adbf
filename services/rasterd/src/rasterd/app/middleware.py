"""ASGI middleware: the request body limit (413 in the service's error shape)."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rasterd.app.errors import PayloadTooLarge, error_response


class BodyLimitMiddleware:
    """Refuses bodies over ``max_body_bytes``: at once when Content-Length says so, otherwise as
    soon as the streamed body passes the limit (nothing larger is ever buffered)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
            too_large = PayloadTooLarge(self.max_body_bytes)
            await error_response(413, "payload_too_large", str(too_large.detail), headers={"Connection": "close"})(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body_bytes:
                    raise PayloadTooLarge(self.max_body_bytes)
            return message

        await self.app(scope, limited_receive, send)
