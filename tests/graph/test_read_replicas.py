"""A real streaming standby (issue 13): queries read from it, writes and their own answers
from the primary, and a standby out of reach is a 503 that /readyz names.

The pair is built here (tests.clusters), from the embedded PostgreSQL's own binaries
(`pg_basebackup` needs the primary's major version, whatever server TEST_DATABASE_URL
names). Which server ran a statement is PostgreSQL's word: each logs every statement
(`log_statement = all`) with its application name, and a request's log lines are compared
with the statements the app sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from graph.app import create_app
from graph.database import open_read_pools, read_dsns
from graph.demo import mint_dev_token
from graph.runtime import migrate_all, seed_all
from graph.settings import Settings, load_settings
from resolvers.community import SELECT_ORGANIZATION
from resolvers.sources import SOURCES, SourcePools
from tests.clusters import Cluster, cluster_folder, run_tool
from tests.conftest import ASYNCPG_INTERNAL, TEST_ANCHOR, TEST_SCALE, TEST_SEED, Api
from tests.dcsa_events import Visit, equipment_event, visits
from tests.helpers import app_state

APP = "harborgraph"  # the pools' application_name (the listener's is another)
PREFIX = "@@@"  # starts each log record: `@@@<application_name>@@@ LOG: ...`
SETTINGS = f"""
listen_addresses = '127.0.0.1'
unix_socket_directories = ''
wal_level = replica
max_wal_senders = 4
hot_standby = on
fsync = off
lc_messages = 'C'
log_statement = 'all'
log_parameter_max_length = 0
log_line_prefix = '{PREFIX}%a{PREFIX} '
"""
RECORD = re.compile(
    rf"^(?P<app>.*?){PREFIX} LOG:  (?:statement|execute [^:]*): (?P<sql>.*)\Z", re.DOTALL
)
REPLAYED = "SELECT coalesce(pg_last_wal_replay_lsn() >= $1::text::pg_lsn, false)"


# --- The pair of servers ----------------------------------------------------------------------


class Server(Cluster):
    """One PostgreSQL of the pair, and the statements its log records."""

    def statements(self, since: int) -> list[str]:
        """The app's statements logged since `since` (its pools', not the listener's)."""
        with self.log.open("rb") as log:
            log.seek(since)
            text = log.read().decode(errors="replace")
        found = []
        for record in re.split(rf"^{PREFIX}", text, flags=re.MULTILINE):
            matched = RECORD.match(record)
            if matched and matched["app"] == APP:
                # PostgreSQL indents a statement's later lines with a tab.
                found.append(matched["sql"].replace("\n\t", "\n").strip())
        return [s for s in found if own(s)]


def own(statement: str) -> bool:
    """A request's statement: not asyncpg's introspection, the audit writer's or a
    background task's (conftest.ASYNCPG_INTERNAL)."""
    return not any(marker in statement for marker in ASYNCPG_INTERNAL)


@dataclass
class Pair:
    primary: Server
    standby: Server


def _primary(folder: Path, user: str | None) -> Server:
    primary = Server("primary", folder, user)
    primary.initdb(SETTINGS)
    with (primary.data / "pg_hba.conf").open("a") as hba:
        hba.write("host replication all 127.0.0.1/32 trust\n")
    primary.start()
    return primary


def _standby(primary: Server) -> Server:
    """A streaming standby of `primary`: its base backup, -R writes standby.signal and
    primary_conninfo, -X stream follows the WAL written meanwhile."""
    standby = Server("standby", primary.folder, primary.user)
    where = ("-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres")
    run_tool(primary.user, "pg_basebackup", *where, "-D", str(standby.data), "-R", "-X", "stream")
    standby.start()
    return standby


async def _sql(url: str, statement: str, *args: Any) -> Any:
    conn = await asyncpg.connect(url, server_settings={"application_name": "replica-test"})
    try:
        return await conn.fetch(statement, *args)
    finally:
        await conn.close()


async def caught_up(pair: Pair) -> None:
    """Until the standby has replayed everything the primary has written so far: up to the
    WAL's insert position, since the seed commits asynchronously (synchronous_commit off), so
    its last commit may not be written yet, let alone sent."""
    [(lsn,)] = await _sql(pair.primary.url(), "SELECT pg_current_wal_insert_lsn()::text")
    for _ in range(300):
        [(replayed,)] = await _sql(pair.standby.url(), REPLAYED, lsn)
        if replayed:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the standby did not replay up to {lsn}")


async def _prepare(pair: Pair) -> None:
    """The demo database, made on the primary once the standby follows it: it reaches the
    standby by streaming replication alone."""
    await _sql(pair.primary.url("postgres"), "CREATE DATABASE harborgraph")
    dsns = dict.fromkeys(SOURCES, pair.primary.url())
    await migrate_all(dsns)
    settings = load_settings({"HARBORGRAPH_DATABASE_URL": pair.primary.url()})
    anchor = date.fromisoformat(TEST_ANCHOR)
    await seed_all(
        dsns, settings, scale=TEST_SCALE, seed_value=TEST_SEED, anchor=anchor, only_if_empty=False
    )
    await caught_up(pair)
    [(recovering,)] = await _sql(pair.standby.url(), "SELECT pg_is_in_recovery()")
    assert recovering is True


@pytest.fixture(scope="module")
async def pair() -> AsyncIterator[Pair]:
    folder, user = cluster_folder("harborgraph-replica-")
    started: list[Server] = []
    try:
        started.append(await asyncio.to_thread(_primary, folder, user))
        started.append(await asyncio.to_thread(_standby, started[0]))
        built = Pair(*started)
        await _prepare(built)
        yield built
    finally:
        for server in reversed(started):
            with contextlib.suppress(AssertionError):  # one a test stopped already
                server.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


# --- The app on the pair ----------------------------------------------------------------------


class Sent:
    """The statements the app's pools send while a window is open."""

    def __init__(self) -> None:
        self.active = False
        self.statements: list[str] = []

    def observe(self, query: str, _args: tuple[Any, ...] = ()) -> None:
        if self.active and own(query):
            self.statements.append(query.strip())


@dataclass
class Seen:
    """Statements of one window: what the app sent, what each server logged."""

    app: list[str] = field(default_factory=list)
    primary: list[str] = field(default_factory=list)
    standby: list[str] = field(default_factory=list)


@dataclass
class Served:
    client: httpx.AsyncClient
    settings: Settings
    pair: Pair
    sent: Sent

    @property
    def api(self) -> Api:
        return Api(self.client)

    def token(self, org: str, *scopes: str) -> str:
        return mint_dev_token(self.settings, org=org, scopes=scopes, ttl=600)

    @contextlib.asynccontextmanager
    async def window(self) -> AsyncIterator[Seen]:
        seen = Seen()
        marks = self.pair.primary.mark(), self.pair.standby.mark()
        self.sent.statements, self.sent.active = [], True
        try:
            yield seen
        finally:
            self.sent.active = False
        seen.app = self.sent.statements
        seen.primary = self.pair.primary.statements(marks[0])
        seen.standby = self.pair.standby.statements(marks[1])


@pytest.fixture(scope="module")
async def served(pair: Pair, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    settings = load_settings(
        {
            "HARBORGRAPH_DATABASE_URL": pair.primary.url(),
            "HARBORGRAPH_READ_DATABASE_URL": pair.standby.url(),
            "HARBORGRAPH_DATA_DIR": str(tmp_path_factory.mktemp("replica-data")),
        }
    )
    sent = Sent()
    app = create_app(settings, dict.fromkeys(SOURCES, pair.primary.url()), sent.observe)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://harborgraph.test") as c:
            yield Served(c, settings, pair, sent)


def lookups(statements: list[str]) -> list[str]:
    """Authentication's organization lookups: on the primary by design (cached a few s)."""
    return [s for s in statements if s == SELECT_ORGANIZATION.strip()]


def assert_read_from_standby(seen: Seen) -> None:
    """Every statement the app sent ran on the standby, but authentication's."""
    reads = [s for s in seen.app if s not in lookups(seen.app)]
    assert reads, "the request sent no statement"
    assert sorted(seen.standby) == sorted(reads)
    assert seen.primary == lookups(seen.app)


def assert_written_on_primary(seen: Seen) -> None:
    assert seen.app, "the request sent no statement"
    assert sorted(seen.primary) == sorted(seen.app)
    assert seen.standby == []


# --- Pools ------------------------------------------------------------------------------------


async def test_every_pool_is_labelled_with_its_source_and_role(served: Served) -> None:
    labelled = app_state(served.client).role_pools()
    roles = [("primary", s) for s in SOURCES] + [("replica", s) for s in SOURCES]
    assert [(p.role, p.source) for p in labelled] == roles
    for each in labelled:  # a replica's pool reaches the standby, a primary's the primary
        in_recovery = await each.pool.fetchval("SELECT pg_is_in_recovery()")
        assert in_recovery is (each.role == "replica")


async def test_without_a_replica_queries_use_the_primary_pools_themselves() -> None:
    primary = SourcePools({})
    settings = load_settings({"HARBORGRAPH_DATABASE_URL": "postgresql://db/harborgraph"})
    assert await open_read_pools(primary, read_dsns(settings), settings) is primary


# --- Queries ------------------------------------------------------------------------------------

VESSEL = "query Ship($imo: String!) { vessel(imo: $imo) { imo name } }"


async def first_vessel(pair: Pair) -> dict[str, str]:
    rows = await _sql(pair.primary.url(), "SELECT imo, name FROM vessel.vessel ORDER BY imo")
    return {"imo": rows[0]["imo"], "name": rows[0]["name"]}


@pytest.mark.parametrize("method", ["POST", "GET"])
async def test_a_query_is_read_from_the_standby_and_not_the_primary(
    served: Served, method: str
) -> None:
    vessel = await first_vessel(served.pair)
    variables = {"imo": vessel["imo"]}
    async with served.window() as seen:
        if method == "POST":
            response = await served.api.post(VESSEL, variables)
        else:
            params = {"query": VESSEL, "variables": f'{{"imo": "{vessel["imo"]}"}}'}
            response = await served.client.get("/graphql", params=params)
    assert response.status_code == 200, response.json()
    assert response.json() == {"data": {"vessel": vessel}}
    assert_read_from_standby(seen)
    assert seen.primary == []  # anonymous: not even authentication asked the primary
    assert any("FROM vessel.vessel" in s for s in seen.standby)


# --- A mutation, then the query that follows it ---------------------------------------------------

BOOK = """
mutation Book($input: BookAppointmentInput!) {
  bookAppointment(input: $input) {
    outcome
    appointment { reference status terminal { smdgCode } container { number } }
  }
}
"""
APPOINTMENTS = """
query Booked($terminal: TerminalKeyInput!) {
  appointments(filter: {terminal: $terminal, status: SCHEDULED}, first: 100) {
    edges { node { reference } }
    pageInfo { hasNextPage }
  }
}
"""
UNSEEN_IMPORT = """
SELECT cv.equipment_reference, cv.unlocode, cv.smdg_code FROM cargo.container_visit cv
WHERE cv.direction = 'IMPORT' AND cv.available_for_pickup
  AND NOT EXISTS (SELECT 1 FROM gate.appointment a
                  WHERE a.equipment_reference = cv.equipment_reference)
  AND NOT EXISTS (SELECT 1 FROM cargo.container_visit l
                  WHERE l.equipment_reference = cv.equipment_reference
                    AND (l.updated_at, l.id) > (cv.updated_at, cv.id))
ORDER BY cv.equipment_reference LIMIT 1
"""
SCHEDULED = """
SELECT appointment_reference FROM gate.appointment
WHERE trucker_scac = $1 AND unlocode = $2 AND smdg_code = $3 AND status = 'SCHEDULED'
"""


async def booked(served: Served, token: str, terminal: dict[str, str]) -> list[str]:
    data = await served.api.data(APPOINTMENTS, {"terminal": terminal}, token)
    assert data["appointments"]["pageInfo"] == {"hasNextPage": False}
    return sorted(edge["node"]["reference"] for edge in data["appointments"]["edges"])


async def scheduled(pair: Pair, terminal: dict[str, str]) -> list[str]:
    rows = await _sql(pair.primary.url(), SCHEDULED, "BYLC", *terminal.values())
    return sorted(r["appointment_reference"] for r in rows)


async def test_a_mutation_runs_on_the_primary_and_the_next_query_sees_it_on_the_standby(
    served: Served,
) -> None:
    [box] = await _sql(served.pair.primary.url(), UNSEEN_IMPORT)
    terminal = {"unlocode": box["unlocode"], "smdgCode": box["smdg_code"]}
    token = served.token("BYLC", "cargo:read", "gate:read", "gate:write")
    before = await booked(served, token, terminal)
    assert before == await scheduled(served.pair, terminal)
    assert "BYLC-REPLICA-1" not in before
    start = (datetime.now(UTC) + timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    booking = {
        "terminal": terminal,
        "slotStart": start.isoformat(),
        "moveType": "IMPORT_PICKUP",
        "containerNumber": box["equipment_reference"],
        "appointmentReference": "BYLC-REPLICA-1",
    }
    async with served.window() as wrote:
        data = await served.api.data(BOOK, {"input": booking}, token)
    assert data == {
        "bookAppointment": {
            "outcome": "ACCEPTED",
            "appointment": {
                "reference": "BYLC-REPLICA-1",
                "status": "SCHEDULED",
                "terminal": {"smdgCode": box["smdg_code"]},
                "container": None,  # a trucker sees the box once the terminal has it arrive
            },
        }
    }
    assert_written_on_primary(wrote)
    assert any(s.startswith("INSERT INTO gate.appointment") for s in wrote.primary), wrote
    # The answer's own selection (the terminal, the box) was read back on the primary.
    assert any("FROM vessel.terminal" in s for s in wrote.primary), wrote.primary
    assert any("FROM cargo.container_visit" in s for s in wrote.primary), wrote.primary
    await caught_up(served.pair)
    async with served.window() as read:
        after = await booked(served, token, terminal)
    assert after == sorted([*before, "BYLC-REPLICA-1"])
    assert after == await scheduled(served.pair, terminal)
    assert_read_from_standby(read)


# --- DCSA Track & Trace over REST -----------------------------------------------------------------

EVENTS = "/dcsa/tnt/v2/events"


async def mscu_visit(pair: Pair) -> Visit:
    conn = await asyncpg.connect(pair.primary.url())
    try:
        return (await visits(conn, "MSCU", "IMPORT", "ON_VESSEL"))[0]
    finally:
        await conn.close()


async def event_ids(served: Served, token: str, box: str) -> list[str]:
    params = {"equipmentReference": box, "eventType": "EQUIPMENT", "limit": "100"}
    response = await served.client.get(EVENTS, params=params, headers=bearer(token))
    assert response.status_code == 200, response.json()
    return sorted(event["eventID"] for event in response.json())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_dcsa_get_reads_the_standby_and_post_writes_the_primary(served: Served) -> None:
    visit = await mscu_visit(served.pair)
    token = served.token("MSCU", "cargo:read", "events:write")
    event = equipment_event(visit, "DISC", "ACT")
    async with served.window() as read:
        before = await event_ids(served, token, visit.equipment_reference)
    assert event["eventID"] not in before
    assert_read_from_standby(read)
    async with served.window() as wrote:
        posted = await served.client.post(EVENTS, json=[event], headers=bearer(token))
    assert posted.status_code == 201, posted.json()
    assert posted.json()["accepted"] == 1
    assert_written_on_primary(wrote)
    assert any("INSERT INTO cargo.event" in s for s in wrote.primary), wrote.primary
    await caught_up(served.pair)
    async with served.window() as again:
        after = await event_ids(served, token, visit.equipment_reference)
    assert after == sorted([*before, event["eventID"]])
    assert_read_from_standby(again)


# --- The standby out of reach ------------------------------------------------------------------


async def test_a_standby_out_of_reach_is_503_and_readyz_names_it(served: Served) -> None:
    assert (await served.client.get("/readyz")).json() == {"status": "ready"}
    vessel = await first_vessel(served.pair)
    await asyncio.to_thread(served.pair.standby.stop)
    try:
        response = await served.api.post(VESSEL, {"imo": vessel["imo"]})
        assert response.status_code == 503, response.json()
        assert response.headers["retry-after"] == "1"
        codes = [e["extensions"]["code"] for e in response.json()["errors"]]
        assert codes == ["SERVICE_UNAVAILABLE"]
        ready = await served.client.get("/readyz")
        assert ready.status_code == 503
        body = ready.json()
        assert body.pop("reason") in ("ConnectionRefusedError", "OSError")
        assert body == {
            "status": "unavailable",
            "down": [{"source": source, "role": "replica"} for source in SOURCES],
        }
        # Writes need no standby.
        token = served.token("MSCU", "events:write")
        event = equipment_event(await mscu_visit(served.pair), "DISC", "EST")
        posted = await served.client.post(EVENTS, json=[event], headers=bearer(token))
        assert posted.status_code == 201, posted.json()
    finally:
        await asyncio.to_thread(served.pair.standby.start)
    await caught_up(served.pair)
    for _ in range(100):  # its pool reconnects
        if (await served.client.get("/readyz")).status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert (await served.api.post(VESSEL, {"imo": vessel["imo"]})).status_code == 200
