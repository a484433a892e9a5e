"""Every root list costs the same SQL statements at 10 and at 100 items, nested links included."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Api, SqlCounter, Tokens
from tests.helpers import page_costs

EVERYTHING = [
    "vessel:read",
    "cargo:read",
    "cargo:commercial",
    "cargo:customs",
    "gate:read",
    "security:read",
    "security:restricted",
    "insights:read",
    "audit:read",
]

ROOT_LISTS = {
    "vessels": """query($first: Int) { vessels(first: $first) { edges { node {
        imo name latestPosition { recordedAt } portCalls(first: 2) { edges { node { id } } } } } } }""",
    "portCalls": """query($first: Int) { portCalls(first: $first) { edges { node {
        id vessel { name } terminal { smdgCode openAdvisories { reference } } port { name }
        timestamps { classifier replyTo { classifier } }
        containers(first: 3) { edges { node { number holds { type remark } } } } } } } }""",
    "containers": """query($first: Int) { containers(first: $first) { edges { node {
        number consignee holds { remark } portCall { vessel { name } } terminal { name }
        shipment { carrierBookingReference } gateTransactions { turnTimeMinutes }
        events(first: 3) { edges { node { eventType } } } } } } }""",
    "events": """query($first: Int) { events(first: $first, filter: {eventTypes: [EQUIPMENT]}) {
        edges { node {
        eventID eventType ... on EquipmentEvent { container { number } portCall { id } } } } } }""",
    "appointments": """query($first: Int) { appointments(first: $first) { edges { node {
        reference terminal { name } container { number status } } } } }""",
    "gateTransactions": """query($first: Int) { gateTransactions(first: $first) { edges { node {
        turnTimeMinutes appointment { reference } terminal { name } container { number } } } } }""",
    "advisories": """query($first: Int) { advisories(first: $first, filter: {includeExpired: true}) {
        edges { node { reference tlp indicators { value } affectedTerminals { name } } } } }""",
    "incidents": """query($first: Int) { incidents(first: $first) { edges { node {
        reference terminal { name } } } } }""",
    "auditEvents": """query($first: Int) { auditEvents(first: $first) { edges { node {
        organizationCode fields } } } }""",
}


FULL_PAGES = {"appointments", "containers", "events", "gateTransactions"}


async def _audited_requests(
    api: Api, tokens: Tokens, client: httpx.AsyncClient, count: int
) -> None:
    """Denied requests, so the audit trail holds more than one small page."""
    stranger = tokens.mint("MSCU", "vessel:read")
    for _ in range(count):
        await api.post("{ incidents(first: 1) { edges { cursor } } }", token=stranger)
    transport = client._transport
    assert isinstance(transport, httpx.ASGITransport)
    await transport.app.state.harborgraph.audit.flush()  # type: ignore[attr-defined]


@pytest.mark.parametrize("root", sorted(ROOT_LISTS))
async def test_statements_do_not_grow_with_the_page(
    api: Api, app_client: httpx.AsyncClient, tokens: Tokens, count_sql: SqlCounter, root: str
) -> None:
    token = tokens.mint("CBP", *EVERYTHING)
    if root == "auditEvents":
        await _audited_requests(api, tokens, app_client, 12)
    edges, statements = await page_costs(api, count_sql, ROOT_LISTS[root], root, token)
    assert edges[0] <= 10
    assert edges[1] >= edges[0]
    assert edges == [10, 100] if root in FULL_PAGES else edges[0] == 10 < edges[1]
    assert statements[0] == statements[1], f"{root}: {statements} for {edges} edges"
