"""Persisted documents (issue 14): Automatic Persisted Queries in Apollo's protocol over POST,
GET and WebSockets, trusted documents from an Apollo persisted query manifest, and the
portal's manifest (`harborgraph manifest portal/operations`, written by `make`)."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from websockets.typing import Subprotocol

from graph.demo import mint_dev_token
from graph.documents import (
    MANIFEST_FORMAT,
    ManifestError,
    QueryCache,
    build_manifest,
    checked_manifest,
    load_manifest,
    manifest_json,
)
from graph.portal import OPERATIONS, PORTAL
from graph.settings import Settings, SettingsError, load_settings
from resolvers.sources import SourcePools
from tests.conftest import SqlCounter, Tokens, served
from tests.helpers import unique_name
from tests.servers import Server, server_env

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS_DIR = PORTAL / "operations"
GRAPHQL_RESPONSE = {"Accept": "application/graphql-response+json"}
NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ]
}
PROTOCOL = Subprotocol("graphql-transport-ws")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def by_id(key: str, version: object = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": key}}


def fresh_query() -> tuple[str, str]:
    """A document no other request of the session sent (the APQ store is per app), its hash."""
    query = f"query {unique_name('Apq')} {{ me {{ scopes }} }}"
    return query, sha(query)


def refusal(code: str, message: str) -> dict[str, Any]:
    return {"errors": [{"message": message, "extensions": {"code": code}}]}


@pytest.fixture
async def carrier_me(seeded_pools: SourcePools) -> dict[str, Any]:
    """What the portal's `Me` answers a token of MSCU with cargo:read."""
    name = await seeded_pools["community"].fetchval(
        "SELECT name FROM community.organization WHERE code = 'MSCU'"
    )
    return {
        "scopes": ["cargo:read"],
        "organization": {"code": "MSCU", "name": name, "kind": "CARRIER"},
    }


# --- The APQ store -------------------------------------------------------------------------


def test_the_store_keeps_the_most_recently_used_within_its_entries() -> None:
    cache = QueryCache(max_entries=2, max_bytes=10_000)
    cache.put("a", "{ a }")
    cache.put("b", "{ b }")
    assert cache.get("a") == "{ a }"  # now b is the least recently used
    cache.put("c", "{ c }")
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (
        "{ a }",
        None,
        "{ c }",
        2,
    )


def test_the_store_stays_within_its_bytes() -> None:
    cache = QueryCache(max_entries=100, max_bytes=30)
    cache.put("k1", "x" * 10)  # 12 bytes with its key
    cache.put("k2", "y" * 10)  # 24
    cache.put("k3", "é" * 5)  # 12 (two bytes a letter): 36 > 30, k1 goes
    assert (cache.get("k1"), cache.get("k2"), cache.get("k3")) == (None, "y" * 10, "é" * 5)
    assert cache.bytes == 24
    cache.put("k4", "z" * 40)  # larger than the whole store: not kept, nothing evicted
    assert (cache.get("k4"), len(cache), cache.bytes) == (None, 2, 24)


# --- APQ over HTTP -------------------------------------------------------------------------


@pytest.mark.parametrize("accept", ["application/graphql-response+json", "application/json"])
async def test_an_unknown_hash_is_persisted_query_not_found_with_200(
    app_client: httpx.AsyncClient, accept: str
) -> None:
    _, key = fresh_query()
    answer = await app_client.post(
        "/graphql", json={"extensions": by_id(key)}, headers={"Accept": accept}
    )
    assert (answer.status_code, answer.json()) == (200, NOT_FOUND)
    assert answer.headers["cache-control"] == "no-store"
    got = await app_client.get("/graphql", params={"extensions": json.dumps(by_id(key))})
    assert (got.status_code, got.json(), got.headers["cache-control"]) == (
        200,
        NOT_FOUND,
        "no-store",
    )


async def test_a_registered_query_runs_by_its_hash_over_post_and_get(
    app_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    query, key = fresh_query()
    registered = await app_client.post(
        "/graphql", json={"query": query, "extensions": by_id(key)}, headers=GRAPHQL_RESPONSE
    )
    assert (registered.status_code, registered.json()) == (200, {"data": {"me": {"scopes": []}}})
    hit = await app_client.post("/graphql", json={"extensions": by_id(key)})
    assert (hit.status_code, hit.json()) == (200, {"data": {"me": {"scopes": []}}})
    bearer = {"Authorization": f"Bearer {tokens.mint('MSCU', 'cargo:read')}"}
    mine = await app_client.post("/graphql", json={"extensions": by_id(key)}, headers=bearer)
    assert mine.json() == {"data": {"me": {"scopes": ["cargo:read"]}}}
    params = {"extensions": json.dumps(by_id(key))}
    got = await app_client.get("/graphql", params=params)
    assert (got.status_code, got.json()) == (200, {"data": {"me": {"scopes": []}}})


async def test_an_anonymous_persisted_get_may_be_cached_by_a_cdn_a_partners_never(
    app_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    query, key = fresh_query()
    await app_client.post("/graphql", json={"query": query, "extensions": by_id(key)})
    params = {"extensions": json.dumps(by_id(key))}
    anonymous = await app_client.get("/graphql", params=params)
    assert anonymous.headers["cache-control"] == "public, max-age=30"
    assert anonymous.headers["vary"] == "Accept, Authorization"
    bearer = {"Authorization": f"Bearer {tokens.mint('MSCU', 'cargo:read')}"}
    partner = await app_client.get("/graphql", params=params, headers=bearer)
    assert partner.json() == {"data": {"me": {"scopes": ["cargo:read"]}}}
    assert partner.headers["cache-control"] == "no-store"
    assert partner.headers["vary"] == "Accept, Authorization"
    # The same query with its text in the URL, or by POST: never cacheable.
    plain = await app_client.get("/graphql", params={"query": query})
    posted = await app_client.post("/graphql", json={"extensions": by_id(key)})
    assert (plain.headers["cache-control"], posted.headers["cache-control"]) == (
        "no-store",
        "no-store",
    )


async def test_an_anonymous_answer_with_an_error_is_not_cached(
    app_client: httpx.AsyncClient,
) -> None:
    name = unique_name("Denied")
    query = f"query {name} {{ containers(first: 1) {{ edges {{ node {{ number }} }} }} }}"
    key = sha(query)
    await app_client.post("/graphql", json={"query": query, "extensions": by_id(key)})
    denied = await app_client.get("/graphql", params={"extensions": json.dumps(by_id(key))})
    assert denied.json()["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    assert denied.headers["cache-control"] == "no-store"


async def test_a_registration_over_get_then_the_hash_alone(app_client: httpx.AsyncClient) -> None:
    query, key = fresh_query()
    extensions = json.dumps(by_id(key))
    registered = await app_client.get("/graphql", params={"query": query, "extensions": extensions})
    assert registered.json() == {"data": {"me": {"scopes": []}}}
    hit = await app_client.get("/graphql", params={"extensions": extensions})
    assert (hit.status_code, hit.json()) == (200, {"data": {"me": {"scopes": []}}})


async def test_a_hash_that_is_not_the_querys_is_400_and_registers_nothing(
    app_client: httpx.AsyncClient,
) -> None:
    query, _ = fresh_query()
    _, other = fresh_query()
    answer = await app_client.post("/graphql", json={"query": query, "extensions": by_id(other)})
    assert (answer.status_code, answer.json()) == (
        400,
        refusal("PERSISTED_QUERY_HASH_MISMATCH", "`sha256Hash` is not the SHA-256 of `query`"),
    )
    after = await app_client.post("/graphql", json={"extensions": by_id(other)})
    assert after.json() == NOT_FOUND


@pytest.mark.parametrize(
    ("persisted", "message"),
    [
        ({"version": 2}, "Unsupported persisted query version: only 1 is"),
        ({"version": "1"}, "Unsupported persisted query version: only 1 is"),
        ({"version": True}, "Unsupported persisted query version: only 1 is"),
        ({}, "Unsupported persisted query version: only 1 is"),
        (
            {"version": 1, "sha256Hash": "abc"},
            "`extensions.persistedQuery.sha256Hash` must be a SHA-256 hash in hex",
        ),
        (
            {"version": 1, "sha256Hash": 7},
            "`extensions.persistedQuery.sha256Hash` must be a SHA-256 hash in hex",
        ),
    ],
)
async def test_a_malformed_persisted_query_is_400(
    app_client: httpx.AsyncClient, persisted: dict[str, Any], message: str
) -> None:
    query, key = fresh_query()
    body = {"query": query, "extensions": {"persistedQuery": {"sha256Hash": key, **persisted}}}
    answer = await app_client.post("/graphql", json=body)
    assert (answer.status_code, answer.json()) == (400, refusal("BAD_REQUEST", message))
    got = await app_client.get("/graphql", params={"extensions": json.dumps(body["extensions"])})
    assert (got.status_code, got.json()) == (400, refusal("BAD_REQUEST", message))


async def test_persisted_query_must_be_an_object(app_client: httpx.AsyncClient) -> None:
    answer = await app_client.post("/graphql", json={"extensions": {"persistedQuery": "x"}})
    assert (answer.status_code, answer.json()) == (
        400,
        refusal("BAD_REQUEST", "`extensions.persistedQuery` must be an object"),
    )


async def test_a_document_that_does_not_parse_is_not_registered(
    app_client: httpx.AsyncClient,
) -> None:
    query = f"query {unique_name('Broken')} {{ me {{"
    key = sha(query)
    answer = await app_client.post(
        "/graphql", json={"query": query, "extensions": by_id(key)}, headers=GRAPHQL_RESPONSE
    )
    assert answer.status_code == 400
    assert answer.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert (await app_client.post("/graphql", json={"extensions": by_id(key)})).json() == NOT_FOUND


async def test_a_mutation_by_hash_over_get_is_still_405(app_client: httpx.AsyncClient) -> None:
    name = unique_name("Publish")
    query = f"mutation {name} {{ publishEvents(events: []) {{ stored }} }}"
    key = sha(query)
    registered = await app_client.post("/graphql", json={"query": query, "extensions": by_id(key)})
    assert registered.json()["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    got = await app_client.get("/graphql", params={"extensions": json.dumps(by_id(key))})
    assert (got.status_code, got.headers["allow"]) == (405, "POST")
    assert got.json() == refusal("METHOD_NOT_ALLOWED", "mutations must be sent with POST")


# --- Trusted documents ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def manifest_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The portal's manifest, as `make` writes it."""
    path = tmp_path_factory.mktemp("trusted") / "manifest.json"
    path.write_text(manifest_json(build_manifest([OPERATIONS_DIR])))
    return path


@pytest.fixture
async def trusted_client(
    test_settings: Settings, seeded_url: str, sql_counter: SqlCounter, manifest_file: Path
) -> AsyncIterator[httpx.AsyncClient]:
    from graph.database import source_dsns

    settings = dataclasses.replace(test_settings, trusted_documents=manifest_file)
    async with served(settings, source_dsns(settings, seeded_url), sql_counter) as client:
        yield client


def portal_id(name: str) -> str:
    return sha((OPERATIONS_DIR / f"{name}.graphql").read_text())


async def test_a_listed_id_runs_over_post_and_get(
    trusted_client: httpx.AsyncClient, tokens: Tokens, carrier_me: dict[str, Any]
) -> None:
    bearer = {"Authorization": f"Bearer {tokens.mint('MSCU', 'cargo:read')}"}
    body = {"extensions": by_id(portal_id("Me")), "operationName": "Me"}
    me = carrier_me
    posted = await trusted_client.post("/graphql", json=body, headers=bearer)
    assert (posted.status_code, posted.json()) == (200, {"data": {"me": me}})
    params = {"extensions": json.dumps(body["extensions"]), "operationName": "Me"}
    got = await trusted_client.get("/graphql", params=params, headers=bearer)
    assert (got.status_code, got.json()) == (200, {"data": {"me": me}})


async def test_a_free_form_document_is_refused_with_persisted_query_id_required(
    trusted_client: httpx.AsyncClient,
) -> None:
    expected = refusal(
        "PERSISTED_QUERY_ID_REQUIRED",
        "only trusted documents run here: send the operation's id in "
        "`extensions.persistedQuery.sha256Hash`, without `query`",
    )
    posted = await trusted_client.post("/graphql", json={"query": "{ me { scopes } }"})
    assert (posted.status_code, posted.json()) == (400, expected)
    got = await trusted_client.get("/graphql", params={"query": "{ me { scopes } }"})
    assert (got.status_code, got.json()) == (400, expected)


async def test_a_registration_is_refused_even_of_a_listed_document(
    trusted_client: httpx.AsyncClient,
) -> None:
    text = (OPERATIONS_DIR / "Me.graphql").read_text()
    for query, key in ((text, sha(text)), fresh_query()):
        answer = await trusted_client.post(
            "/graphql", json={"query": query, "extensions": by_id(key)}
        )
        assert (answer.status_code, answer.json()) == (
            400,
            refusal(
                "CANNOT_SEND_PQ_ID_AND_BODY",
                "send a trusted document's id without `query`: documents are not registered here",
            ),
        )
    _, unlisted = fresh_query()
    assert (
        await trusted_client.post("/graphql", json={"extensions": by_id(unlisted)})
    ).status_code == 404


async def test_an_unknown_id_is_404_persisted_query_not_in_list(
    trusted_client: httpx.AsyncClient,
) -> None:
    key = "0" * 64
    expected = refusal("PERSISTED_QUERY_NOT_IN_LIST", f"no trusted document has the id '{key}'")
    posted = await trusted_client.post("/graphql", json={"extensions": by_id(key)})
    assert (posted.status_code, posted.json()) == (404, expected)
    assert posted.headers["cache-control"] == "no-store"
    got = await trusted_client.get("/graphql", params={"extensions": json.dumps(by_id(key))})
    assert (got.status_code, got.json()) == (404, expected)


# --- The manifest --------------------------------------------------------------------------


def manifest_with(**changes: Any) -> dict[str, Any]:
    body = "query Me { me { scopes } }"
    operation = {"id": sha(body), "name": "Me", "type": "query", "body": body}
    manifest: dict[str, Any] = {
        "format": MANIFEST_FORMAT,
        "version": 1,
        "operations": [operation],
    }
    for key, value in changes.items():
        if key in operation:
            operation[key] = value
        else:
            manifest[key] = value
    return manifest


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"format": "relay"}, '`format` must be "apollo-persisted-query-manifest"'),
        ({"version": 2}, "`version` must be 1"),
        ({"operations": []}, "`operations` must be a non-empty list"),
        ({"id": "0" * 64}, "operations[0] (Me): `id` is not the SHA-256 of its `body`"),
        ({"type": "mutation"}, "operations[0]: the body has no mutation named 'Me'"),
        ({"type": "fetch"}, "operations[0]: `type` must be one of query, mutation, subscription"),
        ({"name": "You"}, "operations[0]: the body has no query named 'You'"),
        ({"name": None}, "operations[0]: `name` must be a non-empty string"),
        (
            {"body": "query Me {", "id": sha("query Me {")},
            "operations[0] (Me): the body does not parse: Syntax Error: Expected Name, found <EOF>.",
        ),
    ],
)
def test_a_bad_manifest_is_refused_naming_the_problem(
    changes: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ManifestError) as refused:
        checked_manifest(manifest_with(**changes))
    assert str(refused.value) == problem


def test_a_good_manifest_maps_ids_to_bodies() -> None:
    body = "query Me { me { scopes } }"
    assert checked_manifest(manifest_with()) == {sha(body): body}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"{not json", "not JSON"),
        (json.dumps(manifest_with(version=3)).encode(), "`version` must be 1"),
    ],
)
def test_a_bad_file_stops_the_app_naming_the_variable(
    test_settings: Settings, tmp_path: Path, content: bytes, problem: str
) -> None:
    from graph.app import create_app

    path = tmp_path / "manifest.json"
    path.write_bytes(content)
    settings = dataclasses.replace(test_settings, trusted_documents=path)
    with pytest.raises(SettingsError) as refused:
        create_app(settings, {})
    assert refused.value.variable == "HARBORGRAPH_TRUSTED_DOCUMENTS"
    assert str(refused.value) == f"HARBORGRAPH_TRUSTED_DOCUMENTS: {path}: {problem}"


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "absent.json"
    with pytest.raises(SettingsError) as refused:
        load_manifest(path)
    assert str(refused.value) == (
        f"HARBORGRAPH_TRUSTED_DOCUMENTS: cannot read {path}: No such file or directory"
    )


def test_harborgraph_serve_refuses_a_bad_file_before_anything_starts(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest_with(id="f" * 64)))
    env = server_env(
        "postgresql://nobody@127.0.0.1:1/none", tmp_path, HARBORGRAPH_TRUSTED_DOCUMENTS=str(path)
    )
    done = subprocess.run(
        [sys.executable, "-m", "graph.cli", "serve"],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1] == (
        f"harborgraph: HARBORGRAPH_TRUSTED_DOCUMENTS: {path}: "
        "operations[0] (Me): `id` is not the SHA-256 of its `body`"
    )


def test_the_portals_manifest_lists_each_operation_by_the_sha256_of_its_file() -> None:
    manifest = build_manifest([OPERATIONS_DIR])
    assert [o["name"] for o in manifest["operations"]] == sorted(OPERATIONS)
    for operation in manifest["operations"]:
        raw = (OPERATIONS_DIR / f"{operation['name']}.graphql").read_bytes()
        assert operation["body"].encode() == raw
        assert operation["id"] == hashlib.sha256(raw).hexdigest()
    kinds = {o["name"]: o["type"] for o in manifest["operations"]}
    assert kinds["ContainerEvents"] == "subscription"
    assert kinds["Me"] == "query"
    assert checked_manifest(manifest)  # what the server loads


def test_the_command_writes_the_same_bytes_every_time() -> None:
    command = [sys.executable, "-m", "graph.cli", "manifest", str(OPERATIONS_DIR)]
    runs = [
        subprocess.run(command, capture_output=True, check=True, cwd=ROOT, timeout=60).stdout
        for _ in range(2)
    ]
    assert runs[0] == runs[1] == manifest_json(build_manifest([OPERATIONS_DIR])).encode()
    written = PORTAL / "persisted-query-manifest.json"  # by `make run` / `make test`
    if written.exists():
        assert written.read_bytes() == runs[0], "stale: run make to write it again"


def test_the_command_refuses_a_file_without_one_named_operation(tmp_path: Path) -> None:
    (tmp_path / "Two.graphql").write_text("query A { me { scopes } }\nquery B { me { scopes } }\n")
    command = [sys.executable, "-m", "graph.cli", "manifest", str(tmp_path)]
    done = subprocess.run(
        command, capture_output=True, text=True, cwd=ROOT, timeout=60, check=False
    )
    assert done.returncode == 1
    assert done.stderr.strip() == (
        f"harborgraph: {tmp_path / 'Two.graphql'}: must hold exactly one operation, with a name"
    )


HASH_IN_NODE = """
const source = require("fs").readFileSync(process.argv[1], "utf8");
const found = source.match(/async function sha256Hex[\\s\\S]*?\\n}\\n/);
if (!found) throw new Error("portal.js has no sha256Hex");
const sha256Hex = eval(`(${found[0]})`);
const texts = JSON.parse(require("fs").readFileSync(0, "utf8"));
Promise.all(texts.map(sha256Hex)).then((ids) => console.log(JSON.stringify(ids)));
"""


async def test_the_portal_computes_the_manifests_ids_from_the_served_text(
    app_client: httpx.AsyncClient,
) -> None:
    """portal.js's own sha256Hex (Web Crypto, as in the browser) over the operation files
    as the app serves them gives the ids `harborgraph manifest` lists."""
    texts = []
    for name in OPERATIONS:
        served_file = await app_client.get(f"/portal/operations/{name}.graphql")
        texts.append(served_file.content.decode("utf-8-sig"))  # as fetch().text() decodes
    process = await asyncio.create_subprocess_exec(
        "node", "-e", HASH_IN_NODE, str(PORTAL / "portal.js"),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(json.dumps(texts).encode()), 60)
    assert process.returncode == 0, err.decode()
    listed = {o["name"]: o["id"] for o in build_manifest([OPERATIONS_DIR])["operations"]}
    assert dict(zip(OPERATIONS, json.loads(out), strict=True)) == listed


# --- Over WebSockets -------------------------------------------------------------------------


@pytest.fixture
async def servers(
    writable_url: str, tmp_path: Path, manifest_file: Path
) -> AsyncIterator[tuple[Server, Server]]:
    """One server with APQ (the default), one with the portal's trusted documents."""
    data = tmp_path / "data"
    (tmp_path / "open").mkdir()
    (tmp_path / "trusted").mkdir()
    trusted_env = {"HARBORGRAPH_TRUSTED_DOCUMENTS": str(manifest_file)}
    pair = (
        Server(writable_url, server_env(writable_url, data), tmp_path / "open"),
        Server(writable_url, server_env(writable_url, data, **trusted_env), tmp_path / "trusted"),
    )
    try:
        await asyncio.gather(*(s.start() for s in pair))
        yield pair
    finally:
        await asyncio.gather(*(s.stop() for s in pair))


async def ws_answers(
    server: Server, bearer: str, payloads: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Each subscribe's first answer (`next` or `error`), one operation at a time."""
    url = server.base.replace("http://", "ws://") + "/graphql"
    async with websockets.connect(url, subprotocols=[PROTOCOL]) as socket:
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {bearer}"}}
        await socket.send(json.dumps(init))
        assert json.loads(await socket.recv()) == {"type": "connection_ack"}
        answers = []
        for number, payload in enumerate(payloads):
            message = {"type": "subscribe", "id": str(number), "payload": payload}
            await socket.send(json.dumps(message))
            async with asyncio.timeout(10):
                answer = json.loads(await socket.recv())
            answers.append({k: v for k, v in answer.items() if k != "id"})
            if answer["type"] == "next":
                assert json.loads(await socket.recv()) == {"type": "complete", "id": str(number)}
    return answers


def server_token(server: Server) -> str:
    return mint_dev_token(load_settings(server.env), org="MSCU", scopes=["cargo:read"], ttl=600)


async def test_websockets_follow_the_same_rules(
    servers: tuple[Server, Server], carrier_me: dict[str, Any]
) -> None:
    open_server, trusted_server = servers
    me = carrier_me
    text = (OPERATIONS_DIR / "Me.graphql").read_text()
    hash_only = {"operationName": "Me", "extensions": by_id(sha(text))}
    with_text = {**hash_only, "query": text}
    found = {"type": "next", "payload": {"data": {"me": me}}}
    # APQ: not found, registered with its text, then found by its hash alone.
    apq = await ws_answers(
        open_server, server_token(open_server), [hash_only, with_text, hash_only]
    )
    assert apq == [{"type": "error", "payload": NOT_FOUND["errors"]}, found, found]
    # Trusted documents: the listed id runs; a free-form document or a registration does not.
    payloads: list[dict[str, Any]] = [hash_only, {"query": text}, with_text]
    answers = await ws_answers(trusted_server, server_token(trusted_server), payloads)
    assert [a["type"] for a in answers] == ["next", "error", "error"]
    assert answers[0] == found
    codes = [a["payload"][0]["extensions"]["code"] for a in answers[1:]]
    assert codes == ["PERSISTED_QUERY_ID_REQUIRED", "CANNOT_SEND_PQ_ID_AND_BODY"]
