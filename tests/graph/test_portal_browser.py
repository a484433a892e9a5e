"""The portal in Debian's Chromium, driven by playwright-core (portal/tests/portal.spec.mjs),
against `harborgraph serve` on a copy of the seeded database: a carrier (its token pasted)
looks up its container and sees an event published meanwhile arrive live, a trucker sees no commodity or consignee at 390 px, every request stays on the
app's origin, axe-core finds no serious violation. Screenshots go to .harborgraph/screenshots.
Twice: with Automatic Persisted Queries, and with the portal's manifest as the only trusted
documents (written as `make` writes it), where every operation goes by its listed id alone.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from graph.demo import GRANTS, mint_dev_token
from graph.settings import load_settings
from resolvers.principal import OrganizationKind
from tests.dcsa_events import Visit, equipment_event
from tests.servers import Server, server_env

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "portal" / "tests" / "portal.spec.mjs"
SCREENSHOTS = ROOT / ".harborgraph" / "screenshots"
# A box of one visit only (so `container(number:)` shows that visit), with events.
ONE_VISIT = """
(SELECT count(*) FROM cargo.container_visit o WHERE o.equipment_reference = cv.equipment_reference) = 1
AND EXISTS (SELECT 1 FROM cargo.event e WHERE e.equipment_reference = cv.equipment_reference)
"""
# The carrier's latest visit of the box (what `container(number:)` shows it), held.
CARRIER = "MSCU"
CARRIER_BOX = """
SELECT cv.equipment_reference FROM cargo.container_visit cv
JOIN cargo.hold h ON h.container_visit_id = cv.id AND h.released_at IS NULL
WHERE cv.carrier_scac = $1
  AND NOT EXISTS (SELECT 1 FROM cargo.container_visit o
                  WHERE o.equipment_reference = cv.equipment_reference
                    AND o.carrier_scac = cv.carrier_scac
                    AND (o.updated_at, o.id) > (cv.updated_at, cv.id))
  AND EXISTS (SELECT 1 FROM cargo.event e WHERE e.equipment_reference = cv.equipment_reference)
ORDER BY cv.id LIMIT 1
"""
TRUCKER_BOX = f"""
SELECT cv.equipment_reference FROM cargo.container_visit cv
JOIN gate.appointment a
    ON a.equipment_reference = cv.equipment_reference AND a.unlocode = cv.unlocode
   AND a.smdg_code = cv.smdg_code
WHERE a.trucker_scac = (SELECT o.scac FROM community.organization o
                        WHERE o.kind = 'TRUCKER' ORDER BY o.code LIMIT 1)
  AND a.status IN ('ARRIVED', 'COMPLETED') AND cv.direction = 'IMPORT'
  AND cv.transport_document_reference IS NOT NULL AND {ONE_VISIT}
ORDER BY cv.id LIMIT 1
"""


# The demo terminal (the first by code), whose gate turn times the terminal sees.
DEMO_TERMINAL = """
SELECT o.terminal_smdg_code FROM community.organization o
WHERE o.kind = 'TERMINAL' ORDER BY o.code LIMIT 1
"""


def chromium() -> str:
    found = os.environ.get("CHROMIUM") or shutil.which("chromium")
    assert found, "Chromium is needed: `make test` installs Debian's (apt install chromium)"
    return found


def portal_manifest(folder: Path) -> dict[str, str]:
    """The manifest file `make` writes (by the same command), and the variable naming it."""
    path = folder / "persisted-query-manifest.json"
    command = [sys.executable, "-m", "graph.cli", "manifest", str(ROOT / "portal" / "operations")]
    path.write_bytes(subprocess.run(command, capture_output=True, check=True, cwd=ROOT).stdout)
    return {"HARBORGRAPH_TRUSTED_DOCUMENTS": str(path)}


@pytest.fixture(params=["apq", "trusted"])
async def server(
    writable_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[Server]:
    trusted = portal_manifest(tmp_path) if request.param == "trusted" else {}
    env = server_env(writable_url, tmp_path / "data", **trusted)
    running = Server(writable_url, env, tmp_path)
    try:
        await running.start()
        yield running
    finally:
        await running.stop()


# The visit of that box, for an event the carrier publishes while the page follows it.
VISIT = """
SELECT cv.id, cv.equipment_reference, cv.port_call_id, cv.carrier_scac, cv.unlocode,
       cv.smdg_code, cv.direction, cv.status, cv.transport_document_reference,
       NULL AS carrier_booking_reference
FROM cargo.container_visit cv
WHERE cv.equipment_reference = $1 AND cv.carrier_scac = $2
ORDER BY cv.updated_at DESC, cv.id DESC LIMIT 1
"""


async def boxes(url: str) -> dict[str, str]:
    connection = await asyncpg.connect(url)
    try:
        box = await connection.fetchval(CARRIER_BOX, CARRIER)
        row = await connection.fetchrow(VISIT, box, CARRIER)
        assert row is not None, "the seed holds a held box of the carrier"
        visit = Visit.of(row)
        found = {
            "CARRIER_BOX": box,
            "LIVE_EVENT": json.dumps(equipment_event(visit, "INSP")),
            "TRUCKER_BOX": await connection.fetchval(TRUCKER_BOX),
            "TERMINAL_SMDG": await connection.fetchval(DEMO_TERMINAL),
        }
    finally:
        await connection.close()
    assert all(found.values()), found
    return found


def trusted_ids(server: Server) -> dict[str, str]:
    """For the spec: the ids the server trusts (it then checks that only they are sent)."""
    path = server.env.get("HARBORGRAPH_TRUSTED_DOCUMENTS")
    if path is None:
        return {}
    manifest = json.loads(Path(path).read_text())
    return {"TRUSTED_IDS": json.dumps([o["id"] for o in manifest["operations"]])}


async def test_the_portal_in_a_browser(
    server: Server, writable_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    trusted = trusted_ids(server)
    shots_folder = SCREENSHOTS / "trusted" if trusted else SCREENSHOTS
    shots_folder.mkdir(parents=True, exist_ok=True)
    scopes = [s.value for s in GRANTS[OrganizationKind.CARRIER]]
    carrier = mint_dev_token(load_settings(server.env), org=CARRIER, scopes=scopes, ttl=600)
    env = {
        **os.environ,
        **await boxes(writable_url),
        "CARRIER_TOKEN": carrier,  # pasted into the sign-in form
        "PORTAL_URL": server.base,
        "CHROMIUM": chromium(),
        "SCREENSHOTS": str(shots_folder),
        **trusted,
    }
    process = await asyncio.create_subprocess_exec(
        "node", str(SPEC), cwd=ROOT / "portal", env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), timeout=180)
    assert process.returncode == 0, (out + err).decode()[-3000:]
    figures = json.loads(out.decode().strip().splitlines()[-1])
    with capsys.disabled():  # in the test output: the figures, where screenshots and traces are
        print(f"\nportal: {figures}; screenshots and traces in {shots_folder}")
    kinds = ("carrier", "trucker", "terminal")
    assert set(figures) == {
        "live_event_ms",
        *(f"{kind}_first_data_ms" for kind in kinds),
        *(f"{kind}_first_data_after_load_ms" for kind in kinds),
    }
    shots = {p.name for p in shots_folder.glob("*.png")}
    assert shots >= {"carrier.png", "trucker-390.png", "terminal.png"}
