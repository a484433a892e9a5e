"""Gate writes over HTTP: a trucker books and cancels pickups and sees the box once the
terminal has seen the truck arrive; a terminal records gate moves with their turn time."""

from __future__ import annotations

import datetime as dt

import asyncpg
import httpx

from tests.conftest import Api, Tokens
from tests.helpers import UNAUTHORIZED, answer, refused

BOOK = """
mutation Book($input: BookAppointmentInput!) {
  bookAppointment(input: $input) {
    outcome code field reason
    appointment { reference truckerScac smdgCode equipmentReference moveType status windowStart }
  }
}
"""
CANCEL = """
mutation Cancel($input: CancelAppointmentInput!) {
  cancelAppointment(input: $input) { outcome appointment { reference status } }
}
"""
RECORD = """
mutation Record($input: RecordGateTransactionInput!) {
  recordGateTransaction(input: $input) {
    outcome code field reason
    gateTransaction { truckerScac smdgCode lane moveType turnTimeMinutes }
  }
}
"""
CONTAINER = "query ($n: String!) { container(number: $n) { number availableForPickup } }"
UNSEEN_IMPORT = """
SELECT cv.equipment_reference, cv.unlocode, cv.smdg_code FROM cargo.container_visit cv
WHERE cv.direction = 'IMPORT' AND cv.available_for_pickup
  AND NOT EXISTS (SELECT 1 FROM gate.appointment a
                  WHERE a.equipment_reference = cv.equipment_reference)
  AND NOT EXISTS (SELECT 1 FROM cargo.container_visit l
                  WHERE l.equipment_reference = cv.equipment_reference
                    AND (l.updated_at, l.id) > (cv.updated_at, cv.id))
ORDER BY cv.equipment_reference LIMIT 1
"""


async def test_a_trucker_books_a_pickup_and_sees_the_box_once_the_terminal_has_it_arrive(
    writable_client: httpx.AsyncClient, tokens: Tokens, writable_url: str
) -> None:
    connection = await asyncpg.connect(writable_url)
    try:
        box = await connection.fetchrow(UNSEEN_IMPORT)
    finally:
        await connection.close()
    assert box is not None
    api = Api(writable_client)
    token = tokens.mint("BYLC", "cargo:read", "gate:read", "gate:write")
    number = box["equipment_reference"]
    assert (await api.data(CONTAINER, {"n": number}, token)) == {"container": None}
    start = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    booking = {
        "terminal": {"unlocode": box["unlocode"], "smdgCode": box["smdg_code"]},
        "slotStart": start.isoformat(),
        "moveType": "IMPORT_PICKUP",
        "containerNumber": number,
        "appointmentReference": "BYLC-TEST-1",
    }
    data = await api.data(BOOK, {"input": booking}, token)
    assert data == {
        "bookAppointment": {
            "outcome": "ACCEPTED",
            "code": None,
            "field": None,
            "reason": None,
            "appointment": {
                "reference": "BYLC-TEST-1",
                "truckerScac": "BYLC",
                "smdgCode": box["smdg_code"],
                "equipmentReference": number,
                "moveType": "IMPORT_PICKUP",
                "status": "SCHEDULED",
                "windowStart": start.isoformat(),
            },
        }
    }
    # Booking a box shows the trucker nothing of it: only the terminal's word does (below).
    assert (await api.data(CONTAINER, {"n": number}, token)) == {"container": None}
    cancelled = await api.data(CANCEL, {"input": {"appointmentReference": "BYLC-TEST-1"}}, token)
    assert cancelled == {
        "cancelAppointment": {
            "outcome": "ACCEPTED",
            "appointment": {"reference": "BYLC-TEST-1", "status": "CANCELLED"},
        }
    }
    again = await api.data(
        BOOK, {"input": {**booking, "appointmentReference": "BYLC-TEST-2"}}, token
    )
    assert again["bookAppointment"]["outcome"] == "ACCEPTED"
    terminal = tokens.mint(f"{box['unlocode']}-{box['smdg_code']}", "gate:write")
    arrived = {
        "transactionReference": "GATE-TEST-1",
        "lane": "2",
        "truckerScac": "BYLC",
        "moveType": "IMPORT_PICKUP",
        "containerNumber": number,
        "appointmentReference": "BYLC-TEST-2",
        "gateInAt": (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)).isoformat(),
    }
    recorded = await api.data(RECORD, {"input": arrived}, terminal)
    assert recorded["recordGateTransaction"]["outcome"] == "ACCEPTED"
    seen = await api.data(CONTAINER, {"n": number}, token)
    assert seen == {"container": {"number": number, "availableForPickup": True}}


async def test_booking_needs_gate_write_and_a_well_formed_slot(
    writable_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    api = Api(writable_client)
    half_past = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    booking = {
        "terminal": {"smdgCode": "APMT"},
        "slotStart": half_past.isoformat(),
        "moveType": "EMPTY_PICKUP",
    }
    data, errors = await answer(api, BOOK, {"input": booking}, tokens.mint("BYLC", "gate:read"))
    assert data == {"bookAppointment": None}
    refused(errors, UNAUTHORIZED, ["bookAppointment"])
    data = await api.data(BOOK, {"input": booking}, tokens.mint("BYLC", "gate:write"))
    assert data["bookAppointment"] == {
        "outcome": "REJECTED",
        "code": "INVALID",
        "field": "slotStart",
        "reason": "slots start on the hour (UTC)",
        "appointment": None,
    }


async def test_a_terminal_records_a_gate_move_with_its_turn_time(
    writable_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    api = Api(writable_client)
    came = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).replace(microsecond=0)
    move = {
        "transactionReference": "APMT-LANE4-0001",
        "lane": "4",
        "truckerScac": "BYLC",
        "moveType": "EMPTY_PICKUP",
        "gateInAt": came.isoformat(),
        "gateOutAt": (came + dt.timedelta(minutes=38)).isoformat(),
    }
    data, errors = await answer(
        api, RECORD, {"input": move}, tokens.mint("USLAX-APMT", "gate:read")
    )
    assert data == {"recordGateTransaction": None}
    refused(errors, UNAUTHORIZED, ["recordGateTransaction"])
    token = tokens.mint("USLAX-APMT", "gate:read", "gate:write")
    data = await api.data(RECORD, {"input": move}, token)
    assert data == {
        "recordGateTransaction": {
            "outcome": "ACCEPTED",
            "code": None,
            "field": None,
            "reason": None,
            "gateTransaction": {
                "truckerScac": "BYLC",
                "smdgCode": "APMT",
                "lane": "4",
                "moveType": "EMPTY_PICKUP",
                "turnTimeMinutes": 38,
            },
        }
    }


SET_RULE = """
mutation Rule($input: SetEmptyReturnRuleInput!) {
  setEmptyReturnRule(input: $input) {
    outcome code field reason
    rule { smdgCode carrierScac isoType accepting alternateSmdgCode }
  }
}
"""
RETURNS = """
query ($from: DateTime!) {
  emptyReturns(carrier: "ZIMU", isoType: "45G1", from: $from) {
    edges { node { smdgCode accepting alternateSmdgCode remark } }
  }
}
"""


async def test_a_terminal_sets_where_it_takes_a_lines_empties(
    writable_client: httpx.AsyncClient, tokens: Tokens
) -> None:
    api = Api(writable_client)
    start = dt.datetime(2027, 1, 4, tzinfo=dt.UTC)
    rule = {
        "carrierScac": "ZIMU",
        "isoType": "45G1",
        "accepting": False,
        "validFrom": start.isoformat(),
        "validTo": (start + dt.timedelta(days=7)).isoformat(),
        "alternateSmdgCode": "TRAP",
        "remark": "Yard full of 45s",
    }
    terminal = tokens.mint("USLAX-APMT", "gate:write")
    data = await api.data(SET_RULE, {"input": rule}, terminal)
    assert data["setEmptyReturnRule"] == {
        "outcome": "ACCEPTED",
        "code": None,
        "field": None,
        "reason": None,
        "rule": {
            "smdgCode": "APMT",
            "carrierScac": "ZIMU",
            "isoType": "45G1",
            "accepting": False,
            "alternateSmdgCode": "TRAP",
        },
    }
    again = await api.data(SET_RULE, {"input": rule}, terminal)
    assert again["setEmptyReturnRule"]["outcome"] == "DUPLICATE"
    reader = tokens.mint("BYLC", "gate:read")
    seen = await api.data(RETURNS, {"from": (start + dt.timedelta(days=1)).isoformat()}, reader)
    assert {
        "smdgCode": "APMT",
        "accepting": False,
        "alternateSmdgCode": "TRAP",
        "remark": "Yard full of 45s",
    } in [edge["node"] for edge in seen["emptyReturns"]["edges"]]
    not_a_terminal = await api.data(SET_RULE, {"input": rule}, tokens.mint("ZIMU", "gate:write"))
    assert (
        not_a_terminal["setEmptyReturnRule"]["code"],
        not_a_terminal["setEmptyReturnRule"]["field"],
    ) == ("NOT_FOUND", "carrierScac")
    backwards = {**rule, "validTo": (start - dt.timedelta(days=1)).isoformat()}
    refused_rule = await api.data(SET_RULE, {"input": backwards}, terminal)
    assert refused_rule["setEmptyReturnRule"]["reason"] == "must be after validFrom"
