"""What the compiled path may read: each entity's JSON values and each link's row source.

Every row source is the loaders' own (the same columns, the same `/*rule*/` slot, the same
order), written against its parent's columns instead of a batch of keys. Values are SQL
expressions on `{a}`, the alias of the entity's row; serialised exactly as the resolver path
serialises them (ISO 8601 instants as Python's `isoformat`, Relay global ids, cursors).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from resolvers.cargo import (
    CONTAINER_COLUMNS,
    EQUIPMENT_EVENT_OF_VISIT,
    EVENT_COLUMNS,
    SELECT_HOLDS_BY_VISIT,
    SELECT_SHIPMENTS,
)
from resolvers.gate import SELECT_APPOINTMENTS_BY_ID, SELECT_TRANSACTIONS_BY_EQUIPMENT
from resolvers.vessel import (
    PORT_CALL_COLUMNS,
    PORT_CALL_FROM,
    SELECT_PORT_CALLS_BY_ID,
    SELECT_PORTS,
    SELECT_TERMINALS_BY_PORT,
    SELECT_TIMESTAMPS_BY_ID,
    SELECT_TIMESTAMPS_BY_PORT_CALL,
    SELECT_VESSELS_BY_IMO,
    TERMINAL_COLUMNS,
)


def instant_text(column: str) -> str:
    """A timestamptz as the text of Python's `isoformat()` of a UTC datetime (microseconds
    only when there are any)."""
    text = f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')"
    return f"replace({text}, '.000000+', '+')"


def instant(column: str) -> str:
    """The same as a JSON value. Whole seconds (nearly every value) take PostgreSQL's own JSON
    form, which is that in a UTC session (the pools' time zone) and costs far less."""
    return (
        f"CASE WHEN date_trunc('second', {column}) = {column} THEN to_json({column}) "
        f"ELSE to_json({instant_text(column)}) END"
    )


def base64url(text: str) -> str:
    """Unpadded URL-safe base64, as `schema.pagination.encode_cursor` writes cursors."""
    return f"rtrim(translate(encode(convert_to({text}, 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')"


def global_id(type_name: str, node_id: str) -> str:
    """A Relay global id: standard base64 of `Type:id`, padded (Strawberry's GlobalID)."""
    return (
        f"translate(encode(convert_to('{type_name}:' || {node_id}, 'UTF8'), 'base64'), E'\\n', '')"
    )


def cursor(*parts: str) -> str:
    """A cursor over JSON texts of its key's parts (`[a,b]`, no spaces, like json.dumps)."""
    return base64url("'[' || " + " || ',' || ".join(parts) + " || ']'")


def json_text(expression: str) -> str:
    return f"to_json({expression})::text"


def quoted(expression: str) -> str:
    """JSON text of a value known to need no escaping (an instant, a uuid)."""
    return f"'\"' || {expression} || '\"'"


@dataclass(frozen=True, slots=True)
class Entity:
    source: str
    rule: str | None  # the source's row rule that applies to its rows; None: public rows
    fields: Mapping[str, str]
    keys: Mapping[str, str] = field(default_factory=dict)  # marker keys (text) on `{a}`
    tests: Mapping[str, str] = field(default_factory=dict)  # when an optional object is there
    discriminator: str | None = None


@dataclass(frozen=True, slots=True)
class LinkDef:
    """Rows of `target` for one parent: `rows` with `{owner0}`.. the parent's key values,
    `{after}` the page's cursor condition (with `{after0}`..), `{limit}` the page's LIMIT.

    `owner`: the key values as expressions on the parent's `{a}`; `from_key`: the same from
    a marker's key `{k}` (text), when the parent is of another source."""

    target: str
    rows: str
    owner: tuple[str, ...] = ()
    from_key: tuple[str, ...] = ()
    key: str = ""  # the parent entity's marker key, when `from_key` is used
    sort: str = ""
    cursor: str = ""
    after: str = ""
    page: bool = False


PORT_CALL_TEXT = (
    *("port_visit_reference", "carrier_import_voyage", "carrier_export_voyage"),
    *("service_code", "status", "berth"),
)

VESSEL = Entity(
    source="vessel",
    rule="schedule",
    fields={
        "id": global_id("Vessel", "{a}.imo"),
        "imo": "{a}.imo",
        "name": "{a}.name",
        "flag": "{a}.flag",
        "operator": "{a}.operator_scac",
        "length_overall": "{a}.length_overall_m::float8",
        "teu_capacity": "{a}.teu_capacity",
        "mmsi": "{a}.mmsi",
        "call_sign": "{a}.call_sign",
    },
)
PORT = Entity(
    source="vessel",
    rule=None,
    fields={n: "{a}." + n for n in ("unlocode", "name", "country", "latitude", "longitude")},
)
TERMINAL = Entity(
    source="vessel",
    rule=None,
    fields={
        n: "{a}." + n
        for n in (
            "unlocode",
            "smdg_code",
            "name",
            "operator_name",
            "berths",
            "latitude",
            "longitude",
        )
    },
)
PORT_CALL = Entity(
    source="vessel",
    rule="schedule",
    fields={
        "id": global_id("PortCall", "{a}.id::text"),
        "port_call_id": "{a}.id::text",
        "carrier": "{a}.carrier_scac",
        **{n: "{a}." + n for n in PORT_CALL_TEXT},
        **{
            n: instant("{a}." + n)
            for n in (
                "estimated_arrival",
                "actual_arrival",
                "estimated_departure",
                "actual_departure",
            )
        },
    },
    keys={"id": "{a}.id::text"},
)
TIMESTAMP = Entity(
    source="vessel",
    rule="timestamps",
    fields={
        "id": "{a}.id::text",
        "classifier": "{a}.classifier",
        "service_type": "{a}.service_type",
        "event_type": "{a}.event_type",
        "event_date_time": instant("{a}.event_datetime"),
        "publisher": "{a}.publisher_code",
        "publisher_role": "{a}.publisher_role",
        "remark": "{a}.remark",
        "delay_reason_code": "{a}.delay_reason_code",
    },
)
AIS_POSITION = Entity(
    source="vessel",
    rule=None,
    fields={
        "recorded_at": instant("{a}.recorded_at"),
        "latitude": "{a}.latitude",
        "longitude": "{a}.longitude",
        "speed_knots": "{a}.speed_knots::float8",
        "course": "{a}.course_deg::float8",
        "heading": "{a}.heading_deg",
        "navigational_status": "{a}.navigational_status",
    },
)
SHIPMENT = Entity(
    source="cargo",
    rule="cargo",
    fields={
        "transport_document_reference": "{a}.transport_document_reference",
        "carrier_booking_reference": "{a}.carrier_booking_reference",
        "carrier": "{a}.carrier_scac",
        **{
            n: "{a}." + n
            for n in (
                *("direction", "port_of_loading", "port_of_discharge", "place_of_receipt"),
                *("place_of_delivery", "commodity", "hs_code"),
            )
        },
        "created_at": instant("{a}.created_at"),
        **{
            f"{party}.{attribute}": f"{{a}}.{party}_{column}"
            for party in ("shipper", "consignee", "notify_party")
            for attribute, column in (("name", "name"), ("organization_code", "code"))
        },
    },
    tests={p: f"{{a}}.{p}_name IS NOT NULL" for p in ("shipper", "consignee", "notify_party")},
)
# An appointment's or a gate move's terminal and box, for the other sources' segments.
GATE_KEYS = {
    "terminal": "{a}.unlocode || '|' || {a}.smdg_code",
    "number": "{a}.equipment_reference",
}
APPOINTMENT = Entity(
    source="gate",
    rule="gate",
    fields={
        "reference": "{a}.appointment_reference",
        **{
            n: "{a}." + n
            for n in (
                *("trucker_scac", "unlocode", "smdg_code", "equipment_reference"),
                *("move_type", "status", "truck_license_plate"),
            )
        },
        **{n: instant("{a}." + n) for n in ("window_start", "window_end", "created_at")},
    },
    keys=GATE_KEYS,
)
GATE_TRANSACTION = Entity(
    source="gate",
    rule="gate",
    fields={
        **{
            n: "{a}." + n
            for n in (
                *("trucker_scac", "unlocode", "smdg_code", "lane", "equipment_reference"),
                *("move_type", "turn_time_minutes"),
            )
        },
        **{n: instant("{a}." + n) for n in ("gate_in_at", "gate_out_at")},
    },
    keys=GATE_KEYS,
)
# A container's shipment is visible whenever the container is (its own visit names the
# document, which is what the shipment's rule asks), so its columns are read directly.
SHIPMENT_OF_CONTAINER = """(SELECT {column} FROM cargo.shipment s
    WHERE s.transport_document_reference = {a}.transport_document_reference)"""
PARTY_OF_CONTAINER = """(SELECT p.party_name FROM cargo.shipment_party p
    WHERE p.transport_document_reference = {a}.transport_document_reference
      AND p.party_function = '{function}')"""

EQUIPMENT_OF_CONTAINER = """(SELECT eq.{column} FROM cargo.equipment eq
    WHERE eq.equipment_reference = {a}.equipment_reference)"""
ON_HOLD = """EXISTS (SELECT 1 FROM cargo.hold h
    WHERE h.container_visit_id = {a}.id AND h.released_at IS NULL)"""

CONTAINER = Entity(
    source="cargo",
    rule="cargo",
    fields={
        "id": global_id("Container", "{a}.equipment_reference"),
        "number": "{a}.equipment_reference",
        "iso_type": EQUIPMENT_OF_CONTAINER.replace("{column}", "iso_equipment_code"),
        "tare_weight_kg": EQUIPMENT_OF_CONTAINER.replace("{column}", "tare_weight_kg"),
        "carrier": "{a}.carrier_scac",
        "direction": "{a}.direction",
        "empty_indicator": "{a}.empty_indicator_code",
        "status": "{a}.status",
        "yard_location": "{a}.yard_location",
        "available_for_pickup": "{a}.available_for_pickup",
        "last_free_day": "{a}.last_free_day",
        "on_hold": ON_HOLD,
        "transport_document_reference": "{a}.transport_document_reference",
        "reefer_setpoint_celsius": "{a}.reefer_setpoint_c",
        "updated_at": instant("{a}.updated_at"),
        "gross_weight_kg": "{a}.gross_weight_kg",
        "seals": "{a}.seals",
        "dangerous_goods.un_number": "{a}.dangerous_goods_un_number",
        "dangerous_goods.imo_class": "{a}.dangerous_goods_class",
        "commodity": SHIPMENT_OF_CONTAINER.replace("{column}", "s.commodity"),
        "hs_code": SHIPMENT_OF_CONTAINER.replace("{column}", "s.hs_code"),
        "shipper": PARTY_OF_CONTAINER.replace("{function}", "OS"),
        "consignee": PARTY_OF_CONTAINER.replace("{function}", "CN"),
    },
    keys={
        "port_call_id": "{a}.port_call_id::text",
        "terminal": "{a}.unlocode || '|' || {a}.smdg_code",
        "number": "{a}.equipment_reference",
    },
    tests={"dangerous_goods": "{a}.dangerous_goods_un_number IS NOT NULL"},
)
HOLD = Entity(
    source="cargo",
    rule="cargo",
    fields={
        "type": "{a}.hold_type",
        "reason_code": "{a}.reason_code",
        "remark": "{a}.remark",
        "placed_at": instant("{a}.placed_at"),
        "placed_by": "{a}.placed_by_code",
        "released_at": instant("{a}.released_at"),
        "released_by": "{a}.released_by_code",
        "active": "({a}.released_at IS NULL)",
    },
)
# A shipment event names its document by the booking for bookings, else by the B/L.
DOCUMENT_REFERENCE = (
    "CASE WHEN {a}.document_type_code IN ('BKG', 'CBR') OR {a}.transport_document_reference "
    "IS NULL THEN {a}.carrier_booking_reference ELSE {a}.transport_document_reference END"
)
EVENT = Entity(
    source="cargo",
    rule="cargo",
    fields={
        "event_id": "{a}.event_id::text",
        "event_type": "{a}.event_type",
        "event_classifier": "{a}.event_classifier_code",
        "event_date_time": instant("{a}.event_datetime"),
        "event_created_date_time": instant("{a}.event_created_datetime"),
        **{
            n: "{a}." + n
            for n in (
                *("equipment_event_type_code", "transport_event_type_code"),
                *("shipment_event_type_code", "document_type_code", "equipment_reference"),
                *("iso_equipment_code", "empty_indicator_code", "transport_document_reference"),
                *("carrier_booking_reference", "mode_of_transport"),
            )
        },
        "document_reference": DOCUMENT_REFERENCE,
        "location.unlocode": "{a}.unlocode",
        "location.facility_smdg_code": "{a}.facility_smdg_code",
    },
    tests={"location": "{a}.unlocode IS NOT NULL"},
    keys={"port_call_id": "{a}.port_call_id::text", "vessel_imo": "{a}.vessel_imo"},
    discriminator="{a}.event_type",
)

ENTITIES: Mapping[str, Entity] = {
    "vessel": VESSEL,
    "port": PORT,
    "terminal": TERMINAL,
    "port_call": PORT_CALL,
    "container": CONTAINER,
    "hold": HOLD,
    "event": EVENT,
    "timestamp": TIMESTAMP,
    "ais_position": AIS_POSITION,
    "shipment": SHIPMENT,
    "appointment": APPOINTMENT,
    "gate_transaction": GATE_TRANSACTION,
}

# --- Row sources: the loaders' statements, for one parent --------------------------------


def for_one_parent(batch: str, keys: str) -> str:
    """A loader's batch statement (`... <keys>`, the batch's keys as `= ANY($1)`) for the one
    parent `{owner0}`: the same columns, joins and rule slot as the loader's."""
    one = batch.replace(keys, "= {owner0}")
    assert one != batch, keys
    return one


# A container's visit without its equipment and holds: those are read only when asked for
# (the CONTAINER entity's iso_type, tare_weight_kg and on_hold), not for every row.
VISIT_COLUMNS = CONTAINER_COLUMNS.split("eq.iso_equipment_code")[0].rstrip().rstrip(",")

VESSEL_BY_IMO = for_one_parent(SELECT_VESSELS_BY_IMO, "= ANY($1::text[])")
PORT_BY_UNLOCODE = for_one_parent(SELECT_PORTS, "= ANY($1::text[])")
TERMINAL_BY_KEY = f"""
SELECT {TERMINAL_COLUMNS} FROM vessel.terminal t
WHERE t.unlocode = {{owner0}} AND t.smdg_code = {{owner1}}"""
TERMINALS_BY_PORT = for_one_parent(SELECT_TERMINALS_BY_PORT, "= ANY($1::text[])")
PORT_CALL_BY_ID = for_one_parent(SELECT_PORT_CALLS_BY_ID, "= ANY($1::uuid[])")
CONTAINERS_OF_PORT_CALL = f"""
SELECT {VISIT_COLUMNS} FROM cargo.container_visit cv
WHERE cv.port_call_id = {{owner0}} {{after}} AND /*rule*/
ORDER BY cv.equipment_reference
LIMIT {{limit}}"""
# A container by number is its latest visible visit (container_visit_latest_idx).
CONTAINER_BY_NUMBER = f"""
SELECT {VISIT_COLUMNS} FROM cargo.container_visit cv
WHERE cv.equipment_reference = {{owner0}} AND /*rule*/
ORDER BY cv.updated_at DESC, cv.id DESC
LIMIT 1"""
HOLDS_OF_VISIT = for_one_parent(SELECT_HOLDS_BY_VISIT, "= ANY($1::bigint[])")
# A container's events, latest first: those belonging to a visit of it the partner sees
# (resolvers.cargo.EQUIPMENT_EVENT_OF_VISIT), one semi-join probe per event.
EVENTS_OF_CONTAINER = f"""
SELECT {EVENT_COLUMNS}
FROM cargo.event e
WHERE e.equipment_reference = {{owner0}}
  AND e.retracted_at IS NULL {{after}}
  AND EXISTS (SELECT 1 FROM cargo.container_visit cv
              WHERE {EQUIPMENT_EVENT_OF_VISIT} AND /*rule*/)
ORDER BY e.event_datetime DESC, e.event_id
LIMIT {{limit}}"""
TIMESTAMPS_OF_PORT_CALL = for_one_parent(SELECT_TIMESTAMPS_BY_PORT_CALL, "= ANY($1::uuid[])")
TIMESTAMP_BY_ID = for_one_parent(SELECT_TIMESTAMPS_BY_ID, "= ANY($1::uuid[])")
LATEST_POSITION = """
SELECT a.vessel_imo, a.recorded_at, a.latitude, a.longitude, a.speed_knots, a.course_deg,
       a.heading_deg, a.navigational_status
FROM vessel.ais_position a
WHERE a.vessel_imo = {owner0}
ORDER BY a.recorded_at DESC
LIMIT 1"""
PORT_CALLS_OF_VESSEL = f"""
SELECT {PORT_CALL_COLUMNS} FROM {PORT_CALL_FROM}
WHERE pc.vessel_imo = {{owner0}} {{after}} AND /*rule*/
ORDER BY pc.estimated_arrival, pc.id
LIMIT {{limit}}"""
SHIPMENT_BY_REFERENCE = for_one_parent(SELECT_SHIPMENTS, "= ANY($1::text[])")
CONTAINERS_OF_DOCUMENT = f"""
SELECT DISTINCT ON (cv.equipment_reference) {VISIT_COLUMNS}
FROM cargo.container_visit cv
WHERE cv.transport_document_reference = {{owner0}} {{after}} AND /*rule*/
ORDER BY cv.equipment_reference, cv.updated_at DESC, cv.id DESC
LIMIT {{limit}}"""
TRANSACTIONS_OF_CONTAINER = for_one_parent(SELECT_TRANSACTIONS_BY_EQUIPMENT, "= ANY($1::text[])")
APPOINTMENT_BY_ID = for_one_parent(SELECT_APPOINTMENTS_BY_ID, "= ANY($1::bigint[])")

PORT_CALL_CURSOR = cursor(quoted(instant_text("{a}.estimated_arrival")), quoted("{a}.id::text"))
VESSEL_CURSOR = cursor(json_text("{a}.sort_name"), json_text("{a}.imo"))
CONTAINER_CURSOR = cursor(json_text("{a}.equipment_reference"))
LATEST_EVENT_CURSOR = cursor(
    quoted(instant_text("{a}.event_datetime")), quoted("{a}.event_id::text")
)
FEED_EVENT_CURSOR = cursor(
    quoted(instant_text("{a}.event_created_datetime")), quoted("{a}.event_id::text")
)
APPOINTMENT_CURSOR = cursor(quoted(instant_text("{a}.window_start")), "{a}.id::text")
TRANSACTION_CURSOR = cursor(quoted(instant_text("{a}.gate_in_at")), "{a}.id::text")
# `_entities` keys are partners' text: hex in the marker, parts split at '|'.
HEX_KEY = ("convert_from(decode(split_part({k}, '|', 1), 'hex'), 'UTF8')",)
HEX_KEYS = (*HEX_KEY, "convert_from(decode(split_part({k}, '|', 2), 'hex'), 'UTF8')")
UUID_KEY = ("{k}::uuid",)
TEXT_KEY = ("{k}",)
CONTAINER_AFTER = "AND cv.equipment_reference > {after0}::text"
TERMINAL_KEY = ("split_part({k}, '|', 1)", "split_part({k}, '|', 2)")

LINKS: Mapping[str, LinkDef] = {
    # Root fields: lists take their rows from the binding (the loaders' composed statement).
    "Query.portCalls": LinkDef(
        "port_call", "", sort="{a}.estimated_arrival, {a}.id", cursor=PORT_CALL_CURSOR, page=True
    ),
    "Query.vessels": LinkDef(
        "vessel", "", sort="{a}.sort_name, {a}.imo", cursor=VESSEL_CURSOR, page=True
    ),
    "Query.containers": LinkDef(
        "container", "", sort="{a}.equipment_reference", cursor=CONTAINER_CURSOR, page=True
    ),
    "Query.events": LinkDef(
        "event",
        "",
        sort="{a}.event_created_datetime, {a}.event_id",
        cursor=FEED_EVENT_CURSOR,
        page=True,
    ),
    "Query.appointments": LinkDef(
        "appointment",
        "",
        sort="{a}.window_start, {a}.id",
        cursor=APPOINTMENT_CURSOR,
        page=True,
    ),
    "Query.gateTransactions": LinkDef(
        "gate_transaction",
        "",
        sort="{a}.gate_in_at DESC, {a}.id DESC",
        cursor=TRANSACTION_CURSOR,
        page=True,
    ),
    "Query.port": LinkDef("port", PORT_BY_UNLOCODE, owner=("{key}::text",)),
    "Query.shipment": LinkDef("shipment", SHIPMENT_BY_REFERENCE, owner=("{key}::text",)),
    "Query.portCall": LinkDef("port_call", PORT_CALL_BY_ID, owner=("{key}::uuid",)),
    "Query.vessel": LinkDef("vessel", VESSEL_BY_IMO, owner=("{key}::text",)),
    "Query.container": LinkDef("container", CONTAINER_BY_NUMBER, owner=("{key}::text",)),
    # Federation's entity references, one segment per type (`_entities`).
    "_entities.Container": LinkDef("container", CONTAINER_BY_NUMBER, from_key=HEX_KEY),
    "_entities.Vessel": LinkDef("vessel", VESSEL_BY_IMO, from_key=HEX_KEY),
    "_entities.PortCall": LinkDef("port_call", PORT_CALL_BY_ID, from_key=UUID_KEY),
    "_entities.Port": LinkDef("port", PORT_BY_UNLOCODE, from_key=HEX_KEY),
    "_entities.Terminal": LinkDef("terminal", TERMINAL_BY_KEY, from_key=HEX_KEYS),
    "_entities.Shipment": LinkDef("shipment", SHIPMENT_BY_REFERENCE, from_key=HEX_KEY),
    # Links between entities.
    "PortCall.vessel": LinkDef("vessel", VESSEL_BY_IMO, owner=("{a}.vessel_imo",)),
    "PortCall.port": LinkDef("port", PORT_BY_UNLOCODE, owner=("{a}.unlocode",)),
    "PortCall.terminal": LinkDef(
        "terminal", TERMINAL_BY_KEY, owner=("{a}.terminal_unlocode", "{a}.terminal_smdg_code")
    ),
    "PortCall.containers": LinkDef(
        "container",
        CONTAINERS_OF_PORT_CALL,
        owner=("{a}.id",),
        from_key=UUID_KEY,
        key="id",
        sort="{a}.equipment_reference",
        cursor=CONTAINER_CURSOR,
        after=CONTAINER_AFTER,
        page=True,
    ),
    "PortCall.timestamps": LinkDef(
        "timestamp", TIMESTAMPS_OF_PORT_CALL, owner=("{a}.id",), sort="{a}.created_at, {a}.id"
    ),
    "Timestamp.replyTo": LinkDef(
        "timestamp", TIMESTAMP_BY_ID, owner=("{a}.reply_to_timestamp_id",)
    ),
    "Timestamp.terminal": LinkDef(
        "terminal", TERMINAL_BY_KEY, owner=("{a}.terminal_unlocode", "{a}.terminal_smdg_code")
    ),
    "Vessel.latestPosition": LinkDef("ais_position", LATEST_POSITION, owner=("{a}.imo",)),
    "Vessel.portCalls": LinkDef(
        "port_call",
        PORT_CALLS_OF_VESSEL,
        owner=("{a}.imo",),
        sort="{a}.estimated_arrival, {a}.id",
        cursor=PORT_CALL_CURSOR,
        after="AND (pc.estimated_arrival, pc.id) > ({after0}::timestamptz, {after1}::uuid)",
        page=True,
    ),
    "Port.terminals": LinkDef(
        "terminal", TERMINALS_BY_PORT, owner=("{a}.unlocode",), sort="{a}.smdg_code"
    ),
    "Terminal.port": LinkDef("port", PORT_BY_UNLOCODE, owner=("{a}.unlocode",)),
    "Container.terminal": LinkDef(
        "terminal",
        TERMINAL_BY_KEY,
        owner=("{a}.unlocode", "{a}.smdg_code"),
        from_key=TERMINAL_KEY,
        key="terminal",
    ),
    "Container.portCall": LinkDef(
        "port_call",
        PORT_CALL_BY_ID,
        owner=("{a}.port_call_id",),
        from_key=UUID_KEY,
        key="port_call_id",
    ),
    "Container.holds": LinkDef(
        "hold", HOLDS_OF_VISIT, owner=("{a}.id",), sort="{a}.placed_at, {a}.id"
    ),
    "Container.events": LinkDef(
        "event",
        EVENTS_OF_CONTAINER,
        owner=("{a}.equipment_reference",),
        sort="{a}.event_datetime DESC, {a}.event_id",
        cursor=LATEST_EVENT_CURSOR,
        after=(
            "AND e.event_datetime <= {after0}::timestamptz"
            " AND (e.event_datetime < {after0}::timestamptz OR e.event_id > {after1}::uuid)"
        ),
        page=True,
    ),
    "Container.shipment": LinkDef(
        "shipment", SHIPMENT_BY_REFERENCE, owner=("{a}.transport_document_reference",)
    ),
    "Container.gateTransactions": LinkDef(
        "gate_transaction",
        TRANSACTIONS_OF_CONTAINER,
        from_key=TEXT_KEY,
        key="number",
        sort="{a}.gate_in_at, {a}.id",
    ),
    "Shipment.containers": LinkDef(
        "container",
        CONTAINERS_OF_DOCUMENT,
        owner=("{a}.transport_document_reference",),
        sort="{a}.equipment_reference",
        cursor=CONTAINER_CURSOR,
        after=CONTAINER_AFTER,
        page=True,
    ),
    "EquipmentEvent.portCall": LinkDef(
        "port_call", PORT_CALL_BY_ID, from_key=UUID_KEY, key="port_call_id"
    ),
    "EquipmentEvent.container": LinkDef(
        "container", CONTAINER_BY_NUMBER, owner=("{a}.equipment_reference",)
    ),
    "TransportEvent.portCall": LinkDef(
        "port_call", PORT_CALL_BY_ID, from_key=UUID_KEY, key="port_call_id"
    ),
    "TransportEvent.vessel": LinkDef("vessel", VESSEL_BY_IMO, from_key=TEXT_KEY, key="vessel_imo"),
    "ShipmentEvent.shipment": LinkDef(
        "shipment", SHIPMENT_BY_REFERENCE, owner=("{a}.transport_document_reference",)
    ),
    "Appointment.terminal": LinkDef(
        "terminal", TERMINAL_BY_KEY, from_key=TERMINAL_KEY, key="terminal"
    ),
    "Appointment.container": LinkDef(
        "container", CONTAINER_BY_NUMBER, from_key=TEXT_KEY, key="number"
    ),
    "GateTransaction.appointment": LinkDef(
        "appointment", APPOINTMENT_BY_ID, owner=("{a}.appointment_id",)
    ),
    "GateTransaction.terminal": LinkDef(
        "terminal", TERMINAL_BY_KEY, from_key=TERMINAL_KEY, key="terminal"
    ),
    "GateTransaction.container": LinkDef(
        "container", CONTAINER_BY_NUMBER, from_key=TEXT_KEY, key="number"
    ),
}
