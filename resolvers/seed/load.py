"""Writing generated rows: COPY per table, one transaction per database, sequences moved past."""

from __future__ import annotations

from collections.abc import Sequence

from asyncpg import Record
from asyncpg.pool import PoolConnectionProxy

from resolvers.migrate import quote_identifier
from resolvers.seed.tables import Table
from resolvers.sources import Connection, Pool

# A demo load at scale 10 takes minutes; the pools' statement timeout is for API requests.
NO_TIMEOUT = "SET LOCAL statement_timeout = 0"
FAST_COMMIT = "SET LOCAL synchronous_commit = off"
SET_SEQUENCE = "SELECT setval(pg_get_serial_sequence($1, $2), $3, false)"
HAS_ROWS = "SELECT EXISTS (SELECT 1 FROM community.organization)"
TABLE_EXISTS = "SELECT to_regclass('community.organization') IS NOT NULL"


def _last_id(table: Table) -> int:
    position = list(table.columns).index(str(table.identity))
    last = 0
    for row in table.rows:
        value = row[position]
        if isinstance(value, int) and value > last:
            last = value
    return last


async def _copy(conn: Connection | PoolConnectionProxy[Record], table: Table) -> None:
    if table.rows:
        await conn.copy_records_to_table(
            table.table, schema_name=table.schema, columns=list(table.columns), records=table.rows
        )
    if table.identity is not None:
        await conn.execute(SET_SEQUENCE, table.name, table.identity, _last_id(table) + 1)


async def write_source(pool: Pool, tables: Sequence[Table]) -> None:
    """Copy the tables of one database inside one transaction."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(NO_TIMEOUT)
        await conn.execute(FAST_COMMIT)
        for table in tables:
            await _copy(conn, table)
        for table in tables:
            # Fresh statistics: without them the planner picks nested loops over bulk-loaded
            # tables and API queries run into the statement timeout.
            await conn.execute(
                f"ANALYZE {quote_identifier(table.schema)}.{quote_identifier(table.table)}"
            )


async def has_organizations(pool: Pool) -> bool:
    async with pool.acquire() as conn:
        if not await conn.fetchval(TABLE_EXISTS):
            return False
        return bool(await conn.fetchval(HAS_ROWS))
