"""uvicorn protocol classes of our own, for slow clients and a shutdown that loses nothing:
`--http graph.protocols:HttpProtocol --ws graph.protocols:WebSocketProtocol`."""

from __future__ import annotations

import asyncio

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

GOING_AWAY = 1001  # RFC 6455: the server is going down
# How long an idle keep-alive connection stays open once shutdown begins: a request the
# client wrote before the signal may still wait, unread, behind a busy event loop.
DRAIN_SECONDS = 1.0
# A request's headers arrive whole within this, counted from the connection or from the
# request's first byte: a client dribbling them (slowloris) cannot hold a connection.
HEADER_SECONDS = 10.0
TOO_SLOW_BODY = b"the request headers took too long to send"
TOO_SLOW = (
    b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-type: text/plain\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(TOO_SLOW_BODY), TOO_SLOW_BODY)
)


class HttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a deadline for request headers (HEADER_SECONDS,
    then 408 and close) and draining keep-alive connections on shutdown: uvicorn closes an
    idle connection at once, dropping a request already on its way; here it stays open for
    DRAIN_SECONDS, and a request that comes is answered with `Connection: close`."""

    draining = False
    header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._expect_headers()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self.header_timer is None:
            self._expect_headers()

    def _expect_headers(self) -> None:
        self.header_timer = self.loop.call_later(HEADER_SECONDS, self._headers_too_slow)

    def _headers_too_slow(self) -> None:
        self.header_timer = None
        if not self.transport.is_closing():
            self.transport.write(TOO_SLOW)
            self.transport.close()

    def _headers_arrived(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def connection_lost(self, exc: Exception | None) -> None:
        self._headers_arrived()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        self.draining = True
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False
            return
        # uvicorn's keep-alive timer, re-armed: a request that begins cancels it.
        self._unset_keepalive_if_required()
        self.timeout_keep_alive_task = self.loop.call_later(
            DRAIN_SECONDS, self.timeout_keep_alive_handler
        )

    def on_headers_complete(self) -> None:
        self._headers_arrived()
        super().on_headers_complete()
        if self.draining and self.cycle is not None:
            self.cycle.keep_alive = False


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, closing with 1001 when the server shuts down.

    uvicorn sends 1012 (service restart); a subscriber told 1001 knows the replica is going
    away and resumes elsewhere with its last cursor."""

    def shutdown(self) -> None:
        if not self.handshake_complete or self.close_sent:
            super().shutdown()
            return
        self.stop_keepalive()
        self.queue.put_nowait({"type": "websocket.disconnect", "code": GOING_AWAY})
        self.conn.send_close(GOING_AWAY, "server shutting down")
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.transport.close()
