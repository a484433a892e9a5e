"""Harborgraph behind a real gateway, with a second organisation's subgraph.

Our subgraph (uvicorn), the "Pacific Harbor Line" rail subgraph (Node, `@apollo/subgraph`)
and Hive Gateway run as processes on 127.0.0.1 (see conftest.py); the supergraph is
composed by `deploy/gateway/compose.mjs` with `@apollo/composition`. Every request below goes
through the gateway with real access tokens signed by the subgraph's development key, which
the gateway reads from the subgraph's JWKS. Our values are read with SQL from the seeded
database; the rail subgraph's are what it prints for the same key (`--print-entity`).
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from graph.keys import ensure_dev_keys, load_private_key, mint_token
from graph.settings import Settings
from resolvers.sources import SourcePools
from tests.conftest import Tokens
from tests.federation.conftest import RAIL_SERVER, REPO, Composition, Service, child_env, compose

UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"
REQUEST_TIMEOUT_S = 15.0
# Composition hints that are no concern of ours, by code. None so far: the rail subgraph
# extends Container and Vessel by key only, so a hint would point at something to fix.
ACCEPTED_HINT_CODES: frozenset[str] = frozenset()

# A carrier, one of its laden containers as `container(number:)` shows it to that carrier
# (the latest of the carrier's visits), with the consignee on its bill of lading, the
# terminal and the vessel of the call.
CARRIER_CONTAINER = """
SELECT o.code AS org, v.equipment_reference AS number, v.status, v.unlocode, v.smdg_code,
       cn.party_name AS consignee, pc.port_visit_reference, vs.imo, vs.name AS vessel_name
FROM community.organization o
CROSS JOIN LATERAL (
    SELECT DISTINCT ON (cv.equipment_reference) cv.*
    FROM cargo.container_visit cv
    WHERE cv.carrier_scac = o.scac
    ORDER BY cv.equipment_reference, cv.updated_at DESC, cv.id DESC
) v
JOIN cargo.shipment_party cn
  ON cn.transport_document_reference = v.transport_document_reference
 AND cn.party_function = 'CN'
JOIN vessel.port_call pc ON pc.id = v.port_call_id
JOIN vessel.vessel vs ON vs.imo = pc.vessel_imo
WHERE o.kind = 'CARRIER'
ORDER BY o.code, v.equipment_reference
LIMIT 1
"""
# Another carrier, which never had a visit of container $2.
OTHER_CARRIER = """
SELECT o.code FROM community.organization o
WHERE o.kind = 'CARRIER' AND o.code <> $1
  AND NOT EXISTS (SELECT 1 FROM cargo.container_visit cv
                  WHERE cv.equipment_reference = $2 AND cv.carrier_scac = o.scac)
ORDER BY o.code
LIMIT 1
"""

JOINED = """
query Joined($number: String!, $imo: String!) {
  container(number: $number) {
    number
    status
    consignee
    terminal { unlocode smdgCode }
    railLeg { trainId originRamp destination departure status }
    portCall { portVisitReference vessel { imo name nextPortCall { unlocode eta } } }
  }
  vessel(imo: $imo) { imo name nextPortCall { unlocode eta } }
}
"""


@dataclass(frozen=True)
class Box:
    org: str
    other_org: str
    number: str
    status: str
    unlocode: str
    smdg_code: str
    consignee: str
    port_visit_reference: str
    imo: str
    vessel_name: str


@pytest.fixture(scope="module")
async def box(seeded_pools: SourcePools) -> Box:
    pool = seeded_pools["cargo"]
    row = await pool.fetchrow(CARRIER_CONTAINER)
    assert row is not None, "the seed gives a carrier a laden container"
    other = await pool.fetchval(OTHER_CARRIER, row["org"], row["number"])
    assert other is not None, "the seed has a carrier that never carried it"
    return Box(other_org=other, **dict(row))


def rail_facts(node: str, type_name: str, key: str) -> Any:
    """What the rail subgraph answers for an entity: it prints it itself."""
    done = subprocess.run(
        [node, str(RAIL_SERVER), "--print-entity", type_name, key],
        env=child_env({}),
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return json.loads(done.stdout)


async def post(
    gateway: Service,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> httpx.Response:
    headers = {"Accept": "application/graphql-response+json, application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client:
        return await client.post(
            gateway.graphql_url,
            json={"query": query, "variables": variables or {}},
            headers=headers,
        )


def refusals(payload: dict[str, Any]) -> list[list[Any]]:
    """Paths of the errors, each of which must be a field refusal."""
    errors: list[dict[str, Any]] = payload.get("errors", [])
    assert all(e.get("extensions", {}).get("code") == UNAUTHORIZED for e in errors), errors
    return sorted(e["path"] for e in errors)


def joined(box: Box, node: str, consignee: str | None) -> dict[str, Any]:
    next_call = rail_facts(node, "Vessel", box.imo)
    return {
        "container": {
            "number": box.number,
            "status": box.status,
            "consignee": consignee,
            "terminal": {"unlocode": box.unlocode, "smdgCode": box.smdg_code},
            "railLeg": rail_facts(node, "Container", box.number),
            "portCall": {
                "portVisitReference": box.port_visit_reference,
                "vessel": {"imo": box.imo, "name": box.vessel_name, "nextPortCall": next_call},
            },
        },
        "vessel": {"imo": box.imo, "name": box.vessel_name, "nextPortCall": next_call},
    }


# --- Composition ------------------------------------------------------------------------------


def assert_no_hints_to_fix(composition: Composition) -> None:
    assert re.search(r"composed harborgraph, rail -> .+ \(\d+ hint\(s\)\)", composition.stderr)
    ours = [hint for hint in composition.hints if "harborgraph" in hint.lower()]
    assert ours == [], f"composition hints about Harborgraph:\n{composition.stderr}"
    codes = {m.group(1) for h in composition.hints if (m := re.match(r"\[(\w+)\]", h))}
    assert codes <= ACCEPTED_HINT_CODES, f"unexpected composition hints:\n{composition.stderr}"


def test_our_sdl_composes_with_the_rail_subgraph_without_hints_to_fix(
    supergraph: Composition,
) -> None:
    assert_no_hints_to_fix(supergraph)


def test_the_committed_sdl_composes_with_the_rail_subgraph_too(
    node: str, rail_subgraph: Service, tmp_path: Path
) -> None:
    """The way deploy/gateway/subgraphs.json composes: our SDL from the committed file."""
    config = [
        {
            "name": "harborgraph",
            "url": "http://127.0.0.1:8000/graphql",
            "sdl": str(REPO / "schema" / "schema.graphql"),
        },
        {"name": "rail", "url": rail_subgraph.graphql_url},
    ]
    assert_no_hints_to_fix(compose(node, config, tmp_path, "committed"))


def test_the_supergraph_carries_our_field_rules_for_the_gateway(supergraph: Composition) -> None:
    sdl = supergraph.path.read_text()
    assert re.search(r"\bjoin__graph\(name: \"harborgraph\"", sdl)
    assert re.search(r"\bjoin__graph\(name: \"rail\"", sdl)
    consignee = re.search(r"^\s*consignee: String\b.*$", sdl, re.MULTILINE)
    assert consignee is not None, "Container.consignee is in the supergraph"
    assert '@requiresScopes(scopes: [["cargo:commercial"]])' in consignee.group(0)
    assert re.search(r"^\s*railLeg: RailLeg @join__field\(graph: RAIL\)", sdl, re.MULTILINE)


# --- Through the gateway ----------------------------------------------------------------------


async def test_a_container_joins_our_terminal_status_with_its_rail_leg(
    gateway: Service, tokens: Tokens, box: Box, node: str
) -> None:
    token = tokens.mint(box.org, "vessel:read", "cargo:read", "cargo:commercial")
    response = await post(gateway, JOINED, {"number": box.number, "imo": box.imo}, token)
    payload = response.json()
    assert response.status_code == 200, payload
    assert "errors" not in payload, payload["errors"]
    # The consignee is only there if the gateway passed the token on: anonymous callers see
    # no container at all in our subgraph.
    assert payload["data"] == joined(box, node, box.consignee)


async def test_without_the_commercial_scope_the_consignee_is_refused_and_the_rest_stands(
    gateway: Service, tokens: Tokens, box: Box, node: str
) -> None:
    token = tokens.mint(box.org, "vessel:read", "cargo:read")
    response = await post(gateway, JOINED, {"number": box.number, "imo": box.imo}, token)
    payload = response.json()
    assert response.status_code == 200, payload
    assert refusals(payload) == [["container", "consignee"]]
    assert payload["data"] == joined(box, node, None)


async def test_another_carriers_container_does_not_resolve(
    gateway: Service, tokens: Tokens, box: Box
) -> None:
    token = tokens.mint(box.other_org, "vessel:read", "cargo:read", "cargo:commercial")
    query = """
    query($number: String!) {
      container(number: $number) { number status consignee railLeg { trainId } }
    }
    """
    response = await post(gateway, query, {"number": box.number}, token)
    assert response.status_code == 200, response.text
    assert response.json() == {"data": {"container": None}}


async def test_a_vessel_joins_the_next_port_call_of_the_rail_subgraph(
    gateway: Service, tokens: Tokens, box: Box, node: str
) -> None:
    query = """
    query($imo: String!) { vessel(imo: $imo) { imo name nextPortCall { unlocode eta } } }
    """
    expected = {
        "vessel": {
            "imo": box.imo,
            "name": box.vessel_name,
            "nextPortCall": rail_facts(node, "Vessel", box.imo),
        }
    }
    for token in (None, tokens.mint(box.other_org, "vessel:read")):  # public schedule data
        response = await post(gateway, query, {"imo": box.imo}, token)
        assert response.status_code == 200, response.text
        assert response.json() == {"data": expected}


def _foreign_token(settings: Settings, org: str) -> str:
    """Well-formed and well-claimed, but signed by a key that is in no JWKS."""
    return mint_token(
        ec.generate_private_key(ec.SECP256R1()),
        kid="not-in-the-jwks",
        issuer=settings.jwt.issuer,
        audience=settings.jwt.audience,
        org=org,
        scopes=["cargo:read", "cargo:commercial"],
    )


def _expired_token(settings: Settings, org: str) -> str:
    keys = ensure_dev_keys(settings.data_dir)
    return mint_token(
        load_private_key(keys.private_key_path),
        kid=keys.kid,
        issuer=settings.jwt.issuer,
        audience=settings.jwt.audience,
        org=org,
        scopes=["cargo:read", "cargo:commercial"],
        ttl_seconds=600,
        now=int(time.time()) - 7200,
    )


@pytest.mark.parametrize(
    "kind", ["tampered signature", "unknown signing key", "expired", "garbage"]
)
async def test_a_bad_token_is_401_with_no_data(
    gateway: Service, tokens: Tokens, test_settings: Settings, box: Box, kind: str
) -> None:
    good = tokens.mint(box.org, "vessel:read", "cargo:read", "cargo:commercial")
    token = {
        "tampered signature": good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB"),
        "unknown signing key": _foreign_token(test_settings, box.org),
        "expired": _expired_token(test_settings, box.org),
        "garbage": "not-a-jwt",
    }[kind]
    response = await post(gateway, JOINED, {"number": box.number, "imo": box.imo}, token)
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert response.json().get("data") is None
