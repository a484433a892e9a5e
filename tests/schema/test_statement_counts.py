"""Every root list costs the same SQL statements at 10 and at 100 items, nested links included."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import Api, SqlCounter, Tokens
from tests.helpers import flush_audit, page_costs

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

# id -> (root list, query). Each query follows its nodes' links, lists included, so a loader
# that falls back to one statement per parent shows up as a count that grows with the page.
CASES = {
    "vessels": (
        "vessels",
        """query($first: Int) { vessels(first: $first) { edges { node {
        imo name latestPosition { recordedAt } portCalls(first: 2) { edges { node { id } } } } } } }""",
    ),
    "portCalls": (
        "portCalls",
        """query($first: Int) { portCalls(first: $first) { edges { node {
        id vessel { name } terminal { smdgCode openAdvisories { reference } } port { name }
        timestamps { classifier replyTo { classifier } }
        containers(first: 3) { edges { node { number holds { type remark } } } } } } } }""",
    ),
    "containers": (
        "containers",
        """query($first: Int) { containers(first: $first) { edges { node {
        number consignee holds { remark } portCall { vessel { name } } terminal { name }
        shipment { carrierBookingReference } gateTransactions { turnTimeMinutes }
        events(first: 3) { edges { node { eventType } } } } } } }""",
    ),
    # A nested list sized by the same $first as the page: each container's shipment and that
    # shipment's containers (a bill of lading covers a few boxes, so this level is batched
    # per shipment, not per box).
    "containers-shipment-containers": (
        "containers",
        """query($first: Int) { containers(first: $first) { edges { node {
        number shipment { transportDocumentReference consignee { name }
          containers(first: $first) { edges { cursor node { number status terminal { name } } }
            pageInfo { hasNextPage } } } } } } }""",
    ),
    "events": (
        "events",
        """query($first: Int) { events(first: $first, filter: {eventTypes: [EQUIPMENT]}) {
        edges { node {
        eventID eventType ... on EquipmentEvent { container { number } portCall { id } } } } } }""",
    ),
    "appointments": (
        "appointments",
        """query($first: Int) { appointments(first: $first) { edges { node {
        reference terminal { name } container { number status } } } } }""",
    ),
    "gateTransactions": (
        "gateTransactions",
        """query($first: Int) { gateTransactions(first: $first) { edges { node {
        turnTimeMinutes appointment { reference } terminal { name } container { number } } } } }""",
    ),
    # Rules in force around the seed's anchor (2026-03-02): 252 of them, so both pages fill.
    "emptyReturns": (
        "emptyReturns",
        """query($first: Int) { emptyReturns(first: $first,
        from: "2026-03-01T00:00:00Z", to: "2026-03-03T00:00:00Z") { edges { node {
        carrierScac isoType accepting validFrom terminal { name port { name } }
        alternateTerminal { name } } } } }""",
    ),
    "advisories": (
        "advisories",
        """query($first: Int) { advisories(first: $first, filter: {includeExpired: true}) {
        edges { node { reference tlp indicators { value } affectedTerminals { name } } } } }""",
    ),
    "incidents": (
        "incidents",
        """query($first: Int) { incidents(first: $first) { edges { node {
        reference terminal { name } } } } }""",
    ),
    "auditEvents": (
        "auditEvents",
        """query($first: Int) { auditEvents(first: $first) { edges { node {
        organizationCode fields } } } }""",
    ),
}


# Lists with at least 100 rows in the seed: both pages are full. The others (12 vessels,
# 24 port calls, 12 advisories, 12 incidents, the session's audit trail) fill the first page
# and hold more than 10 rows.
FULL_PAGES = {"appointments", "containers", "emptyReturns", "events", "gateTransactions"}


async def _audited_requests(
    api: Api, tokens: Tokens, client: httpx.AsyncClient, count: int
) -> None:
    """Denied requests, so the audit trail holds more than one small page."""
    stranger = tokens.mint("MSCU", "vessel:read")
    for _ in range(count):
        await api.post("{ incidents(first: 1) { edges { cursor } } }", token=stranger)
    await flush_audit(client)


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "resolvers"])
@pytest.mark.parametrize("case", sorted(CASES))
async def test_statements_do_not_grow_with_the_page(
    api: Api,
    resolver_api: Api,
    app_client: httpx.AsyncClient,
    tokens: Tokens,
    count_sql: SqlCounter,
    case: str,
    compiled: bool,
) -> None:
    root, query = CASES[case]
    # Customs sees every row of every source; only the port authority reads the audit trail.
    org = tokens.organizations["PORT_AUTHORITY"] if root == "auditEvents" else "CBP"
    token = tokens.mint(org, *EVERYTHING)
    if root == "auditEvents":
        await _audited_requests(api, tokens, app_client, 12)
    client = api if compiled else resolver_api
    edges, statements = await page_costs(client, count_sql, query, root, token)
    if root in FULL_PAGES:
        assert edges == [10, 100], f"{case}: {edges} edges"
    else:
        assert edges[0] == 10, f"{case}: {edges} edges"
        assert edges[1] > edges[0], f"{case}: {edges} edges"
        assert edges[1] <= 100, f"{case}: {edges} edges"
    assert statements[0] == statements[1], f"{case}: {statements} for {edges} edges"
