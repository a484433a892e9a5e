"""What a database that goes away raises is DATABASE_UNAVAILABLE (a 503 "send it again"), and
the pool recovers by itself."""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from resolvers.sources import DATABASE_UNAVAILABLE, Pool

# What PostgreSQL sends each session when it shuts down fast (pg_ctl stop -m fast), before it
# closes the socket.
TERMINATING = b"SFATAL\0VFATAL\0C57P01\0Mterminating connection due to administrator command\0\0"
ERROR_RESPONSE = b"E" + struct.pack("!i", len(TERMINATING) + 4) + TERMINATING


class Proxy:
    """A TCP relay to PostgreSQL that can tell its clients the server is shutting down,
    without closing their sockets yet: what a pooled connection sees in the moment between a
    fast shutdown's message and the end of its socket."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.clients: list[asyncio.StreamWriter] = []

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        self.clients.append(writer)
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def announce_shutdown(self) -> None:
        for writer in self.clients:
            writer.write(ERROR_RESPONSE)


@contextlib.asynccontextmanager
async def relayed(url: str) -> AsyncIterator[tuple[Proxy, str]]:
    """A proxy to `url`'s server, and the URL that reaches it through the proxy."""
    parts = urlsplit(url)
    proxy = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    server = await asyncio.start_server(proxy._relay, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    credentials = parts.netloc.rpartition("@")[0]
    through = urlunsplit(parts._replace(netloc=f"{credentials}@127.0.0.1:{port}"))
    try:
        yield proxy, through
    finally:
        server.close()
        for writer in proxy.clients:
            writer.close()


async def test_a_pooled_connection_told_the_server_is_stopping_is_unavailable_not_internal(
    pg_admin_url: str,
) -> None:
    """asyncpg#1069: a connection lent between the server's "terminating connection" and the
    end of its socket raises InternalClientError ("cannot switch to state 12; another
    operation (2) is in progress"). Under a restart with 8 clients that was an
    INTERNAL_SERVER_ERROR; it is a database that is away for a moment."""
    async with relayed(pg_admin_url) as (proxy, url):
        pool: Pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
        try:
            assert await pool.fetchval("SELECT 1") == 1
            proxy.announce_shutdown()
            await asyncio.sleep(0.1)  # read by the idle connection, its socket still open
            with pytest.raises(DATABASE_UNAVAILABLE) as raised:
                await pool.fetchval("SELECT 2")
            assert isinstance(raised.value, asyncpg.exceptions.InternalClientError)
            assert await pool.fetchval("SELECT 3") == 3  # a fresh connection
        finally:
            await pool.close()
