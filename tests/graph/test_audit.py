"""Audit: commercial reads and denials leave one log line and one row each, off the request path.

The trail is shared by every test of the session, so each test names its operation uniquely
(`query Name…` with the matching `operationName`) and reads back only the rows of that name.
"""

from __future__ import annotations

import datetime
import json
import logging
from typing import Any

import httpx
import pytest

from graph.audit import AuditSink
from graph.database import create_pool
from graph.settings import Settings
from resolvers.community import AuditRecord
from resolvers.sources import SourcePools
from tests.conftest import Api, Tokens
from tests.helpers import audit_rows, flush_audit, post_named, unique_name


def consignee_query(name: str) -> str:
    return f"query {name}($n: String!) {{ container(number: $n) {{ number consignee }} }}"


async def _own_container(pools: SourcePools, scac: str) -> str:
    number: str = await pools["cargo"].fetchval(
        """SELECT cv.equipment_reference FROM cargo.container_visit cv
           WHERE cv.carrier_scac = $1 AND cv.transport_document_reference IS NOT NULL
           ORDER BY cv.equipment_reference LIMIT 1""",
        scac,
    )
    return number


async def test_commercial_read_is_audited(
    api: Api,
    app_client: httpx.AsyncClient,
    tokens: Tokens,
    seeded_pools: SourcePools,
    caplog: pytest.LogCaptureFixture,
) -> None:
    number = await _own_container(seeded_pools, "MSCU")
    token = tokens.mint("MSCU", "cargo:read", "cargo:commercial")
    name = unique_name("Consignee")
    with caplog.at_level(logging.INFO, logger="harborgraph.audit"):
        response = await post_named(api, name, consignee_query(name), {"n": number}, token)
    assert response.status_code == 200
    assert response.json()["data"]["container"]["number"] == number
    await flush_audit(app_client)
    assert await audit_rows(seeded_pools, name) == [
        {
            "organization_code": "MSCU",
            "subject": "MSCU:cli",
            "operation_name": name,
            "fields": ["Container.consignee"],
            "rows_counted": 1,
            "denials": "{}",
        }
    ]
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "harborgraph.audit"]
    (line,) = [line for line in lines if line["operation"] == name]
    assert line["fields"] == ["Container.consignee"]
    assert line["organization"] == "MSCU"
    assert line["rows"] == 1
    assert line["denials"] == {}


async def test_denial_is_audited(
    api: Api, app_client: httpx.AsyncClient, tokens: Tokens, seeded_pools: SourcePools
) -> None:
    number = await _own_container(seeded_pools, "MSCU")
    token = tokens.mint("MSCU", "cargo:read")
    name = unique_name("DeniedConsignee")
    response = await post_named(api, name, consignee_query(name), {"n": number}, token)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    await flush_audit(app_client)
    (row,) = await audit_rows(seeded_pools, name)
    assert row["organization_code"] == "MSCU"
    assert row["fields"] == []
    assert row["rows_counted"] == 0
    assert json.loads(row["denials"]) == {"Container.consignee": 1}


async def test_public_read_is_not_audited(
    api: Api, app_client: httpx.AsyncClient, tokens: Tokens, seeded_pools: SourcePools
) -> None:
    public = unique_name("PublicMe")
    response = await post_named(api, public, f"query {public} {{ me {{ scopes }} }}")
    assert response.status_code == 200
    assert "errors" not in response.json()
    # An audited request after it, with its own name: once its row is in, the writer has
    # passed the public request too, and names are recorded (so "no row" means "not audited").
    number = await _own_container(seeded_pools, "MSCU")
    witness = unique_name("Witness")
    token = tokens.mint("MSCU", "cargo:read", "cargo:commercial")
    await post_named(api, witness, consignee_query(witness), {"n": number}, token)
    await flush_audit(app_client)
    assert len(await audit_rows(seeded_pools, witness)) == 1
    assert await audit_rows(seeded_pools, public) == []


async def test_port_authority_reads_the_trail(
    api: Api, app_client: httpx.AsyncClient, tokens: Tokens, seeded_pools: SourcePools
) -> None:
    carrier = tokens.mint("MSCU", "cargo:read", "cargo:commercial")
    name = unique_name("CarrierReadsTrail")
    query = f"query {name} {{ auditEvents(first: 5) {{ edges {{ cursor }} }} }}"
    refused = (await post_named(api, name, query, token=carrier)).json()
    assert refused["data"] == {"auditEvents": None}
    assert refused["errors"][0]["path"] == ["auditEvents"]
    assert refused["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    await flush_audit(app_client)
    (row,) = await audit_rows(seeded_pools, name)
    _, token = tokens.partner("PORT_AUTHORITY")
    trail = """
    query Trail($after: String) {
      auditEvents(first: 100, after: $after) {
        edges { node { organizationCode subject operationName fields rowsCounted denials } }
        pageInfo { hasNextPage endCursor }
      }
    }
    """
    found: list[dict[str, Any]] = []
    after = None
    for _ in range(100):  # bounded: the trail of one test session is far shorter
        page = (await api.data(trail, {"after": after}, token))["auditEvents"]
        found += [e["node"] for e in page["edges"] if e["node"]["operationName"] == name]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    else:
        raise AssertionError("the audit trail did not end within 100 pages")
    assert found == [
        {
            "organizationCode": "MSCU",
            "subject": row["subject"],
            "operationName": name,
            "fields": [],
            "rowsCounted": 0,
            "denials": {"Query.auditEvents": 1},
        }
    ]


async def test_operation_named_only_in_the_document_is_recorded(
    api: Api, app_client: httpx.AsyncClient, tokens: Tokens, seeded_pools: SourcePools
) -> None:
    name = unique_name("DocumentOnly")
    number = await _own_container(seeded_pools, "MSCU")
    token = tokens.mint("MSCU", "cargo:read")
    response = await api.post(consignee_query(name), {"n": number}, token)
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHORIZED_FIELD_OR_TYPE"
    await flush_audit(app_client)
    rows = await audit_rows(seeded_pools, name)
    assert [(r["organization_code"], r["fields"]) for r in rows] == [("MSCU", [])]


async def test_a_record_the_database_refuses_loses_no_other_records_row(
    writable_url: str, test_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Found by the fuzzer (tests/fuzz/): one bad record used to lose its whole batch."""
    pool = await create_pool(writable_url, test_settings)
    sink = AuditSink(pool)
    good, also_good = unique_name("Kept"), unique_name("AlsoKept")
    records = [_record(good), _record("Bad\x00Name"), _record(also_good)]
    try:
        sink.start()
        with caplog.at_level(logging.ERROR, logger="harborgraph.audit"):
            for record in records:
                sink.submit(record)
            await sink.flush()
        kept = await pool.fetch(
            "SELECT operation_name FROM community.audit_event WHERE operation_name = ANY($1)",
            [good, also_good],
        )
    finally:
        await sink.stop()
        await pool.close()
    assert sorted(r["operation_name"] for r in kept) == sorted([good, also_good])
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR] == [
        "an audit row could not be written"
    ]


def _record(operation: str) -> AuditRecord:
    return AuditRecord(
        occurred_at=datetime.datetime.now(datetime.UTC),
        organization_code="MSCU",
        subject="MSCU:cli",
        operation_name=operation,
        fields=["Container.consignee"],
        rows_counted=1,
        denials="{}",
    )
