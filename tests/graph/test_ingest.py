"""`harborgraph ingest`: DCSA events from a file, through the API's own code path."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import asyncpg
import pytest

from graph.ingest import IngestError, read_items
from tests.dcsa_events import Visit, equipment_event, visits


def run_ingest(
    url: str, data_dir: Path, *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HARBORGRAPH_")}
    env = {**clean, "HARBORGRAPH_DATABASE_URL": url, "HARBORGRAPH_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "graph.cli", "ingest", *args],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def mscu_visits(url: str) -> list[Visit]:
    connection = await asyncpg.connect(url)
    try:
        return await visits(connection, "MSCU", "EXPORT", "LOADED")
    finally:
        await connection.close()


async def stored(url: str, ids: list[str]) -> int:
    connection = await asyncpg.connect(url)
    try:
        count: int = await connection.fetchval(
            "SELECT count(*) FROM cargo.event WHERE event_id = ANY($1::uuid[])",
            [uuid.UUID(i) for i in ids],
        )
        return count
    finally:
        await connection.close()


def test_a_json_array_and_ndjson_read_alike() -> None:
    events = [{"eventID": "a"}, {"eventID": "b"}]
    assert read_items(io.StringIO(json.dumps(events))) == events
    lines = "\n".join(json.dumps(e) for e in events) + "\n\n"
    assert read_items(io.StringIO(lines)) == events
    with pytest.raises(IngestError, match="line 2 is not JSON"):
        read_items(io.StringIO('{"eventID": "a"}\n{"eventID": \n'))
    with pytest.raises(IngestError, match="the JSON array does not parse"):
        read_items(io.StringIO("[{"))


async def test_ingest_stores_batches_and_reports_each(writable_url: str, tmp_path: Path) -> None:
    boxes = await mscu_visits(writable_url)
    events = [equipment_event(boxes[i % len(boxes)], "LOAD", "PLN") for i in range(1_500)]
    source = tmp_path / "events.ndjson"
    source.write_text("".join(json.dumps(e) + "\n" for e in events))
    first = run_ingest(writable_url, tmp_path, str(source), "--org", "MSCU")
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == [
        "events 0-999: stored: 1000 accepted, 0 duplicate, 0 rejected",
        "events 1000-1499: stored: 500 accepted, 0 duplicate, 0 rejected",
        "accepted 1500, duplicate 0, rejected 0, not stored 0",
    ]
    again = run_ingest(writable_url, tmp_path, "-", "--org", "MSCU", stdin=json.dumps(events[:10]))
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[-1] == "accepted 0, duplicate 10, rejected 0, not stored 0"
    assert await stored(writable_url, [e["eventID"] for e in events]) == 1_500


async def test_ingest_names_each_rejection_and_stores_nothing_of_that_batch(
    writable_url: str, tmp_path: Path
) -> None:
    boxes = await mscu_visits(writable_url)
    events = [equipment_event(boxes[i], "LOAD", "PLN") for i in range(3)]
    events[2]["emptyIndicatorCode"] = "FULL"
    result = run_ingest(writable_url, tmp_path, "-", "--org", "COSU", stdin=json.dumps(events))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        "events 0-2: NOT stored: 0 accepted, 0 duplicate, 3 rejected",
        f"  event 0 ({events[0]['eventID']}): NOT_FOUND equipmentReference: matches no "
        "container visit, port call or document you may publish for",
        f"  event 1 ({events[1]['eventID']}): NOT_FOUND equipmentReference: matches no "
        "container visit, port call or document you may publish for",
        f"  event 2 ({events[2]['eventID']}): INVALID emptyIndicatorCode: 'FULL' is not one "
        "of EMPTY, LADEN",
        "accepted 0, duplicate 0, rejected 3, not stored 0",
    ]
    assert await stored(writable_url, [e["eventID"] for e in events]) == 0


def test_ingest_refuses_an_unknown_organization_and_an_unreadable_file(
    writable_url: str, tmp_path: Path
) -> None:
    unknown = run_ingest(writable_url, tmp_path, "-", "--org", "NOPE", stdin="[]")
    assert (unknown.returncode, unknown.stderr) == (
        1,
        "harborgraph: organization 'NOPE' is not known (see community.organization)\n",
    )
    missing = run_ingest(writable_url, tmp_path, str(tmp_path / "none.json"), "--org", "MSCU")
    assert (missing.returncode, missing.stderr) == (
        1,
        f"harborgraph: cannot read {tmp_path / 'none.json'}: No such file or directory\n",
    )
