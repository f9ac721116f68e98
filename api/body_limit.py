"""A bound on request bodies (issue 18.4): 413 problem+json before more than `max_bytes` is read.

A declared Content-Length over the bound is refused before any of the body is read; a body without one
(chunked) is counted as it arrives and refused once it passes the bound, so a client cannot make the API hold
more than `max_bytes` of one request in memory. The refusal is raised where the route reads its body, so it
is answered by the app's problem handlers and counted in /metrics under the route, like any other answer.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodySizeLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        too_large = HTTPException(413, f"the request body is larger than {self.max_bytes} bytes")
        received = 0

        async def counted() -> Message:
            nonlocal received
            if declared.isdigit() and int(declared) > self.max_bytes:  # nothing of it is read
                raise too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise too_large  # FastAPI passes an HTTPException from reading the body on as it is
            return message

        await self.app(scope, counted, send)
