"""`placeHold` and `releaseHold` over HTTP: payloads, field rules on the hold, scopes."""

from __future__ import annotations

import asyncpg
import httpx
import pytest

from tests.conftest import Api, Tokens
from tests.helpers import UNAUTHORIZED, answer, refused

PLACE = """
mutation Place($input: PlaceHoldInput!) {
  placeHold(input: $input) {
    outcome code field reason
    holds { type reasonCode placedBy active remark }
  }
}
"""
RELEASE = """
mutation Release($input: ReleaseHoldInput!) {
  releaseHold(input: $input) { outcome holds { type reasonCode releasedBy active } }
}
"""
AVAILABILITY = """
query ($number: String!) { container(number: $number) { availableForPickup holds { type active } } }
"""


@pytest.fixture
async def number(writable_url: str) -> str:
    connection = await asyncpg.connect(writable_url)
    try:
        found: str = await connection.fetchval(
            "SELECT equipment_reference FROM cargo.container_visit cv WHERE carrier_scac = 'MSCU'"
            " AND available_for_pickup AND NOT EXISTS (SELECT 1 FROM cargo.container_visit l"
            " WHERE l.equipment_reference = cv.equipment_reference"
            " AND (l.updated_at, l.id) > (cv.updated_at, cv.id)) ORDER BY 1 LIMIT 1"
        )
    finally:
        await connection.close()
    return found


async def test_a_carrier_holds_and_releases_its_box_and_availability_follows(
    writable_client: httpx.AsyncClient, tokens: Tokens, number: str
) -> None:
    api = Api(writable_client)
    token = tokens.mint("MSCU", "cargo:read", "holds:write")
    hold = {"containerNumber": number, "type": "FREIGHT", "reasonCode": "FREIGHT_UNPAID"}
    data, errors = await answer(api, PLACE, {"input": {**hold, "remark": "Pay up"}}, token)
    # A carrier never reads hold remarks (cargo:customs), not even its own.
    refused(errors, UNAUTHORIZED, ["placeHold", "holds", 0, "remark"])
    assert data == {
        "placeHold": {
            "outcome": "ACCEPTED",
            "code": None,
            "field": None,
            "reason": None,
            "holds": [
                {
                    "type": "FREIGHT",
                    "reasonCode": "FREIGHT_UNPAID",
                    "placedBy": "MSCU",
                    "active": True,
                    "remark": None,
                }
            ],
        }
    }
    seen = await api.data(AVAILABILITY, {"number": number}, token)
    assert seen["container"]["availableForPickup"] is False
    assert {"type": "FREIGHT", "active": True} in seen["container"]["holds"]
    released = await api.data(RELEASE, {"input": hold}, token)
    assert released == {
        "releaseHold": {
            "outcome": "ACCEPTED",
            "holds": [
                {
                    "type": "FREIGHT",
                    "reasonCode": "FREIGHT_UNPAID",
                    "releasedBy": "MSCU",
                    "active": False,
                }
            ],
        }
    }
    seen = await api.data(AVAILABILITY, {"number": number}, token)
    assert seen["container"]["availableForPickup"] is True


async def test_customs_reads_the_remark_of_the_hold_it_places(
    writable_client: httpx.AsyncClient, tokens: Tokens, number: str
) -> None:
    token = tokens.mint("CBP", "cargo:customs", "holds:write")
    hold = {
        "containerNumber": number,
        "type": "CUSTOMS",
        "reasonCode": "EXAM_NII",
        "remark": "VACIS",
    }
    data = await Api(writable_client).data(PLACE, {"input": hold}, token)
    assert data["placeHold"]["holds"][0]["remark"] == "VACIS"


async def test_a_bad_input_is_rejected_naming_the_field(
    writable_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    token = tokens.mint("MSCU", "holds:write")
    hold = {"containerNumber": "MSCU1234567", "type": "FREIGHT", "reasonCode": "X1"}
    data = await Api(writable_client).data(PLACE, {"input": hold}, token)
    assert data["placeHold"] == {
        "outcome": "REJECTED",
        "code": "INVALID",
        "field": "containerNumber",
        "reason": "MSCU1234567 fails the ISO 6346 check digit (expected 6)",
        "holds": [],
    }


async def test_holds_need_a_token_with_holds_write(
    writable_client: httpx.AsyncClient, tokens: Tokens, number: str
) -> None:
    hold = {"containerNumber": number, "type": "FREIGHT", "reasonCode": "X1"}
    for token in (None, tokens.mint("MSCU", "cargo:read", "events:write")):
        data, errors = await answer(Api(writable_client), PLACE, {"input": hold}, token)
        assert data == {"placeHold": None}
        refused(errors, UNAUTHORIZED, ["placeHold"])
    # A trucker is never given holds:write, whatever its token says.
    trucker = tokens.mint("BYLC", "holds:write")
    data, errors = await answer(Api(writable_client), PLACE, {"input": hold}, trucker)
    assert data == {"placeHold": None}
    refused(errors, UNAUTHORIZED, ["placeHold"])
