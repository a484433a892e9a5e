"""`publishPortCallTimestamp`: the JIT negotiation by the call's carrier and terminal."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from tests.conftest import Api, Tokens
from tests.helpers import UNAUTHORIZED, answer, refused

PUBLISH = """
mutation Time($input: PortCallTimestampInput!) {
  publishPortCallTimestamp(input: $input) {
    outcome code field reason
    timestamp { id classifier serviceType eventType eventDateTime publisher publisherRole
                replyTo { id } }
  }
}
"""
PLANNED_CALL = """
SELECT pc.id, pc.carrier_scac, tc.unlocode, tc.smdg_code FROM vessel.port_call pc
JOIN vessel.terminal_call tc ON tc.port_call_id = pc.id
WHERE pc.status = 'PLANNED' AND pc.carrier_scac = $1
  AND (SELECT count(*) FROM vessel.terminal_call o WHERE o.port_call_id = pc.id) = 1
ORDER BY pc.estimated_arrival, pc.id LIMIT 1
"""
CALL_STATE = "SELECT status, actual_arrival FROM vessel.port_call WHERE id = $1"


@pytest.fixture
async def call(writable_url: str) -> asyncpg.Record:
    connection = await asyncpg.connect(writable_url)
    try:
        row = await connection.fetchrow(PLANNED_CALL, "HLCU")
    finally:
        await connection.close()
    assert row is not None
    return row


def timestamp(
    call: asyncpg.Record, classifier: str, event: str, at: str, **more: Any
) -> dict[str, Any]:
    return {
        "timestampID": str(uuid.uuid4()),
        "portCallID": str(call["id"]),
        "portCallServiceTypeCode": "BERTH",
        "portCallServiceEventTypeCode": event,
        "classifierCode": classifier,
        "dateTime": at,
        **more,
    }


async def publish(api: Api, token: str | None, given: dict[str, Any]) -> tuple[Any, list[Any]]:
    data, errors = await answer(api, PUBLISH, {"input": given}, token)
    return data["publishPortCallTimestamp"], errors


async def test_carrier_and_terminal_negotiate_and_the_actual_arrival_moves_the_call(
    writable_client: httpx.AsyncClient, tokens: Tokens, call: asyncpg.Record, writable_url: str
) -> None:
    api = Api(writable_client)
    carrier = tokens.mint("HLCU", "vessel:read", "portcall:write")
    terminal = tokens.mint(
        f"{call['unlocode']}-{call['smdg_code']}", "vessel:read", "portcall:write"
    )
    estimate = timestamp(call, "EST", "ARRI", "2026-03-10T06:00:00+00:00")
    done, errors = await publish(api, carrier, estimate)
    assert errors == []
    assert done == {
        "outcome": "ACCEPTED",
        "code": None,
        "field": None,
        "reason": None,
        "timestamp": {
            "id": estimate["timestampID"],
            "classifier": "EST",
            "serviceType": "BERTH",
            "eventType": "ARRI",
            "eventDateTime": "2026-03-10T06:00:00+00:00",
            "publisher": "HLCU",
            "publisherRole": "CA",
            "replyTo": None,
        },
    }
    plan = timestamp(
        call, "PLN", "ARRI", "2026-03-10T08:00:00+00:00", replyToTimestampID=estimate["timestampID"]
    )
    done, errors = await publish(api, terminal, plan)
    assert (errors, done["outcome"], done["timestamp"]["replyTo"]) == (
        [],
        "ACCEPTED",
        {"id": estimate["timestampID"]},
    )
    assert done["timestamp"]["publisherRole"] == "TR"
    again, _ = await publish(api, carrier, estimate)
    assert again["outcome"] == "DUPLICATE"
    changed, _ = await publish(api, carrier, {**estimate, "dateTime": "2026-03-10T07:00:00Z"})
    assert (changed["outcome"], changed["code"], changed["field"]) == (
        "REJECTED",
        "CONFLICT",
        "timestampID",
    )
    arrived, _ = await publish(
        api, terminal, timestamp(call, "ACT", "ARRI", "2026-03-10T08:12:00Z")
    )
    assert arrived["outcome"] == "ACCEPTED"
    connection = await asyncpg.connect(writable_url)
    try:
        state = await connection.fetchrow(CALL_STATE, call["id"])
    finally:
        await connection.close()
    assert state is not None
    assert (state["status"], state["actual_arrival"].isoformat()) == (
        "AT_BERTH",
        "2026-03-10T08:12:00+00:00",
    )


async def test_another_carriers_call_is_not_found_and_changes_nothing(
    writable_client: httpx.AsyncClient, tokens: Tokens, call: asyncpg.Record, writable_url: str
) -> None:
    api = Api(writable_client)
    count = "SELECT count(*) FROM vessel.timestamp"
    connection = await asyncpg.connect(writable_url)
    try:
        before = await connection.fetchval(count)
        for org in ("COSU", "CBP"):
            token = tokens.mint(org, "portcall:write")
            done, _ = await publish(
                api, token, timestamp(call, "EST", "ARRI", "2026-03-10T06:00:00Z")
            )
            assert (done["outcome"], done["code"], done["field"], done["reason"]) == (
                "REJECTED",
                "NOT_FOUND",
                "portCallID",
                "names no port call you may time",
            )
        assert await connection.fetchval(count) == before
        other = await connection.fetchval(
            "SELECT t.id FROM vessel.timestamp t JOIN vessel.port_call_service s"
            " ON s.id = t.port_call_service_id JOIN vessel.terminal_call tc"
            " ON tc.id = s.terminal_call_id WHERE tc.port_call_id <> $1 LIMIT 1",
            call["id"],
        )
    finally:
        await connection.close()
    carrier = tokens.mint("HLCU", "portcall:write")
    stray = timestamp(call, "PLN", "ARRI", "2026-03-10T06:00:00Z", replyToTimestampID=str(other))
    done, _ = await publish(api, carrier, stray)
    assert (done["code"], done["field"]) == ("NOT_FOUND", "replyToTimestampID")
    done, errors = await answer(api, PUBLISH, {"input": stray}, tokens.mint("HLCU", "vessel:read"))
    assert done == {"publishPortCallTimestamp": None}
    refused(errors, UNAUTHORIZED, ["publishPortCallTimestamp"])


async def test_only_the_first_and_last_terminal_calls_move_the_call(
    writable_client: httpx.AsyncClient, tokens: Tokens, call: asyncpg.Record, writable_url: str
) -> None:
    connection = await asyncpg.connect(writable_url)
    try:
        second = await connection.fetchrow(
            "SELECT unlocode, smdg_code FROM vessel.terminal WHERE smdg_code <> $1"
            " ORDER BY unlocode, smdg_code LIMIT 1",
            call["smdg_code"],
        )
        assert second is not None
        await connection.execute(
            "INSERT INTO vessel.terminal_call"
            " (id, port_call_id, sequence, terminal_call_reference, unlocode, smdg_code)"
            " VALUES ($1, $2, 2, 'TC-SECOND', $3, $4)",
            uuid.uuid4(),
            call["id"],
            second["unlocode"],
            second["smdg_code"],
        )
        api = Api(writable_client)
        first_token = tokens.mint(f"{call['unlocode']}-{call['smdg_code']}", "portcall:write")
        last_token = tokens.mint(f"{second['unlocode']}-{second['smdg_code']}", "portcall:write")
        steps = [
            (first_token, "ARRI", "2026-03-10T08:00:00Z", ("AT_BERTH", None)),
            (first_token, "DEPA", "2026-03-11T08:00:00Z", ("AT_BERTH", None)),
            (last_token, "DEPA", "2026-03-12T08:00:00Z", ("DEPARTED", "2026-03-12T08:00:00+00:00")),
        ]
        for token, event, at, expected in steps:
            done, _ = await publish(api, token, timestamp(call, "ACT", event, at))
            assert done["outcome"] == "ACCEPTED"
            state = await connection.fetchrow(
                "SELECT status, actual_departure FROM vessel.port_call WHERE id = $1", call["id"]
            )
            assert state is not None
            departed = state["actual_departure"]
            assert (state["status"], departed and departed.isoformat()) == expected
    finally:
        await connection.close()


async def test_an_actual_time_cannot_lie_in_the_future(
    writable_client: httpx.AsyncClient, tokens: Tokens, call: asyncpg.Record
) -> None:
    token = tokens.mint("HLCU", "portcall:write")
    done, _ = await publish(
        Api(writable_client), token, timestamp(call, "ACT", "ARRI", "2099-01-01T00:00:00Z")
    )
    assert (done["outcome"], done["code"], done["field"], done["reason"]) == (
        "REJECTED",
        "INVALID",
        "dateTime",
        "an actual time cannot lie in the future",
    )
