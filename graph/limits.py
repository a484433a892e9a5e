"""Request header limits (issue 14): headers over 16 KB in all, or more than 100 of them, are
answered 431 before any route runs, over HTTP and WebSocket handshakes alike."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

MAX_HEADER_BYTES = 16 * 1024
MAX_HEADERS = 100
TOO_LARGE = (
    b'{"errors":[{"message":"request headers are too large: at most 16 KB and 100 headers",'
    b'"extensions":{"code":"BAD_REQUEST"}}]}'
)


def too_large(scope: Scope) -> bool:
    headers = scope.get("headers") or []
    size = sum(len(name) + len(value) + 4 for name, value in headers)  # "name: value\r\n"
    return len(headers) > MAX_HEADERS or size > MAX_HEADER_BYTES


class HeaderLimits:
    """ASGI middleware: refuses oversized headers with 431; a WebSocket handshake is closed
    before acceptance (which the server answers 403: a handshake has no 431)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket") or not too_large(scope):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 431,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(TOO_LARGE)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": TOO_LARGE})
