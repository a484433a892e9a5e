"""Versioned plain-SQL migrations, one folder per source, applied in order."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from resolvers.sources import Connection

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
FILE_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
LOCK_KEY = 7_301_924_551  # serialises concurrent migrators (two replicas starting together)

CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS public.schema_migration (
    source      text NOT NULL,
    version     text NOT NULL,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (source, version)
)
"""
SELECT_APPLIED = """
SELECT source, version, name, checksum FROM public.schema_migration WHERE source = ANY($1::text[])
"""
INSERT_APPLIED = """
INSERT INTO public.schema_migration (source, version, name, checksum) VALUES ($1, $2, $3, $4)
"""
TABLE_EXISTS = "SELECT to_regclass('public.schema_migration') IS NOT NULL"
DATABASE_EXISTS = "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)"
CREATE_DATABASE = "CREATE DATABASE {name}"  # identifiers cannot be parameters: quoted below


class MigrationError(RuntimeError):
    """A migration cannot be applied, or an applied one was changed."""


@dataclass(frozen=True, slots=True)
class Migration:
    source: str
    version: str
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    @property
    def label(self) -> str:
        return f"{self.source}/{self.name}"


def discover(sources: Iterable[str], root: Path = MIGRATIONS_DIR) -> list[Migration]:
    """Every migration file of the given sources, sources in the given order, files by version."""
    found: list[Migration] = []
    for source in sources:
        for path in sorted((root / source).glob("*.sql")):
            match = FILE_NAME.match(path.name)
            if match is None:
                raise MigrationError(f"{source}/{path.name}: name must look like 0001_what.sql")
            found.append(Migration(source, match.group(1), path.name, path.read_text()))
    return found


async def _applied(conn: Connection, sources: list[str]) -> dict[tuple[str, str], str]:
    rows = await conn.fetch(SELECT_APPLIED, sources)
    return {(r["source"], r["version"]): r["checksum"] for r in rows}


def _check_unchanged(migration: Migration, checksum: str) -> None:
    if checksum != migration.checksum:
        raise MigrationError(
            f"{migration.label} was changed after it was applied "
            f"(checksum {checksum[:12]} recorded, {migration.checksum[:12]} on disk); "
            "restore it and add a new migration instead"
        )


async def _apply(conn: Connection, migration: Migration) -> None:
    try:
        async with conn.transaction():
            await conn.execute(migration.sql)
            await conn.execute(
                INSERT_APPLIED,
                migration.source,
                migration.version,
                migration.name,
                migration.checksum,
            )
    except Exception as error:  # any database error: name the file, keep the cause
        raise MigrationError(f"{migration.label} failed: {error}") from error


async def migrate(
    conn: Connection, sources: Iterable[str], root: Path = MIGRATIONS_DIR
) -> list[str]:
    """Apply what is pending, each file in its own transaction; return what was applied."""
    migrations = discover(sources, root)
    await conn.execute(CREATE_TABLE)
    await conn.execute("SELECT pg_advisory_lock($1)", LOCK_KEY)
    try:
        applied = await _applied(conn, sorted({m.source for m in migrations}))
        done: list[str] = []
        for migration in migrations:
            recorded = applied.get((migration.source, migration.version))
            if recorded is not None:
                _check_unchanged(migration, recorded)
                continue
            await _apply(conn, migration)
            done.append(migration.label)
        return done
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY)


async def pending(
    conn: Connection, sources: Iterable[str], root: Path = MIGRATIONS_DIR
) -> list[str]:
    """Migrations not yet applied (or changed since): empty when the database is current."""
    migrations = discover(sources, root)
    if not await conn.fetchval(TABLE_EXISTS):
        return [m.label for m in migrations]
    applied = await _applied(conn, sorted({m.source for m in migrations}))
    return [m.label for m in migrations if applied.get((m.source, m.version)) != m.checksum]


def quote_identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def create_database_if_missing(conn: Connection, name: str) -> None:
    """Create a database (the embedded server's) unless it exists."""
    if not await conn.fetchval(DATABASE_EXISTS, name):
        await conn.execute(CREATE_DATABASE.format(name=quote_identifier(name)))
