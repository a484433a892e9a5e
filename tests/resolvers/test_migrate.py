"""Migrations: ordered, recorded, idempotent, and refusing edited history."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
import pytest

from resolvers.migrate import MIGRATIONS_DIR, MigrationError, discover, migrate, pending
from resolvers.sources import SOURCES, Connection

SCHEMA_SNAPSHOT = """
SELECT table_schema, table_name, column_name, data_type, is_nullable
FROM information_schema.columns
WHERE table_schema = ANY($1::text[])
ORDER BY 1, 2, 3
"""


async def _connect(url: str) -> Connection:
    conn: Connection = await asyncpg.connect(url)
    return conn


def test_discover_orders_sources_then_versions() -> None:
    labels = [m.label for m in discover(SOURCES)]
    assert labels == [
        "community/0001_organizations.sql",
        "community/0002_audited_writes.sql",
        "community/0003_open_operations.sql",
        "community/0004_suspension_and_rate_limits.sql",
        "vessel/0001_vessels_and_port_calls.sql",
        "vessel/0002_change_log.sql",
        "cargo/0001_cargo.sql",
        "cargo/0002_port_call_terminal_index.sql",
        "cargo/0003_published_events.sql",
        "cargo/0004_one_open_hold.sql",
        "cargo/0005_event_port_call_equipment_index.sql",
        "cargo/0006_change_log.sql",
        "cargo/0007_event_subscriptions.sql",
        "gate/0001_gate.sql",
        "gate/0002_appointment_slots.sql",
        "gate/0003_gate_transaction_reference.sql",
        "gate/0004_change_log.sql",
        "security/0001_security.sql",
        "security/0002_change_log.sql",
    ]


async def test_apply_twice_changes_nothing(empty_database: str) -> None:
    conn = await _connect(empty_database)
    try:
        first = await migrate(conn, SOURCES)
        snapshot = await conn.fetch(SCHEMA_SNAPSHOT, list(SOURCES))
        second = await migrate(conn, SOURCES)
        assert first == [m.label for m in discover(SOURCES)]
        assert second == []
        assert await conn.fetch(SCHEMA_SNAPSHOT, list(SOURCES)) == snapshot
        assert await pending(conn, SOURCES) == []
        recorded = await conn.fetchval("SELECT count(*) FROM public.schema_migration")
        assert recorded == len(first)
    finally:
        await conn.close()


def _copy_migrations(tmp_path: Path) -> Path:
    root = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS_DIR, root)
    return root


async def test_tampered_applied_migration_is_refused(empty_database: str, tmp_path: Path) -> None:
    root = _copy_migrations(tmp_path)
    conn = await _connect(empty_database)
    try:
        await migrate(conn, SOURCES, root)
        gate = root / "gate" / "0001_gate.sql"
        gate.write_text(gate.read_text() + "\n-- edited after the fact\n")
        with pytest.raises(
            MigrationError, match=r"^gate/0001_gate\.sql was changed after it was applied"
        ):
            await migrate(conn, SOURCES, root)
        assert await pending(conn, SOURCES, root) == ["gate/0001_gate.sql"]
    finally:
        await conn.close()


async def test_failing_migration_leaves_nothing_behind(empty_database: str, tmp_path: Path) -> None:
    root = _copy_migrations(tmp_path)
    (root / "security" / "0099_broken.sql").write_text(
        "CREATE TABLE security.half_done (id int);\nSELECT no_such_function();\n"
    )
    conn = await _connect(empty_database)
    try:
        with pytest.raises(MigrationError, match=r"^security/0099_broken\.sql failed: "):
            await migrate(conn, SOURCES, root)
        assert await conn.fetchval("SELECT to_regclass('security.half_done')") is None
        assert await pending(conn, SOURCES, root) == ["security/0099_broken.sql"]
    finally:
        await conn.close()


async def test_new_migration_is_applied_alone(empty_database: str, tmp_path: Path) -> None:
    root = _copy_migrations(tmp_path)
    conn = await _connect(empty_database)
    try:
        await migrate(conn, SOURCES, root)
        (root / "gate" / "0099_lane_index.sql").write_text(
            "CREATE INDEX gate_transaction_lane_idx ON gate.gate_transaction (lane);\n"
        )
        assert await migrate(conn, SOURCES, root) == ["gate/0099_lane_index.sql"]
    finally:
        await conn.close()


def test_badly_named_file_is_refused(tmp_path: Path) -> None:
    root = _copy_migrations(tmp_path)
    (root / "vessel" / "add-things.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"^vessel/add-things\.sql: name must look like"):
        discover(SOURCES, root)
