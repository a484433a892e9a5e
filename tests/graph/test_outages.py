"""Database outages (issue 14): `harborgraph serve` in production mode on PostgreSQL clusters of
this module's own (tests.clusters), which it restarts and stops while partners ask.

The main cluster holds community, vessel, cargo and gate; security lives in a database on a
second cluster (HARBORGRAPH_SECURITY_DATABASE_URL). A restart under load answers 200 or 503
with Retry-After and SERVICE_UNAVAILABLE, never anything else nor a dropped connection, and
the server answers again by itself; a source that is away takes only its own fields with it.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import math
import shutil
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from graph.errors import UNAVAILABLE_MESSAGE
from graph.keys import DevKeys, ensure_dev_keys, load_private_key, mint_token
from graph.runtime import migrate_all
from resolvers.seed import seed
from resolvers.sources import SOURCES, SourcePools
from tests.clusters import Cluster, cluster_folder
from tests.conftest import TEST_ANCHOR, TEST_SCALE, TEST_SEED
from tests.servers import Server, server_env

ISSUER = "https://idp.port.example"
RESTARTS = 3
RECOVERY_SECONDS = 10.0
CARRIER = """
query Carrier { portCalls(first: 5, filter: {carrier: "MSCU"}) { edges { node {
  portVisitReference status vessel { imo name } terminal { smdgCode }
  containers(first: 3) { edges { node { number status } } }
} } } }
"""
SCHEDULE = """
query Schedule { portCalls(first: 10) { edges { node {
  portVisitReference status estimatedArrival vessel { imo name } terminal { smdgCode }
} } } }
"""
ADVISORIES = """
query Advisories { advisories(first: 20, filter: {includeExpired: true}) { edges { node {
  reference title severity tlp
} } } }
"""
BOTH = """
query Both {
  portCalls(first: 10) { edges { node {
    portVisitReference status estimatedArrival vessel { imo name } terminal { smdgCode }
  } } }
  advisories(first: 20, filter: {includeExpired: true}) { edges { node {
    reference title severity tlp
  } } }
}
"""


@dataclass
class Clusters:
    main: Cluster  # community, vessel, cargo, gate
    security: Cluster

    @property
    def dsns(self) -> dict[str, str]:
        return {s: (self.security if s == "security" else self.main).url() for s in SOURCES}


def _built(cluster: Cluster) -> None:
    cluster.initdb()
    cluster.start()


async def _prepare(clusters: Clusters) -> None:
    """Each cluster's database, migrated for its sources and seeded as the suite's is."""
    for cluster in (clusters.main, clusters.security):
        admin = await asyncpg.connect(cluster.url("postgres"))
        try:
            await admin.execute("CREATE DATABASE harborgraph")
        finally:
            await admin.close()
    await migrate_all(clusters.dsns)
    by_dsn = {
        dsn: await asyncpg.create_pool(dsn, min_size=1, max_size=4)
        for dsn in set(clusters.dsns.values())
    }
    try:
        pools = SourcePools({s: by_dsn[dsn] for s, dsn in clusters.dsns.items()})
        anchor = date.fromisoformat(TEST_ANCHOR)
        await seed(pools, scale=TEST_SCALE, seed=TEST_SEED, anchor=anchor)
    finally:
        for pool in by_dsn.values():
            await pool.close()


@pytest.fixture(scope="module")
async def clusters() -> AsyncIterator[Clusters]:
    folder, user = cluster_folder("harborgraph-outage-")
    built = Clusters(Cluster("main", folder, user), Cluster("security", folder, user))
    try:
        await asyncio.gather(
            asyncio.to_thread(_built, built.main), asyncio.to_thread(_built, built.security)
        )
        await _prepare(built)
        yield built
    finally:
        for cluster in (built.main, built.security):
            with contextlib.suppress(AssertionError):  # one never started, or stopped
                cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> DevKeys:
    """An identity provider of its own: the server knows only its public key."""
    return ensure_dev_keys(tmp_path_factory.mktemp("issuer"))


def token(keys: DevKeys, org: str, *scopes: str) -> str:
    return mint_token(
        load_private_key(keys.private_key_path),
        kid=keys.kid,
        issuer=ISSUER,
        audience="harborgraph",
        org=org,
        scopes=scopes,
        ttl_seconds=600,
    )


def production(clusters: Clusters, keys: DevKeys, folder: Path) -> Server:
    env = server_env(
        clusters.main.url(),
        folder / "data",
        HARBORGRAPH_SECURITY_DATABASE_URL=clusters.security.url(),
        HARBORGRAPH_ENV="production",
        HARBORGRAPH_JWT_PUBLIC_KEY_FILE=str(keys.public_key_path),
        HARBORGRAPH_JWT_ISSUER=ISSUER,
        HARBORGRAPH_RATE_LIMIT_PER_MINUTE="1000000",
    )
    return Server(clusters.main.url(), env, folder)


@pytest.fixture(scope="module")
async def server(
    clusters: Clusters, keys: DevKeys, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Server]:
    running = production(clusters, keys, tmp_path_factory.mktemp("serve"))
    try:
        await running.start()
        yield running
    finally:
        await running.stop()


# --- Answers ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    at: float  # time.monotonic() when it came
    query: str
    status: int
    retry_after: str | None
    body: Any


async def ask(client: httpx.AsyncClient, query: str, bearer: str | None = None) -> Answer:
    headers = {"Accept": "application/graphql-response+json"}
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    response = await client.post("/graphql", json={"query": query}, headers=headers)
    return Answer(
        time.monotonic(),
        query,
        response.status_code,
        response.headers.get("retry-after"),
        response.json(),
    )


def assert_unavailable(answer: Answer) -> None:
    """503, Retry-After in whole seconds, and nothing but SERVICE_UNAVAILABLE errors."""
    assert answer.status == 503, answer
    assert answer.retry_after is not None, answer
    assert answer.retry_after.isdigit(), answer
    assert int(answer.retry_after) >= 1
    errors = answer.body["errors"]
    assert errors
    assert all(e["extensions"] == {"code": "SERVICE_UNAVAILABLE"} for e in errors), errors
    assert all(e["message"] == UNAVAILABLE_MESSAGE for e in errors), errors


def nulled(data: Any, paths: list[list[str | int]]) -> Any:
    """`data` with null at each path (a copy)."""
    copied = copy.deepcopy(data)
    for path in paths:
        *parents, last = path
        node = copied
        for key in parents:
            node = node[key]
        node[last] = None
    return copied


def assert_whole_or_partial(answer: Answer, expected: Answer) -> None:
    """The expected answer; or, when the database went away between two of its statements,
    the same data but for null at each field that met it, with SERVICE_UNAVAILABLE there."""
    if "errors" not in answer.body:
        assert answer.body == expected.body
        return
    assert answer.retry_after == "1", answer
    errors = answer.body["errors"]
    assert all(e["extensions"] == {"code": "SERVICE_UNAVAILABLE"} for e in errors), errors
    paths = [e["path"] for e in errors]
    assert answer.body["data"] == nulled(expected.body["data"], paths)


def errors_logged(server: Server) -> list[str]:
    """The server's log lines at level ERROR (an unexpected error's incident among them)."""
    return [line for line in server.log.splitlines() if '"level":"ERROR"' in line]


@dataclass
class Load:
    """Clients asking in loops until `done`: every answer, and every failure to get one."""

    base: str
    answers: list[Answer] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    async def client(self, query: str, bearer: str | None) -> None:
        # One connection per client, kept alive: a dropped one is a transport error here.
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=self.base, timeout=30, limits=limits) as client:
            while not self.done.is_set():
                try:
                    self.answers.append(await ask(client, query, bearer))
                except (httpx.HTTPError, ValueError) as error:  # ValueError: not JSON
                    self.failures.append(repr(error))

    async def answered(self, since: float, *queries: str) -> None:
        """Until each query has had a 200 after `since`, or RECOVERY_SECONDS have passed."""
        for _ in range(int(RECOVERY_SECONDS / 0.05)):
            if all(self.first_200_after(query, since) for query in queries):
                return
            await asyncio.sleep(0.05)

    def first_200_after(self, query: str, since: float) -> float | None:
        found = [
            a.at for a in self.answers if a.query == query and a.status == 200 and a.at > since
        ]
        return min(found) if found else None


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_a_restart_under_load_answers_200_or_503_and_recovers(
    server: Server, clusters: Clusters, keys: DevKeys, mode: str
) -> None:
    """8 clients ask in loops while the main database restarts RESTARTS times (pg_ctl restart,
    `mode` fast or immediate: a crash and its recovery)."""
    carrier = token(keys, "MSCU", "vessel:read", "cargo:read")
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        expected = {
            CARRIER: await ask(client, CARRIER, carrier),
            SCHEDULE: await ask(client, SCHEDULE),
        }
    assert all(a.status == 200 and "errors" not in a.body for a in expected.values()), expected
    assert expected[CARRIER].body["data"]["portCalls"]["edges"]
    load = Load(server.base)
    # Six partners' clients and two anonymous ones, each asking in a loop.
    asked = [(CARRIER, carrier)] * 6 + [(SCHEDULE, None)] * 2
    clients = [asyncio.create_task(load.client(q, b)) for q, b in asked]
    restarts: list[tuple[float, float]] = []
    try:
        for _ in range(RESTARTS):
            await asyncio.sleep(1.0)  # the clients get answers
            began = time.monotonic()
            await asyncio.to_thread(clusters.main.restart, mode)
            ended = time.monotonic()
            restarts.append((began, ended))
            await load.answered(ended, CARRIER, SCHEDULE)
        await asyncio.sleep(0.5)  # and a little more of the recovered server
    finally:
        load.done.set()
        await asyncio.gather(*clients)
    statuses = Counter(a.status for a in load.answers)
    recovery = [
        max((load.first_200_after(q, ended) or math.inf) - ended for q in (CARRIER, SCHEDULE))
        for _, ended in restarts
    ]
    print(
        f"\n{mode}: answers {dict(statuses)}; restarts took "
        f"{[round(ended - began, 2) for began, ended in restarts]} s; both queries answered "
        f"200 again {[round(r, 2) for r in recovery]} s after each"
    )
    assert load.failures == []  # never a dropped connection, never a body that is not JSON
    assert set(statuses) <= {200, 503}, (statuses, errors_logged(server))
    for answer in load.answers:
        if answer.status == 200:
            assert_whole_or_partial(answer, expected[answer.query])
        else:
            assert_unavailable(answer)
    assert statuses[503] > 0, "no request met a restart"
    assert max(recovery) < RECOVERY_SECONDS
    assert not errors_logged(server), errors_logged(server)


async def readiness(client: httpx.AsyncClient) -> tuple[int, Any]:
    response = await client.get("/readyz")
    return response.status_code, response.json()


async def ready_again(client: httpx.AsyncClient, since: float) -> float:
    """Seconds from `since` until /readyz answers 200 (at most RECOVERY_SECONDS)."""
    while time.monotonic() - since < RECOVERY_SECONDS:
        if (await client.get("/readyz")).status_code == 200:
            return time.monotonic() - since
        await asyncio.sleep(0.1)
    raise AssertionError(f"/readyz not 200 within {RECOVERY_SECONDS} s")


MAIN_SOURCES = [s for s in SOURCES if s != "security"]


async def test_readyz_names_the_sources_of_a_stopped_database_and_recovers(
    server: Server, clusters: Clusters
) -> None:
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        assert await readiness(client) == (200, {"status": "ready"})
        await asyncio.to_thread(clusters.main.stop)
        try:
            status, body = await readiness(client)
            assert status == 503
            assert body.pop("reason") in ("ConnectionRefusedError", "OSError")
            assert body == {
                "status": "unavailable",
                "down": [{"source": s, "role": "primary"} for s in MAIN_SOURCES],
            }
            assert_unavailable(await ask(client, SCHEDULE))
        finally:
            await asyncio.to_thread(clusters.main.start)
        started = time.monotonic()
        print(f"\n/readyz 200 again {await ready_again(client, started):.2f} s after the start")
        assert (await ask(client, SCHEDULE)).status == 200


async def test_the_schedule_answers_while_the_security_database_is_away(
    server: Server, clusters: Clusters, keys: DevKeys
) -> None:
    customs = token(keys, "CBP", "security:read")
    carrier = token(keys, "MSCU", "vessel:read", "cargo:read")
    asked = [(SCHEDULE, None), (CARRIER, carrier), (ADVISORIES, customs), (BOTH, customs)]
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        before = {query: await ask(client, query, bearer) for query, bearer in asked}
        assert all(a.status == 200 and "errors" not in a.body for a in before.values()), before
        assert before[ADVISORIES].body["data"]["advisories"]["edges"]
        await asyncio.to_thread(clusters.security.stop)
        try:
            during = {query: await ask(client, query, bearer) for query, bearer in asked}
            ready = await readiness(client)
        finally:
            await asyncio.to_thread(clusters.security.start)
        started = time.monotonic()
        while time.monotonic() - started < RECOVERY_SECONDS:
            again = await ask(client, ADVISORIES, customs)
            if again.status == 200:
                break
            assert_unavailable(again)
            await asyncio.sleep(0.1)
        recovered = time.monotonic() - started
        print(f"\nadvisories answer again {recovered:.2f} s after security's start")
        assert again.body == before[ADVISORIES].body
        assert (await readiness(client))[0] == 200
    # The schedule and the other sources' fields are answered as before.
    for query in (SCHEDULE, CARRIER):
        assert (during[query].status, during[query].body) == (200, before[query].body)
        assert during[query].retry_after is None
    # Advisories alone: nothing answered, 503.
    assert_unavailable(during[ADVISORIES])
    assert during[ADVISORIES].body["data"] == {"advisories": None}
    assert [e["path"] for e in during[ADVISORIES].body["errors"]] == [["advisories"]]
    # Both: the schedule's data, the advisories' error at their path, and when to ask again.
    both = during[BOTH]
    assert (both.status, both.retry_after) == (200, "1")
    assert both.body["data"] == {**before[SCHEDULE].body["data"], "advisories": None}
    [error] = both.body["errors"]
    assert (error["path"], error["extensions"]) == (["advisories"], {"code": "SERVICE_UNAVAILABLE"})
    assert error["message"] == UNAVAILABLE_MESSAGE
    # /readyz names the source away, and its role.
    status, body = ready
    assert status == 503
    assert body.pop("reason") in ("ConnectionRefusedError", "OSError")
    assert body == {"status": "unavailable", "down": [{"source": "security", "role": "primary"}]}
    assert not errors_logged(server), errors_logged(server)


async def test_the_server_starts_while_the_security_database_is_away(
    server: Server, clusters: Clusters, keys: DevKeys, tmp_path: Path
) -> None:
    """Migrations, pools, the change feed's heads: none waits for the security database;
    the schedule is served at once, advisories once it is back, with no restart."""
    customs = token(keys, "CBP", "security:read")
    async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
        expected = {
            SCHEDULE: await ask(client, SCHEDULE),
            ADVISORIES: await ask(client, ADVISORIES, customs),
        }
    await asyncio.to_thread(clusters.security.stop)
    configured = production(clusters, keys, tmp_path)
    late = Server(configured.url, configured.env, configured.folder, probe="/healthz")
    try:
        try:
            await late.start()
            async with httpx.AsyncClient(base_url=late.base, timeout=30) as client:
                ready = await readiness(client)
                schedule = await ask(client, SCHEDULE)
                advisories = await ask(client, ADVISORIES, customs)
        finally:
            await asyncio.to_thread(clusters.security.start)
        async with httpx.AsyncClient(base_url=late.base, timeout=30) as client:
            started = time.monotonic()
            print(
                f"\n/readyz 200 {await ready_again(client, started):.2f} s after security's start"
            )
            again = await ask(client, ADVISORIES, customs)
    finally:
        await late.stop()
    status, body = ready
    assert status == 503
    assert body.pop("reason") in ("ConnectionRefusedError", "OSError")
    assert body == {"status": "unavailable", "down": [{"source": "security", "role": "primary"}]}
    assert (schedule.status, schedule.body) == (200, expected[SCHEDULE].body)
    assert_unavailable(advisories)
    assert (again.status, again.body) == (200, expected[ADVISORIES].body)
    logged = late.log
    assert "(security) is out of reach" in logged  # not migrated: said once, at start
    assert "change feed: security's log is out of reach" in logged
    assert not errors_logged(late), errors_logged(late)
