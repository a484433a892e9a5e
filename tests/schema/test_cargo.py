"""The cargo schema over HTTP with real tokens, against the seeded database.

Expected values are read with plain SQL here, never through the code under test.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
import pytest

from resolvers.sources import SourcePools
from tests.helpers import (
    BAD_USER_INPUT,
    UNAUTHORIZED,
    answer,
    global_id,
    source_statements,
    walk,
)
from tests.resolvers.test_cargo import IMPORT_THEN_FOREIGN_EXPORT, TRUCKER_VISITS

Row = asyncpg.Record
COMMERCIAL_FIELDS = ("grossWeightKg", "commodity", "hsCode", "shipper", "consignee", "seals")

# The latest visit of each container of a carrier, with what its bill of lading says.
LATEST_LADEN = """
SELECT v.*, s.commodity, s.hs_code,
       os.party_name AS shipper_name, cn.party_name AS consignee_name,
       cn.organization_code AS consignee_code
FROM (
    SELECT cv.*, row_number() OVER (
        PARTITION BY equipment_reference ORDER BY updated_at DESC, id DESC) AS n
    FROM cargo.container_visit cv WHERE cv.carrier_scac = $1
) v
JOIN cargo.shipment s ON s.transport_document_reference = v.transport_document_reference
JOIN cargo.shipment_party os
  ON os.transport_document_reference = s.transport_document_reference AND os.party_function = 'OS'
JOIN cargo.shipment_party cn
  ON cn.transport_document_reference = s.transport_document_reference AND cn.party_function = 'CN'
WHERE v.n = 1
ORDER BY v.equipment_reference
LIMIT 1
"""
CONTAINER = """
query Box($number: String!) {
  container(number: $number) {
    number status availableForPickup lastFreeDay yardLocation carrier
    grossWeightKg commodity hsCode seals
    shipper consignee
    shipment { consignee { name organizationCode } }
  }
}
"""
CONTAINER_LIST = """
query Boxes($first: Int, $after: String) {
  containers(first: $first, after: $after) {
    edges { node { number } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}
"""


def denials(errors: list[dict[str, Any]]) -> list[str]:
    """The paths of refused fields ("a/b/0/c"), sorted; every error must be a refusal."""
    assert all(e["extensions"]["code"] == UNAUTHORIZED for e in errors), errors
    return sorted(paths(*(e["path"] for e in errors)))


def paths(*items: list[Any]) -> list[str]:
    return sorted("/".join(str(part) for part in item) for item in items)


async def laden_container(pools: SourcePools, scac: str) -> Row:
    row = await pools["cargo"].fetchrow(LATEST_LADEN, scac)
    assert row is not None, f"the seed gives {scac} laden containers"
    return row


def expected_box(row: Row) -> dict[str, Any]:
    return {
        "number": row["equipment_reference"],
        "status": row["status"],
        "availableForPickup": row["available_for_pickup"],
        "lastFreeDay": None if row["last_free_day"] is None else row["last_free_day"].isoformat(),
        "yardLocation": row["yard_location"],
        "carrier": row["carrier_scac"],
        "grossWeightKg": None if row["gross_weight_kg"] is None else float(row["gross_weight_kg"]),
        "commodity": row["commodity"],
        "hsCode": row["hs_code"],
        "seals": list(row["seals"]),
        "shipper": row["shipper_name"],
        "consignee": row["consignee_name"],
        "shipment": {
            "consignee": {"name": row["consignee_name"], "organizationCode": row["consignee_code"]}
        },
    }


# --- A carrier's own containers, with and without cargo:commercial --------------------------


async def test_carrier_reads_its_own_containers_consignee(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    scac, token = tokens.partner("CARRIER")
    row = await laden_container(seeded_pools, scac)
    data = await api.data(CONTAINER, {"number": row["equipment_reference"]}, token)
    assert data == {"container": expected_box(row)}


async def test_without_commercial_scope_the_consignee_is_null_and_refused_at_its_path(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    scac, _ = tokens.partner("CARRIER")
    row = await laden_container(seeded_pools, scac)
    token = tokens.mint(scac, "cargo:read")
    data, errors = await answer(api, CONTAINER, {"number": row["equipment_reference"]}, token)
    expected = expected_box(row) | dict.fromkeys(COMMERCIAL_FIELDS)
    expected["shipment"] = {"consignee": None}
    assert data == {"container": expected}
    refused = [["container", f] for f in COMMERCIAL_FIELDS]
    assert denials(errors) == paths(*refused, ["container", "shipment", "consignee"])
    consignee = next(e for e in errors if e["path"] == ["container", "consignee"])
    assert "cargo:commercial" in consignee["message"]


async def test_another_carriers_container_does_not_exist_for_it(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    scac, token = tokens.partner("CARRIER")
    mine = await laden_container(seeded_pools, scac)
    theirs: str = await seeded_pools["cargo"].fetchval(
        "SELECT equipment_reference FROM cargo.container_visit WHERE equipment_reference NOT IN "
        "(SELECT equipment_reference FROM cargo.container_visit WHERE carrier_scac = $1) "
        "ORDER BY 1 LIMIT 1",
        scac,
    )
    query = """
    query($theirs: String!, $theirId: ID!, $mineId: ID!) {
      container(number: $theirs) { number }
      theirNode: node(id: $theirId) { id }
      mineNode: node(id: $mineId) { id ... on Container { number } }
    }
    """
    variables = {
        "theirs": theirs,
        "theirId": global_id("Container", theirs),
        "mineId": global_id("Container", mine["equipment_reference"]),
    }
    data = await api.data(query, variables, token)
    assert data == {
        "container": None,
        "theirNode": None,
        "mineNode": {
            "id": global_id("Container", mine["equipment_reference"]),
            "number": mine["equipment_reference"],
        },
    }
    listed = [n["number"] for n in await walk(api, CONTAINER_LIST, "containers", 100, token)]
    expected = await seeded_pools["cargo"].fetch(
        "SELECT DISTINCT equipment_reference FROM cargo.container_visit WHERE carrier_scac = $1 "
        "ORDER BY 1",
        scac,
    )
    assert listed == [r["equipment_reference"] for r in expected]
    assert theirs not in listed


# --- A trucker: availability and holds of its appointment containers, nothing commercial ----

TRUCKER_VIEW = """
query($number: String!) {
  container(number: $number) {
    number availableForPickup lastFreeDay onHold
    holds { type reasonCode placedAt placedBy releasedAt active remark }
    grossWeightKg commodity hsCode seals shipper consignee
  }
}
"""


async def test_trucker_sees_availability_and_holds_of_its_appointment_containers(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    scac, token = tokens.partner("TRUCKER")
    row = await seeded_pools["cargo"].fetchrow(
        f"""
        SELECT v.* FROM (
            SELECT visible.*, row_number() OVER (
                PARTITION BY equipment_reference ORDER BY updated_at DESC, id DESC) AS n
            FROM ({TRUCKER_VISITS}) visible
        ) v
        WHERE v.n = 1 AND EXISTS (SELECT 1 FROM cargo.hold h WHERE h.container_visit_id = v.id)
        ORDER BY v.equipment_reference LIMIT 1
        """,
        scac,
    )
    assert row is not None, "the seed gives a trucker a container with holds"
    holds = await seeded_pools["cargo"].fetch(
        "SELECT * FROM cargo.hold WHERE container_visit_id = $1 ORDER BY placed_at, id", row["id"]
    )
    data, errors = await answer(api, TRUCKER_VIEW, {"number": row["equipment_reference"]}, token)
    assert data == {
        "container": {
            "number": row["equipment_reference"],
            "availableForPickup": row["available_for_pickup"],
            "lastFreeDay": None
            if row["last_free_day"] is None
            else row["last_free_day"].isoformat(),
            "onHold": any(h["released_at"] is None for h in holds),
            "holds": [
                {
                    "type": h["hold_type"],
                    "reasonCode": h["reason_code"],
                    "placedAt": h["placed_at"].isoformat(),
                    "placedBy": h["placed_by_code"],
                    "releasedAt": None
                    if h["released_at"] is None
                    else h["released_at"].isoformat(),
                    "active": h["released_at"] is None,
                    "remark": None,
                }
                for h in holds
            ],
            **dict.fromkeys(COMMERCIAL_FIELDS),
        }
    }
    expected_denials: list[list[Any]] = [["container", f] for f in COMMERCIAL_FIELDS]
    expected_denials += [["container", "holds", i, "remark"] for i in range(len(holds))]
    assert denials(errors) == paths(*expected_denials)
    # Its gate transactions (gate:read) under the gate rule: its own trucks only.
    moves = await seeded_pools["gate"].fetchval(
        "SELECT count(*) FROM gate.gate_transaction WHERE equipment_reference = $1 "
        "AND trucker_scac = $2",
        row["equipment_reference"],
        scac,
    )
    gate = await api.data(
        "query($n: String!) { container(number: $n) { gateTransactions { __typename } } }",
        {"n": row["equipment_reference"]},
        token,
    )
    assert gate == {"container": {"gateTransactions": [{"__typename": "GateTransaction"}] * moves}}
    # A container it has no appointment for does not exist for it.
    other: str = await seeded_pools["cargo"].fetchval(
        "SELECT equipment_reference FROM cargo.container_visit WHERE equipment_reference NOT IN "
        "(SELECT equipment_reference FROM gate.appointment WHERE trucker_scac = $1 "
        " AND equipment_reference IS NOT NULL) ORDER BY 1 LIMIT 1",
        scac,
    )
    assert await api.data(
        TRUCKER_VIEW.replace("holds {", "x: holds {"), {"number": other}, token
    ) == {"container": None}


async def test_a_trucker_reads_the_import_it_moved_not_the_boxs_next_export(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    """One appointment for a box's import visit gives that visit, never its later export
    under another shipper's bill of lading: not the container, shipment, nor their events."""
    scac, token = tokens.partner("TRUCKER")
    case = await seeded_pools["cargo"].fetchrow(IMPORT_THEN_FOREIGN_EXPORT, scac)
    assert case is not None, "the seed gives this trucker an import box later exported"
    import_events = await seeded_pools["cargo"].fetch(
        "SELECT event_id FROM cargo.event WHERE equipment_reference = $1 AND port_call_id = $2 "
        "AND retracted_at IS NULL ORDER BY event_datetime DESC, event_id",
        case["equipment_reference"],
        case["import_call"],
    )
    query = """
    query($number: String!, $export: String!) {
      container(number: $number) {
        number direction transportDocumentReference
        shipment { transportDocumentReference }
        events(first: 100) { nodes { eventID } }
      }
      exportShipment: shipment(transportDocumentReference: $export) { carrier }
      exportBoxes: containers(filter: {transportDocumentReference: $export}) {
        nodes { number }
      }
      exportEvents: events(first: 100, filter: {transportDocumentReference: $export}) {
        nodes { eventID }
      }
    }
    """
    variables = {"number": case["equipment_reference"], "export": case["export_document"]}
    data = await api.data(query, variables, token)
    assert data == {
        "container": {
            "number": case["equipment_reference"],
            "direction": "IMPORT",
            "transportDocumentReference": case["import_document"],
            "shipment": {"transportDocumentReference": case["import_document"]},
            "events": {"nodes": [{"eventID": str(e["event_id"])} for e in import_events]},
        },
        "exportShipment": None,
        "exportBoxes": {"nodes": []},
        "exportEvents": {"nodes": []},
    }
    _, customs = tokens.partner("CUSTOMS")
    seen_by_customs = await api.data(query, variables, customs)
    assert seen_by_customs["container"]["transportDocumentReference"] == case["export_document"]
    assert seen_by_customs["exportEvents"]["nodes"]


async def test_customs_reads_hold_remarks(api: Any, tokens: Any, seeded_pools: SourcePools) -> None:
    _, token = tokens.partner("CUSTOMS")
    hold = await seeded_pools["cargo"].fetchrow(
        """
        SELECT cv.equipment_reference, h.remark FROM cargo.hold h
        JOIN cargo.container_visit cv ON cv.id = h.container_visit_id
        WHERE h.remark IS NOT NULL
          AND cv.id = (SELECT id FROM cargo.container_visit x
                       WHERE x.equipment_reference = cv.equipment_reference
                       ORDER BY updated_at DESC, id DESC LIMIT 1)
          AND (SELECT count(*) FROM cargo.hold y WHERE y.container_visit_id = cv.id) = 1
        ORDER BY cv.equipment_reference LIMIT 1
        """
    )
    assert hold is not None
    query = "query($n: String!) { container(number: $n) { holds { remark } } }"
    data = await api.data(query, {"n": hold["equipment_reference"]}, token)
    assert data == {"container": {"holds": [{"remark": hold["remark"]}]}}


# --- The same field, every path -------------------------------------------------------------


async def test_refused_the_same_way_through_alias_fragment_and_node(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    scac, _ = tokens.partner("CARRIER")
    row = await laden_container(seeded_pools, scac)
    number = row["equipment_reference"]
    token = tokens.mint(scac, "cargo:read")
    query = """
    query($number: String!, $id: ID!) {
      direct: container(number: $number) { number consignee }
      aliased: container(number: $number) { number receiver: consignee }
      viaFragment: container(number: $number) { ...Parties }
      viaNode: node(id: $id) { ... on Container { number consignee } }
      listed: containers(first: 1) { nodes { ...Parties } }
    }
    fragment Parties on Container { number consignee }
    """
    data, errors = await answer(
        api, query, {"number": number, "id": global_id("Container", number)}, token
    )
    first: str = await seeded_pools["cargo"].fetchval(
        "SELECT min(equipment_reference) FROM cargo.container_visit WHERE carrier_scac = $1", scac
    )
    box = {"number": number, "consignee": None}
    assert data == {
        "direct": box,
        "aliased": {"number": number, "receiver": None},
        "viaFragment": box,
        "viaNode": box,
        "listed": {"nodes": [{"number": first, "consignee": None}]},
    }
    assert denials(errors) == paths(
        ["direct", "consignee"],
        ["aliased", "receiver"],
        ["viaFragment", "consignee"],
        ["viaNode", "consignee"],
        ["listed", "nodes", 0, "consignee"],
    )


async def test_root_fields_need_cargo_read(api: Any, tokens: Any) -> None:
    query = """
    { container(number: "MSCU1234565") { number }
      containers(first: 1) { nodes { number } }
      shipment(transportDocumentReference: "ABCD1234") { carrier }
      events(first: 1) { nodes { eventID } } }
    """
    for token in (None, tokens.mint("CBP", "vessel:read")):
        data, errors = await answer(api, query, None, token)
        assert data == {"container": None, "containers": None, "shipment": None, "events": None}
        assert denials(errors) == ["container", "containers", "events", "shipment"]


async def test_partners_outside_the_cargo_rule_see_no_rows_even_with_the_scope(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    number: str = await seeded_pools["cargo"].fetchval(
        "SELECT min(equipment_reference) FROM cargo.container_visit"
    )
    query = """
    query($n: String!) {
      container(number: $n) { number }
      containers(first: 5) { nodes { number } pageInfo { hasNextPage } }
      events(first: 5) { nodes { eventID } }
    }
    """
    for org in ("CSOC", "NLRTM"):
        data = await api.data(query, {"n": number}, tokens.mint(org, "cargo:read"))
        assert data == {
            "container": None,
            "containers": {"nodes": [], "pageInfo": {"hasNextPage": False}},
            "events": {"nodes": []},
        }


# --- Input validation -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "argument", "rule_text"),
    [
        ('{ container(number: "MSCU1234567") { number } }', "number", "check digit"),
        ('{ container(number: "NOT-A-BOX") { number } }', "number", "ISO 6346"),
        ('{ containers(filter: {carrier: "M5"}) { nodes { number } } }', "filter.carrier", "SCAC"),
        (
            '{ containers(filter: {terminal: {smdgCode: "NO SUCH"}}) { nodes { number } } }',
            "filter.terminal.smdgCode",
            "SMDG",
        ),
        (
            '{ events(filter: {eventTypeCodes: ["GTIN", "LANDED"]}) { nodes { eventID } } }',
            "filter.eventTypeCodes",
            "LANDED",
        ),
        (
            '{ events(filter: {equipmentReference: "MSCU1234567"}) { nodes { eventID } } }',
            "filter.equipmentReference",
            "check digit",
        ),
        (
            '{ events(filter: {createdAfter: "2026-03-01T00:00:00"}) { nodes { eventID } } }',
            "filter.createdAfter",
            "offset",
        ),
        (
            '{ shipment(transportDocumentReference: "a b") { carrier } }',
            "transportDocumentReference",
            "transport document",
        ),
        ('{ containers(after: "bm9wZQ") { nodes { number } } }', None, "cursor"),
    ],
)
async def test_bad_input_is_a_clear_error_naming_the_argument(
    api: Any, tokens: Any, query: str, argument: str | None, rule_text: str
) -> None:
    _, token = tokens.partner("CUSTOMS")
    data, errors = await answer(api, query, None, token)
    root = next(iter(data))
    assert data == {root: None}
    assert len(errors) == 1
    (error,) = errors
    assert error["extensions"]["code"] == BAD_USER_INPUT
    assert error["path"] == [root]
    assert rule_text in error["message"]
    if argument is not None:
        assert error["extensions"]["argument"] == argument
        assert f"`{argument}`" in error["message"]


# --- Shipments and events ------------------------------------------------------------------


async def test_a_cargo_owner_reads_its_shipment_and_others_do_not(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    owner, token = tokens.partner("BCO")
    shipment = await seeded_pools["cargo"].fetchrow(
        "SELECT s.* FROM cargo.shipment s WHERE s.transport_document_reference IN "
        "(SELECT transport_document_reference FROM cargo.shipment_party "
        " WHERE organization_code = $1) ORDER BY 1 LIMIT 1",
        owner,
    )
    assert shipment is not None
    document = shipment["transport_document_reference"]
    parties = {
        r["party_function"]: {"name": r["party_name"], "organizationCode": r["organization_code"]}
        for r in await seeded_pools["cargo"].fetch(
            "SELECT * FROM cargo.shipment_party WHERE transport_document_reference = $1", document
        )
    }
    boxes = await seeded_pools["cargo"].fetch(
        "SELECT DISTINCT equipment_reference FROM cargo.container_visit "
        "WHERE transport_document_reference = $1 ORDER BY 1",
        document,
    )
    query = """
    query($tdr: String!) {
      shipment(transportDocumentReference: $tdr) {
        transportDocumentReference carrierBookingReference carrier direction
        portOfLoading portOfDischarge commodity hsCode
        shipper { name organizationCode } consignee { name organizationCode }
        notifyParty { name organizationCode }
        containers(first: 100) { nodes { number } }
      }
    }
    """
    data = await api.data(query, {"tdr": document.lower()}, token)
    assert data == {
        "shipment": {
            "transportDocumentReference": document,
            "carrierBookingReference": shipment["carrier_booking_reference"],
            "carrier": shipment["carrier_scac"],
            "direction": shipment["direction"],
            "portOfLoading": shipment["port_of_loading"],
            "portOfDischarge": shipment["port_of_discharge"],
            "commodity": shipment["commodity"],
            "hsCode": shipment["hs_code"],
            "shipper": parties["OS"],
            "consignee": parties["CN"],
            "notifyParty": parties["N1"],
            "containers": {"nodes": [{"number": r["equipment_reference"]} for r in boxes]},
        }
    }
    other = await seeded_pools["community"].fetchval(
        "SELECT code FROM community.organization WHERE kind = 'BCO' AND code <> $1 "
        "AND code NOT IN (SELECT organization_code FROM cargo.shipment_party "
        "WHERE transport_document_reference = $2 AND organization_code IS NOT NULL) "
        "ORDER BY code LIMIT 1",
        owner,
        document,
    )
    other_token = tokens.mint(other, "cargo:read", "cargo:commercial")
    assert await api.data(query, {"tdr": document}, other_token) == {"shipment": None}


async def test_a_containers_latest_events_with_their_port_call(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    scac, token = tokens.partner("CARRIER")
    row = await laden_container(seeded_pools, scac)
    number = row["equipment_reference"]
    events = await seeded_pools["cargo"].fetch(
        """
        SELECT e.* FROM cargo.event e
        WHERE e.equipment_reference = $1 AND e.retracted_at IS NULL
          AND (e.equipment_reference, e.port_call_id) IN (
              SELECT equipment_reference, port_call_id FROM cargo.container_visit
              WHERE carrier_scac = $2)
        ORDER BY e.event_datetime DESC, e.event_id
        """,
        number,
        scac,
    )
    visit_reference = await seeded_pools["vessel"].fetchval(
        "SELECT port_visit_reference FROM vessel.port_call WHERE id = $1", row["port_call_id"]
    )
    query = """
    query($n: String!, $after: String) {
      container(number: $n) {
        portCall { portVisitReference }
        terminal { unlocode smdgCode }
        events(first: 3, after: $after) {
          edges { cursor node {
            __typename eventID eventType eventClassifier eventDateTime eventCreatedDateTime
            ... on EquipmentEvent {
              equipmentEventTypeCode equipmentReference emptyIndicatorCode
              location { UNLocationCode facilitySMDGCode }
              portCall { portVisitReference }
            }
            ... on TransportEvent { transportEventTypeCode modeOfTransport }
          } }
          pageInfo { hasNextPage hasPreviousPage }
        }
      }
    }
    """
    data = await api.data(query, {"n": number}, token)
    box = data["container"]
    assert box["portCall"] == {"portVisitReference": visit_reference}
    assert box["terminal"] == {"unlocode": row["unlocode"], "smdgCode": row["smdg_code"]}
    got = [edge["node"] for edge in box["events"]["edges"]]
    assert [(n["eventID"], n["__typename"]) for n in got] == [
        (str(e["event_id"]), e["event_type"].title() + "Event") for e in events[:3]
    ]
    first = events[0]
    assert got[0]["eventDateTime"] == first["event_datetime"].isoformat()
    assert got[0]["eventClassifier"] == first["event_classifier_code"]
    if first["event_type"] == "EQUIPMENT":
        assert got[0]["equipmentEventTypeCode"] == first["equipment_event_type_code"]
        assert got[0]["location"] == {
            "UNLocationCode": first["unlocode"],
            "facilitySMDGCode": first["facility_smdg_code"],
        }
        assert got[0]["portCall"] == {"portVisitReference": visit_reference}
    assert box["events"]["pageInfo"] == {
        "hasNextPage": len(events) > 3,
        "hasPreviousPage": False,
    }
    if len(events) > 3:
        cursor = box["events"]["edges"][-1]["cursor"]
        more = await api.data(query, {"n": number, "after": cursor}, token)
        ids = [e["node"]["eventID"] for e in more["container"]["events"]["edges"]]
        assert ids == [str(e["event_id"]) for e in events[3:6]]


async def test_the_event_feed_filters_by_type_and_pages_in_creation_order(
    api: Any, tokens: Any, seeded_pools: SourcePools
) -> None:
    _, token = tokens.partner("CUSTOMS")
    since = dt.datetime(2026, 2, 25, tzinfo=dt.UTC)
    expected = await seeded_pools["cargo"].fetch(
        "SELECT event_id, shipment_event_type_code, document_type_code, "
        "transport_document_reference, carrier_booking_reference FROM cargo.event "
        "WHERE event_type = 'SHIPMENT' AND retracted_at IS NULL AND event_created_datetime > $1 "
        "ORDER BY event_created_datetime, event_id",
        since,
    )
    assert len(expected) > 12
    query = """
    query($first: Int, $after: String, $since: DateTime!) {
      events(first: $first, after: $after,
             filter: {eventTypes: [SHIPMENT], createdAfter: $since}) {
        edges { node { __typename eventID ... on ShipmentEvent {
          shipmentEventTypeCode documentTypeCode documentReference
          shipment { transportDocumentReference }
        } } }
        pageInfo { hasNextPage endCursor }
      }
    }
    """
    nodes: list[Any] = []
    after = None
    while len(nodes) < 12:
        data = await api.data(
            query, {"first": 5, "after": after, "since": since.isoformat()}, token
        )
        nodes += [edge["node"] for edge in data["events"]["edges"]]
        after = data["events"]["pageInfo"]["endCursor"]
    booking_documents = ("BKG", "CBR")
    assert nodes[:12] == [
        {
            "__typename": "ShipmentEvent",
            "eventID": str(e["event_id"]),
            "shipmentEventTypeCode": e["shipment_event_type_code"],
            "documentTypeCode": e["document_type_code"],
            "documentReference": e["carrier_booking_reference"]
            if e["document_type_code"] in booking_documents
            else e["transport_document_reference"],
            "shipment": {"transportDocumentReference": e["transport_document_reference"]},
        }
        for e in expected[:12]
    ]
    words = await api.data(
        """{ events(first: 100, filter: {eventTypeCodes: ["GATED_IN"]}) {
               nodes { ... on EquipmentEvent { equipmentEventTypeCode } } } }""",
        None,
        token,
    )
    assert {n["equipmentEventTypeCode"] for n in words["events"]["nodes"]} == {"GTIN"}


# --- SQL per request does not grow with the page ---------------------------------------------

ROOT_QUERIES = {
    "containers": """
    query($first: Int) { containers(first: $first) { nodes {
      number holds { type } portCall { portVisitReference } terminal { smdgCode }
      shipment { carrierBookingReference } consignee
      events(first: 3) { nodes { eventID ... on EquipmentEvent { portCall { id } } } }
    } } }
    """,
    "events": """
    query($first: Int, $since: DateTime!) {
      events(first: $first, filter: {createdAfter: $since}) { nodes {
        eventID
        ... on EquipmentEvent { portCall { id } container { number holds { type } } }
        ... on TransportEvent { portCall { id } vessel { name } }
        ... on ShipmentEvent { shipment { carrier } }
      } }
    }
    """,
    "container": """
    query($first: Int, $number: String!) { container(number: $number) {
      holds { type } portCall { id }
      events(first: $first) { nodes { eventID ... on EquipmentEvent { container { number } } } }
      shipment { containers(first: $first) { nodes { number holds { type }
        events(first: 3) { nodes { eventID } } } } }
    } }
    """,
    "shipment": """
    query($first: Int, $tdr: String!) { shipment(transportDocumentReference: $tdr) {
      shipper { name }
      containers(first: $first) { nodes { number holds { type } portCall { id }
        events(first: $first) { nodes { eventID } } } }
    } }
    """,
}


async def mixed_feed_start(pools: SourcePools) -> dt.datetime:
    """A creation time after which the next 10 events are of all three types, so both page
    sizes exercise every link of the event feed."""
    since: dt.datetime = await pools["cargo"].fetchval(
        """
        SELECT created FROM (
            SELECT event_created_datetime AS created,
                   count(*) FILTER (WHERE event_type = 'EQUIPMENT') OVER next_ten AS equipment,
                   count(*) FILTER (WHERE event_type = 'TRANSPORT') OVER next_ten AS transport,
                   count(*) FILTER (WHERE event_type = 'SHIPMENT') OVER next_ten AS shipment,
                   lead(event_created_datetime) OVER (ORDER BY event_created_datetime, event_id)
                       AS after_it
            FROM cargo.event WHERE retracted_at IS NULL
            WINDOW next_ten AS (ORDER BY event_created_datetime, event_id
                                ROWS BETWEEN 1 FOLLOWING AND 10 FOLLOWING)
        ) w
        WHERE equipment > 0 AND transport > 0 AND shipment > 0 AND after_it > created
        ORDER BY created LIMIT 1
        """
    )
    assert since is not None
    return since


# Statements per request on the resolver path: one per level and loader, whatever the page
# size; on the compiled path, one per database: cargo's statement builds the vessel source's
# port calls and terminals in place (tests/schema/test_compiled_sources.py: one per source
# when each lives in its own database).
COMPILED_STATEMENTS = 1
STATEMENTS = {
    # page, holds, port calls, terminals, shipments (consignee shares the batch), events
    # (the events' port calls are the containers': answered from the loader's cache)
    "containers": 6,
    # the page; then port calls, containers, vessels, shipments; then the containers' holds
    "events": 6,
    # container, holds, port call, events, shipment; its containers; their holds, events
    "container": 8,
    # shipment; containers; holds, port calls, events
    "shipment": 5,
}


@pytest.mark.parametrize("compiled", [True, False], ids=["compiled", "resolvers"])
@pytest.mark.parametrize("root", sorted(ROOT_QUERIES))
async def test_statement_count_does_not_grow_with_the_page(
    api: Any,
    resolver_api: Any,
    tokens: Any,
    count_sql: Any,
    seeded_pools: SourcePools,
    root: str,
    compiled: bool,
) -> None:
    client = api if compiled else resolver_api
    busy = await seeded_pools["cargo"].fetchrow(
        "SELECT transport_document_reference AS tdr, min(equipment_reference) AS number "
        "FROM cargo.container_visit WHERE transport_document_reference IS NOT NULL "
        "GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    )
    assert busy is not None
    variables: dict[str, Any] = {
        "container": {"number": busy["number"]},
        "shipment": {"tdr": busy["tdr"]},
        "events": {"since": (await mixed_feed_start(seeded_pools)).isoformat()},
    }.get(root, {})
    _, token = tokens.partner("CUSTOMS")
    counts = []
    for first in (10, 100):
        async with count_sql() as counter:
            data = await client.data(ROOT_QUERIES[root], {"first": first, **variables}, token)
        assert all(value is not None for value in data.values())
        counts.append(len(source_statements(counter.statements)))
    assert counts[0] == counts[1], counts
    assert counts[0] == (COMPILED_STATEMENTS if compiled else STATEMENTS[root]), counts
