"""Webhook callback URLs: what Harborgraph refuses to call, in production and development."""

from __future__ import annotations

import re

import pytest

from graph.callbacks import CallbackRefused, check_destination, checked_url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://partner.example/cb", "must use https"),
        ("ftp://partner.example/cb", "must use https"),
        ("https://", "names no host"),
        ("https://user:pass@partner.example/cb", "must not carry credentials"),
        ("https://partner.example:0/cb", "names port 0"),
        ("https://partner.example:99999/cb", "is not a URL"),
        ("https://partner.example/" + "x" * 2048, "must be a URL of at most 2048 characters"),
        ("", "must be a URL of at most 2048 characters"),
    ],
)
def test_production_takes_only_well_formed_https_urls(url: str, why: str) -> None:
    with pytest.raises(CallbackRefused, match=f"^{re.escape(why)}"):
        checked_url(url, development=False)


def test_development_also_takes_http() -> None:
    assert checked_url("http://127.0.0.1:9/cb", development=True) == "http://127.0.0.1:9/cb"


@pytest.mark.parametrize(
    ("url", "address"),
    [
        ("https://127.0.0.1/cb", "127.0.0.1"),
        ("https://localhost/cb", None),  # loopback, whichever family resolves first
        ("https://[::1]/cb", "::1"),
        ("https://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("https://[fd00:ec2::254]/", "fd00:ec2::254"),
        ("https://100.100.100.200/", "100.100.100.200"),
        ("https://0.0.0.0/", "0.0.0.0"),  # noqa: S104 (a refused destination, not a bind)
        ("https://224.0.0.1/", "224.0.0.1"),
        ("https://[::ffff:127.0.0.1]/", "::ffff:7f00:1"),  # IPv4-mapped loopback
    ],
)
async def test_production_never_calls_this_side_of_the_network(
    url: str, address: str | None
) -> None:
    with pytest.raises(CallbackRefused, match=r"which is not reachable$") as refused:
        await check_destination(url, development=False)
    if address is not None:
        assert f"resolves to {address}," in str(refused.value)


async def test_a_public_address_passes_and_development_checks_nothing() -> None:
    await check_destination("https://93.184.216.34/cb", development=False)
    await check_destination("http://127.0.0.1:9/cb", development=True)


async def test_a_host_that_does_not_resolve_is_refused() -> None:
    with pytest.raises(CallbackRefused, match=r"does not resolve$"):
        await check_destination("https://no-such-host.invalid/cb", development=False)
