"""Where Harborgraph may send a partner's events (webhook callback URLs, issue 11).

Outside development a callback must be https and must not reach this side of the network:
no loopback, link-local (cloud metadata lives there), unspecified, multicast or reserved
address, nor the metadata addresses clouds put elsewhere. The host is resolved when the
subscription is made and again before each delivery (its DNS may change in between).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2048
# Cloud metadata services outside the link-local range (AWS over IPv6, Alibaba Cloud).
METADATA = (ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200"))

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class CallbackRefused(ValueError):
    """A callback URL Harborgraph will not call; the message says why."""


def checked_url(url: object, development: bool) -> str:
    """The URL when its form is acceptable (scheme, host, no credentials, length)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL_LENGTH:
        raise CallbackRefused(f"must be a URL of at most {MAX_URL_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise CallbackRefused("is not a URL") from None
    allowed = ("https", "http") if development else ("https",)
    if parts.scheme not in allowed:
        raise CallbackRefused(f"must use {' or '.join(allowed)}")
    if not parts.hostname:
        raise CallbackRefused("names no host")
    if parts.username is not None or parts.password is not None:
        raise CallbackRefused("must not carry credentials (sign with the secret instead)")
    if port == 0:
        raise CallbackRefused("names port 0")
    return url


def forbidden(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_loopback
        or address.is_link_local
        or address.is_unspecified
        or address.is_multicast
        or address.is_reserved
        or address in METADATA
    )


async def check_destination(url: str, development: bool) -> None:
    """Refuse a callback whose host resolves to an address outside development may not reach."""
    if development:
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        found = await asyncio.get_running_loop().getaddrinfo(
            host, parts.port or 443, type=socket.SOCK_STREAM
        )
    except (OSError, UnicodeError):
        raise CallbackRefused(f"its host {host[:80]!r} does not resolve") from None
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if forbidden(address):
            raise CallbackRefused(f"its host resolves to {address}, which is not reachable")
