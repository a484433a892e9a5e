"""Fuzzing the DCSA REST endpoints (issue 14) against DCSA Track & Trace 2.2
(`../shared/reference/dcsa/TNT_v2.2.0.yaml`, made self-contained by tests/fuzz/dcsa_spec.py), as
a carrier with a carrier's grants, against the production-mode app.

Fuzzed, the spec's operations the server routes (graph/dcsa.py, graph/webhooks.py):
`GET /v2/events`, `GET` and `POST /v2/event-subscriptions`, `GET`, `PUT` and
`DELETE /v2/event-subscriptions/{subscriptionID}`, `PUT .../{subscriptionID}/secret`; and
Harborgraph's own `POST /v2/events` (its body the spec's events). Not fuzzed: the deprecated
`GET /v2/events/{eventID}`, which the server does not serve.

Each answer must be no 5xx, conform to the spec where the server claims it (status codes,
content types, headers and bodies as documented; errors in the DCSA error shape the README
documents), refuse what the spec refuses (negative cases are 4xx), and show no stack trace or
other internals. Not checked: that the server takes everything the spec allows (it refuses
on purpose what it does not hold, `scheduleID` say, and checks identifiers more strictly).

Subscriptions run on their own app and database: the callback hosts the fuzzer writes are
resolved by a stand-in resolver (`fake_dns`), and since no event is ever published there, no
delivery is ever attempted to what it names.
"""

from __future__ import annotations

import hashlib
import ipaddress
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
import schemathesis
from schemathesis import Case
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from graph.settings import Settings
from resolvers import webhooks as store
from resolvers.sources import Pool
from resolvers.webhooks import NewSubscription
from tests.conftest import _drop
from tests.fuzz.checks import no_internals_leaked
from tests.fuzz.conftest import Target, database_copy, production_app
from tests.fuzz.dcsa_spec import available, tnt_spec
from tests.fuzz.values import KNOWN_SUBSCRIPTIONS, REST_BINDINGS, dictionaries_config, known_values

if not available():
    pytest.skip("no shared/reference/dcsa beside this checkout", allow_module_level=True)

SEED = 14
EXAMPLES = 30  # per operation
DICTIONARY_PROBABILITY = 0.5
CONFIG = schemathesis.Config.from_dict(
    {
        **dictionaries_config(known_values(), REST_BINDINGS, DICTIONARY_PROBABILITY),
        "seed": SEED,
        "base-url": "http://testserver/dcsa/tnt",
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "generation": {
            "mode": "all",
            "max-examples": EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": False},
            "stateful": {"enabled": False},
        },
    }
)
# What the server routes: every operation of the spec but the deprecated one by id.
routed = schemathesis.openapi.from_dict(tnt_spec(), config=CONFIG).exclude(
    method="GET", path="/v2/events/{eventID}"
)
events = routed.include(path="/v2/events")  # GET, and Harborgraph's POST
subscriptions = routed.include(path_regex=r"^/v2/event-subscriptions")  # all six
CHECKS = [
    not_a_server_error,
    negative_data_rejection,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    no_internals_leaked,
]


@events.parametrize()
def test_events(case: Case[Any], fuzz_target: Target) -> None:
    case.call_and_validate(app=fuzz_target.app, headers=fuzz_target.headers, checks=CHECKS)


# --- Subscriptions -----------------------------------------------------------------------

DOCUMENTATION_NET = ipaddress.ip_network("192.0.2.0/24")  # RFC 5737: never routed


def fake_getaddrinfo(real: Any) -> Any:
    """Names resolve without DNS, deterministically: `*.invalid` (RFC 6761) not at all, any
    other to an address of RFC 5737's documentation range (which the callback rules take, and
    which is routed nowhere). Addresses and `localhost` (the test database's host, it may be)
    resolve as ever."""

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        try:
            ipaddress.ip_address(name.split("%")[0])
        except ValueError:
            if name != "localhost":
                if name.rstrip(".").endswith(".invalid"):
                    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from None
                digest = hashlib.sha256(name.encode("utf-8", "replace")).digest()
                address = str(DOCUMENTATION_NET[1 + digest[0] % 250])
                port_number = port if isinstance(port, int) else 443
                return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port_number))]
        return real(host, port, *args, **kwargs)

    return getaddrinfo


@pytest.fixture(scope="module")
def fake_dns() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", fake_getaddrinfo(socket.getaddrinfo))
        yield


@pytest.fixture(scope="module")
async def subscriptions_database(pg_admin_url: str, seeded_url: str) -> AsyncIterator[str]:
    url = await database_copy(pg_admin_url, seeded_url)
    yield url
    await _drop(pg_admin_url, urlsplit(url).path.lstrip("/"))


@pytest.fixture(scope="module")
def subscriptions_target(
    test_settings: Settings,
    subscriptions_database: str,
    carrier: tuple[str, str],
    fake_dns: None,
) -> Iterator[Target]:
    with production_app(test_settings, subscriptions_database) as app:
        yield Target(app, {"Authorization": f"Bearer {carrier[1]}"})


@pytest.fixture
async def known_subscriptions(subscriptions_database: str, carrier: tuple[str, str]) -> None:
    """The carrier's subscriptions with the ids the fuzzer knows (KNOWN_SUBSCRIPTIONS), made
    again before each operation is fuzzed (a DELETE takes them away)."""
    pool: Pool = await asyncpg.create_pool(subscriptions_database, min_size=1, max_size=1)
    try:
        for known in map(uuid.UUID, KNOWN_SUBSCRIPTIONS):
            if await store.find(pool, known, carrier[0]) is not None:
                continue
            new = NewSubscription(
                carrier[0],
                "fuzz",
                frozenset({"cargo:read"}),
                "https://hooks.partner.example/cb",
                bytes(range(32)),
                {"eventType": ["EQUIPMENT"]},
            )
            made = await store.create(pool, new)
            assert made is not None
            await pool.execute(
                "UPDATE cargo.event_subscription SET id = $1 WHERE id = $2", known, made.id
            )
    finally:
        await pool.close()


@subscriptions.parametrize()
@pytest.mark.usefixtures("known_subscriptions")
def test_subscriptions(case: Case[Any], subscriptions_target: Target) -> None:
    target = subscriptions_target
    case.call_and_validate(app=target.app, headers=target.headers, checks=CHECKS)
