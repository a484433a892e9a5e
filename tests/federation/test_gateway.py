"""Harborgraph behind a real gateway, with a second organisation's subgraph.

Our subgraph (uvicorn), the "Pacific Harbor Line" rail subgraph (Node, `@apollo/subgraph`)
and Hive Gateway run as processes on 127.0.0.1 (see conftest.py); the supergraph is
composed by `deploy/gateway/compose.mjs` with `@apollo/composition`. Every request below goes
through the gateway with real access tokens signed by the subgraph's development key, which
the gateway reads from the subgraph's JWKS. Our values are read with SQL from the seeded
database; the rail subgraph's are what it prints for the same key (`--print-entity`).

The partner's token is a bearer credential for Harborgraph: by default the gateway passes it
to the `harborgraph` subgraph only, never to the rail operator's (which reports, through a
test hook, whether its requests carried an Authorization header).
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from graph.keys import (
    ACCESS_TOKEN_TYPE,
    algorithm_for,
    ensure_dev_keys,
    load_private_key,
    mint_token,
)
from graph.settings import Settings
from resolvers.sources import SourcePools
from tests.conftest import Tokens
from tests.federation.conftest import (
    GATEWAY_DIR,
    HIVE_BIN,
    RAIL_SERVER,
    REPO,
    START_TIMEOUT_S,
    Composition,
    Process,
    Service,
    child_env,
    compose,
    free_port,
    run_compose,
    running_gateway,
    seen_authorization,
)

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
    authorization: str | None = None,
) -> httpx.Response:
    """POST to the gateway, with `Authorization: Bearer <token>` (or `authorization` as is)."""
    headers = {"Accept": "application/graphql-response+json, application/json"}
    if token is not None:
        authorization = f"Bearer {token}"
    if authorization is not None:
        headers["Authorization"] = authorization
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


def _claims(settings: Settings, org: str) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": settings.jwt.issuer,
        "aud": settings.jwt.audience,
        "sub": f"{org}:cli",
        "org": org,
        "iat": now,
        "exp": now + 600,
        "scope": "cargo:read cargo:commercial",
    }


def _dev_key_token(
    settings: Settings,
    org: str,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
) -> str:
    """Signed by the subgraph's own (published) key, with a header or claims changed."""
    keys = ensure_dev_keys(settings.data_dir)
    key = load_private_key(keys.private_key_path)
    payload = {**_claims(settings, org), **(claims or {})}
    for claim in drop:
        del payload[claim]
    return jwt.encode(
        payload,
        key,
        algorithm=algorithm_for(key),
        headers={"typ": ACCESS_TOKEN_TYPE, "kid": keys.kid, **(header or {})},
    )


def _unsigned_token(settings: Settings, org: str) -> str:
    def b64(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none', 'typ': ACCESS_TOKEN_TYPE})}.{b64(_claims(settings, org))}."


BAD_TOKEN_KINDS = [
    "tampered signature",
    "unknown signing key",
    "expired",
    "garbage",
    "wrong audience",
    "wrong issuer",
    "typ JWT instead of at+jwt",
    "missing sub claim",
    "alg none",
    "Basic credentials",
]


def _bad_authorization(kind: str, good: str, settings: Settings, org: str) -> str:
    """An Authorization header value the gateway must refuse."""
    match kind:
        case "tampered signature":
            return "Bearer " + good[:-6] + ("AAAAAA" if not good.endswith("AAAAAA") else "BBBBBB")
        case "unknown signing key":
            return "Bearer " + _foreign_token(settings, org)
        case "expired":
            return "Bearer " + _expired_token(settings, org)
        case "garbage":
            return "Bearer not-a-jwt"
        case "wrong audience":
            return "Bearer " + _dev_key_token(settings, org, claims={"aud": "someone-else"})
        case "wrong issuer":
            return "Bearer " + _dev_key_token(settings, org, claims={"iss": "http://evil.test"})
        case "typ JWT instead of at+jwt":
            return "Bearer " + _dev_key_token(settings, org, header={"typ": "JWT"})
        case "missing sub claim":
            return "Bearer " + _dev_key_token(settings, org, drop=("sub",))
        case "alg none":
            return "Bearer " + _unsigned_token(settings, org)
        case "Basic credentials":
            return "Basic dXNlcjpwYXNz"
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", BAD_TOKEN_KINDS)
async def test_a_bad_token_is_401_with_no_data(
    gateway: Service, tokens: Tokens, test_settings: Settings, box: Box, kind: str
) -> None:
    good = tokens.mint(box.org, "vessel:read", "cargo:read", "cargo:commercial")
    header = _bad_authorization(kind, good, test_settings, box.org)
    response = await post(
        gateway, JOINED, {"number": box.number, "imo": box.imo}, authorization=header
    )
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"].startswith('Bearer error="invalid_token"')
    assert response.json().get("data") is None


async def test_anonymous_callers_get_the_public_part_and_a_refusal_for_the_rest(
    gateway: Service, box: Box, node: str
) -> None:
    response = await post(gateway, JOINED, {"number": box.number, "imo": box.imo})
    payload = response.json()
    assert response.status_code == 200, payload
    assert refusals(payload) == [["container"]]
    assert payload["data"] == {"container": None, "vessel": joined(box, node, None)["vessel"]}


async def test_a_refusal_is_reported_at_the_aliased_path_inside_a_fragment(
    gateway: Service, tokens: Tokens, box: Box, node: str
) -> None:
    query = """
    query($number: String!) { c: container(number: $number) { ...F railLeg { trainId } } }
    fragment F on Container { who: consignee status }
    """
    token = tokens.mint(box.org, "cargo:read")
    response = await post(gateway, query, {"number": box.number}, token)
    payload = response.json()
    assert response.status_code == 200, payload
    assert refusals(payload) == [["c", "who"]]
    train_id = rail_facts(node, "Container", box.number)["trainId"]
    assert payload["data"] == {
        "c": {"who": None, "status": box.status, "railLeg": {"trainId": train_id}}
    }


# --- Who receives the partner's token ---------------------------------------------------------

RAIL_AND_CONSIGNEE = """
query($number: String!) { container(number: $number) { number consignee railLeg { trainId } } }
"""


async def test_the_rail_subgraph_does_not_receive_the_partners_token_by_default(
    gateway: Service, rail_subgraph: Service, tokens: Tokens, box: Box, node: str
) -> None:
    before = await seen_authorization(rail_subgraph)
    token = tokens.mint(box.org, "cargo:read", "cargo:commercial")
    response = await post(gateway, RAIL_AND_CONSIGNEE, {"number": box.number}, token)
    assert response.status_code == 200, response.text
    # Harborgraph got the token (the consignee needs it) and the rail subgraph was asked...
    assert response.json() == {
        "data": {
            "container": {
                "number": box.number,
                "consignee": box.consignee,
                "railLeg": {"trainId": rail_facts(node, "Container", box.number)["trainId"]},
            }
        }
    }
    after = await seen_authorization(rail_subgraph)
    assert after.requests > before.requests
    # ... without an Authorization header.
    assert after.with_authorization == before.with_authorization

    # The hook does see one when it is there (so the check above is not vacuous).
    async with httpx.AsyncClient(timeout=REQUEST_TIMEOUT_S) as client:
        direct = await client.post(
            rail_subgraph.graphql_url,
            json={"query": "{ __typename }"},
            headers={"Authorization": "Bearer not-a-partner-token"},
        )
    assert direct.status_code == 200, direct.text
    last = await seen_authorization(rail_subgraph)
    assert last.with_authorization == after.with_authorization + 1


@pytest.fixture(scope="module")
def gateway_forwarding_to_rail(
    node: str,
    supergraph: Composition,
    gateway_env: dict[str, str],
    federation_logs: Path,
) -> Iterator[Service]:
    """Rail opted in explicitly; the JWKS named by the older alias HARBORGRAPH_JWKS_URL."""
    env = {k: v for k, v in gateway_env.items() if k != "HARBORGRAPH_JWT_JWKS_URL"}
    env["HARBORGRAPH_JWKS_URL"] = gateway_env["HARBORGRAPH_JWT_JWKS_URL"]
    env["GATEWAY_FORWARD_AUTH_TO"] = "harborgraph, rail"
    with running_gateway(node, supergraph, env, federation_logs, "gateway-rail-opt-in") as gw:
        yield gw


async def test_forwarding_to_another_subgraph_is_an_explicit_opt_in(
    gateway_forwarding_to_rail: Service,
    rail_subgraph: Service,
    tokens: Tokens,
    box: Box,
) -> None:
    before = await seen_authorization(rail_subgraph)
    token = tokens.mint(box.org, "cargo:read", "cargo:commercial")
    response = await post(
        gateway_forwarding_to_rail, RAIL_AND_CONSIGNEE, {"number": box.number}, token
    )
    assert response.status_code == 200, response.text
    container = response.json()["data"]["container"]
    # The token was verified with keys from the alias's JWKS URL and reached Harborgraph.
    assert container["consignee"] == box.consignee
    after = await seen_authorization(rail_subgraph)
    assert after.requests > before.requests
    assert after.with_authorization - before.with_authorization == after.requests - before.requests


def test_the_gateway_refuses_two_different_jwks_urls(
    node: str, supergraph: Composition, gateway_env: dict[str, str], federation_logs: Path
) -> None:
    env = {
        **gateway_env,
        "HARBORGRAPH_JWKS_URL": "http://127.0.0.1:9/.well-known/jwks.json",
        "GATEWAY_PORT": str(free_port()),
    }
    process = Process(
        "gateway-two-jwks-urls",
        [node, str(HIVE_BIN), "supergraph", str(supergraph.path)],
        env,
        federation_logs,
        cwd=GATEWAY_DIR,
    )
    try:
        code = process.popen.wait(timeout=START_TIMEOUT_S)
    finally:
        process.stop()
    assert code != 0, process.output
    assert "HARBORGRAPH_JWT_JWKS_URL and HARBORGRAPH_JWKS_URL are both set" in process.output


# --- Failure modes ----------------------------------------------------------------------------


async def test_an_unreachable_jwks_is_503_for_tokens_and_anonymous_requests_still_work(
    node: str,
    supergraph: Composition,
    gateway_env: dict[str, str],
    federation_logs: Path,
    tokens: Tokens,
    box: Box,
) -> None:
    dead = f"http://127.0.0.1:{free_port()}/.well-known/jwks.json"
    env = {**gateway_env, "HARBORGRAPH_JWT_JWKS_URL": dead}
    query = "query($imo: String!) { vessel(imo: $imo) { imo name } }"
    with running_gateway(node, supergraph, env, federation_logs, "gateway-no-jwks") as gw:
        token = tokens.mint(box.org, "vessel:read")
        with_token = await post(gw, query, {"imo": box.imo}, token)
        anonymous = await post(gw, query, {"imo": box.imo})
    assert with_token.status_code == 503, with_token.text
    assert with_token.json()["errors"][0]["extensions"]["code"] == "AUTHENTICATION_UNAVAILABLE"
    assert anonymous.status_code == 200, anonymous.text
    assert anonymous.json() == {"data": {"vessel": {"imo": box.imo, "name": box.vessel_name}}}


COMMITTED_SDL = {
    "name": "harborgraph",
    "url": "http://127.0.0.1:8000/graphql",
    "sdl": str(REPO / "schema" / "schema.graphql"),
}
CLASH_SDL = (
    'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])\n'
    'type Container @key(fields: "number") { number: Int! }\n'
)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("unreadable SDL file", r"cannot read SDL file .*no-such-file\.graphql"),
        ("conflicting field types", r"\[FIELD_TYPE_MISMATCH\]"),
        ("duplicate subgraph name", r'duplicate name "harborgraph"'),
    ],
)
def test_compose_fails_cleanly_and_writes_nothing(
    node: str, tmp_path: Path, case: str, expected: str
) -> None:
    (tmp_path / "clash.graphql").write_text(CLASH_SDL)
    clash = {"name": "clash", "url": "http://127.0.0.1:9/graphql", "sdl": "clash.graphql"}
    other = {
        "unreadable SDL file": {**clash, "name": "missing", "sdl": "no-such-file.graphql"},
        "conflicting field types": clash,
        "duplicate subgraph name": {**clash, "name": "harborgraph"},
    }[case]
    config = tmp_path / "broken.json"
    config.write_text(json.dumps([COMMITTED_SDL, other]))
    out = tmp_path / "never-written.graphql"
    done = run_compose(node, config, out)
    assert done.returncode == 1, done.stderr
    assert "composition failed" in done.stderr
    assert re.search(expected, done.stderr), done.stderr
    assert not out.exists()
