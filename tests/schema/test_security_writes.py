"""`publishAdvisory` and `updateIncident`: the CSOC's writes, TLP required, idempotent."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx

from tests.conftest import Api, Tokens
from tests.helpers import UNAUTHORIZED, answer, refused

PUBLISH = """
mutation Advise($input: PublishAdvisoryInput!) {
  publishAdvisory(input: $input) {
    outcome code field reason
    advisory { reference title severity tlp affectedSystems publishedBy
               indicators { type value } }
  }
}
"""
UPDATE = """
mutation Incident($input: UpdateIncidentInput!) {
  updateIncident(input: $input) {
    outcome code field reason
    incident { reference category severity status summary resolvedAt }
  }
}
"""
ADVICE: dict[str, Any] = {
    "reference": "CRC-2026-0042",
    "title": "Phishing wave against terminal operators",
    "summary": "Block the sender domain; reset credentials of anyone who clicked.",
    "severity": "HIGH",
    "tlp": "AMBER",
    "affectedSystems": ["TOS", "email"],
    "facilities": [{"smdgCode": "APMT"}],
    "indicators": [
        {"type": "DOMAIN", "value": "portlogin-secure.example"},
        {"type": "IPV4", "value": "203.0.113.7"},
    ],
}


async def test_the_csoc_publishes_an_advisory_once(
    writable_client: httpx.AsyncClient, tokens: Tokens, writable_url: str
) -> None:
    api = Api(writable_client)
    token = tokens.mint("CSOC", "security:read", "security:restricted", "security:write")
    data = await api.data(PUBLISH, {"input": ADVICE}, token)
    assert data["publishAdvisory"] == {
        "outcome": "ACCEPTED",
        "code": None,
        "field": None,
        "reason": None,
        "advisory": {
            "reference": "CRC-2026-0042",
            "title": "Phishing wave against terminal operators",
            "severity": "HIGH",
            "tlp": "AMBER",
            "affectedSystems": ["TOS", "email"],
            "publishedBy": "CSOC",
            "indicators": [
                {"type": "DOMAIN", "value": "portlogin-secure.example"},
                {"type": "IPV4", "value": "203.0.113.7"},
            ],
        },
    }
    again = await api.data(PUBLISH, {"input": ADVICE}, token)
    assert again["publishAdvisory"]["outcome"] == "DUPLICATE"
    other = await api.data(PUBLISH, {"input": {**ADVICE, "severity": "LOW"}}, token)
    assert (other["publishAdvisory"]["code"], other["publishAdvisory"]["field"]) == (
        "CONFLICT",
        "reference",
    )
    connection = await asyncpg.connect(writable_url)
    try:
        facilities = await connection.fetch(
            "SELECT f.unlocode, f.smdg_code FROM security.advisory_facility f"
            " JOIN security.advisory a ON a.id = f.advisory_id WHERE a.reference = $1",
            "CRC-2026-0042",
        )
    finally:
        await connection.close()
    assert [tuple(r) for r in facilities] == [("USLAX", "APMT")]


async def test_a_bad_indicator_is_named_and_nothing_is_stored(
    writable_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    token = tokens.mint("CSOC", "security:write")
    bad = {**ADVICE, "indicators": [{"type": "IPV4", "value": "2001:db8::1"}]}
    data = await Api(writable_client).data(PUBLISH, {"input": bad}, token)
    assert data["publishAdvisory"] == {
        "outcome": "REJECTED",
        "code": "INVALID",
        "field": "indicators[0].value",
        "reason": "'2001:db8::1' is not a IPV4 indicator",
        "advisory": None,
    }


async def test_only_the_csoc_writes_and_a_tlp_is_required(
    writable_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    api = Api(writable_client)
    terminal = tokens.mint("USLAX-APMT", "security:write")
    data = await api.data(PUBLISH, {"input": ADVICE}, terminal)
    assert (data["publishAdvisory"]["code"], data["publishAdvisory"]["field"]) == (
        "NOT_FOUND",
        "reference",
    )
    data, errors = await answer(
        api, PUBLISH, {"input": ADVICE}, tokens.mint("CSOC", "security:read")
    )
    assert data == {"publishAdvisory": None}
    refused(errors, UNAUTHORIZED, ["publishAdvisory"])
    untagged = {k: v for k, v in ADVICE.items() if k != "tlp"}
    response = await api.post(PUBLISH, {"input": untagged}, tokens.mint("CSOC", "security:write"))
    assert response.status_code == 400  # the variables do not coerce: nothing executed
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith(
        "Variable '$input' has invalid value: Expected value of type 'PublishAdvisoryInput' to "
        "include required field 'tlp'"
    )


async def test_the_csoc_opens_updates_and_resolves_an_incident(
    writable_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    api = Api(writable_client)
    token = tokens.mint("CSOC", "security:restricted", "security:write")
    missing = await api.data(
        UPDATE, {"input": {"reference": "INC-0001", "severity": "HIGH"}}, token
    )
    assert missing["updateIncident"] == {
        "outcome": "REJECTED",
        "code": "INVALID",
        "field": "category",
        "reason": "is required for a new incident",
        "incident": None,
    }
    opened = {
        "reference": "INC-0001",
        "category": "AIS_SPOOFING",
        "severity": "HIGH",
        "summary": "Ghost vessels in the anchorage",
        "detectedAt": "2026-03-01T22:10:00Z",
    }
    data = await api.data(UPDATE, {"input": opened}, token)
    assert data["updateIncident"]["incident"] == {
        "reference": "INC-0001",
        "category": "AIS_SPOOFING",
        "severity": "HIGH",
        "status": "OPEN",
        "summary": "Ghost vessels in the anchorage",
        "resolvedAt": None,
    }
    again = await api.data(UPDATE, {"input": opened}, token)
    assert again["updateIncident"]["outcome"] == "DUPLICATE"
    resolved = await api.data(
        UPDATE, {"input": {"reference": "INC-0001", "status": "RESOLVED"}}, token
    )
    incident = resolved["updateIncident"]["incident"]
    assert (resolved["updateIncident"]["outcome"], incident["status"]) == ("ACCEPTED", "RESOLVED")
    assert incident["resolvedAt"] is not None
    reopened = await api.data(UPDATE, {"input": {"reference": "INC-0001", "status": "OPEN"}}, token)
    assert reopened["updateIncident"]["incident"]["resolvedAt"] is None
