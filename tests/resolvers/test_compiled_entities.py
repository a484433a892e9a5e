"""The compiled path's serialisation in SQL equals Python's: instants, cursors, global ids."""

from __future__ import annotations

import datetime as dt
import json

import asyncpg
import pytest

from resolvers.compiled.entities import cursor, global_id, instant, instant_text, quoted
from schema.pagination import encode_cursor

INSTANTS = [
    dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 2, 8, 0, 0, 120000, tzinfo=dt.UTC),
    dt.datetime(2026, 3, 2, 8, 0, 0, 1, tzinfo=dt.UTC),
    dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
    dt.datetime(2026, 7, 1, 1, 30, tzinfo=dt.timezone(dt.timedelta(hours=-7))),
]


@pytest.fixture
async def utc_session(seeded_url: str) -> asyncpg.Connection[asyncpg.Record]:
    # As the app's pools open their sessions (graph.database.create_pool).
    conn: asyncpg.Connection[asyncpg.Record] = await asyncpg.connect(
        seeded_url, server_settings={"TimeZone": "UTC"}
    )
    return conn


@pytest.mark.parametrize("value", INSTANTS, ids=str)
async def test_instants_read_as_python_writes_them(
    utc_session: asyncpg.Connection[asyncpg.Record], value: dt.datetime
) -> None:
    try:
        as_json = await utc_session.fetchval(f"SELECT ({instant('$1::timestamptz')})::text", value)
        as_text = await utc_session.fetchval(f"SELECT {instant_text('$1::timestamptz')}", value)
    finally:
        await utc_session.close()
    expected = value.astimezone(dt.UTC).isoformat()
    assert json.loads(as_json) == expected
    assert as_text == expected


async def test_cursors_and_global_ids_as_the_schema_encodes_them(
    utc_session: asyncpg.Connection[asyncpg.Record],
) -> None:
    arrival = dt.datetime(2026, 3, 2, 8, 0, 0, 500, tzinfo=dt.UTC)
    ident = "0b7e3f1c-1d2e-4f5a-9b8c-7d6e5f4a3b2c"
    try:
        row = await utc_session.fetchrow(
            f"""SELECT {cursor(quoted(instant_text("$1::timestamptz")), quoted("$2::text"))} AS c,
                       {cursor("to_json($3::text)::text")} AS n,
                       {global_id("PortCall", "$2::text")} AS g""",
            arrival,
            ident,
            'A "quoted" name, Ålesund\tMærsk',
        )
    finally:
        await utc_session.close()
    assert row is not None
    assert row["c"] == encode_cursor((arrival.isoformat(), ident))
    assert row["n"] == encode_cursor(('A "quoted" name, Ålesund\tMærsk',))
    assert row["g"] == "UG9ydENhbGw6MGI3ZTNmMWMtMWQyZS00ZjVhLTliOGMtN2Q2ZTVmNGEzYjJj"
