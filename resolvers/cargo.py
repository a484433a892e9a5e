"""The cargo source: equipment, shipments, container visits, holds and DCSA T&T 2.2 events.

Row rule: one predicate on the `cv` (cargo.container_visit) alias, chosen by the principal.
Every statement that reads cargo rows carries it: containers directly; holds through their
visit; shipments when one of their visits is visible; events when the visit they belong to
is visible (see EVENT_VISIBLE), an event tied to no visit only to those who see every visit
(UNTIED_SLOT). A row outside the rule is simply not returned.

Loaders batch one SQL statement per batch, whatever the number of keys: per-parent pages use
`unnest(...) WITH ORDINALITY` + LATERAL with the page size and `after` key passed per key, so
keys with different sizes or cursors still share one statement.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from aiodataloader import DataLoader
from asyncpg import Record

from resolvers.gate import APPOINTED_VISIT
from resolvers.paging import (
    FILTERS_SLOT,
    LIMIT_SLOT,
    Page,
    Statement,
    columns,
    compose,
    make_page,
    present,
)
from resolvers.principal import OrganizationKind, Principal
from resolvers.rules import SEES_ALL, SEES_NOTHING, AppointmentVisits, Rule
from resolvers.sources import Pool

RuleProvider: TypeAlias = Callable[[], Awaitable[Rule]]
# Nested page keys: (parent key, page size, the `after` cursor's content or None).
PageKey: TypeAlias = tuple[Any, int, tuple[Any, ...] | None]
ContainerCursor: TypeAlias = tuple[str]  # (equipment_reference,)
EventCursor: TypeAlias = tuple[datetime.datetime, uuid.UUID]  # (event time or created, id)

# --- Row rule ---------------------------------------------------------------------------

CARRIER_RULE = "cv.carrier_scac = {0}::text"
# A cargo owner's documents: an uncorrelated IN, planned as a semi-join driven by
# shipment_party_org_idx, or hashed once per statement.
BCO_RULE = (
    "cv.transport_document_reference IN ("
    "SELECT sp.transport_document_reference FROM cargo.shipment_party sp "
    "WHERE sp.organization_code = {0}::text)"
)
# A trucker sees the visits it holds a live appointment for: that box, at that terminal, in
# the direction of the appointment's move (resolvers.gate.appointment_visits), never the
# box's other visits. A busy trucker's visits number tens of thousands (76,000 at scale 10):
# they come as one array literal of keys, made once per statement into a jsonb object (an
# uncorrelated InitPlan, evaluated once however deep the rule sits), and each visit costs
# one key look-up. An IN over the arrays becomes a hashed SubPlan that PostgreSQL rebuilds
# at every rescan of an enclosing LATERAL or subquery, or a linear scan past work_mem.
TRUCKER_RULE = (
    "(SELECT jsonb_object_agg(k, 1) FROM unnest({0}::text::text[]) AS k)"
    " ? concat_ws('|', cv.equipment_reference, cv.unlocode, cv.smdg_code, cv.direction)"
)
# Where the gate source shares cargo's database, the same visits are asked in place.
TRUCKER_IN_PLACE_RULE = APPOINTED_VISIT
TERMINAL_RULE = "cv.unlocode = {0}::text AND cv.smdg_code = {1}::text"


def cargo_rule(
    principal: Principal,
    appointment_visits: AppointmentVisits | None,
    *,
    gate_alongside: bool = False,
) -> Rule:
    """The visits `principal` may see: a predicate on the `cv` alias of cargo.container_visit.

    `appointment_visits` is, for a trucker, the visits it holds a live appointment for
    (resolvers.gate.appointment_visits; None for other kinds). `gate_alongside` says the
    gate source lives in cargo's database: a trucker's rule then reads its appointments in
    place, and needs no `appointment_visits`. A principal missing the attribute its kind is
    keyed on sees nothing.
    """
    kind = principal.kind
    if kind is OrganizationKind.TRUCKER and gate_alongside and principal.scac:
        return Rule(TRUCKER_IN_PLACE_RULE, (principal.scac,))
    if kind in (OrganizationKind.CUSTOMS, OrganizationKind.PORT_AUTHORITY):
        return SEES_ALL
    if kind is OrganizationKind.CARRIER and principal.scac:
        return Rule(CARRIER_RULE, (principal.scac,))
    if kind is OrganizationKind.BCO and principal.organization_code:
        return Rule(BCO_RULE, (principal.organization_code,))
    if kind is OrganizationKind.TRUCKER and appointment_visits and appointment_visits.count:
        return Rule(TRUCKER_RULE, (appointment_visits.keys,))
    if (
        kind is OrganizationKind.TERMINAL
        and principal.terminal_unlocode
        and principal.terminal_smdg_code
    ):
        return Rule(TERMINAL_RULE, (principal.terminal_unlocode, principal.terminal_smdg_code))
    return SEES_NOTHING


# --- A visit's state after its events ---------------------------------------------------

# Status of a visit after its latest actual step (None: nothing done yet); the demo's
# lifecycle (resolvers.seed.lifecycle) and published events (resolvers.cargo_writes) alike.
IMPORT_STATUS = {
    None: "ON_VESSEL", "ARRI": "ON_VESSEL", "DISC": "IN_YARD", "CUSS": "IN_YARD",
    "CUSI": "IN_YARD", "CUSR": "IN_YARD", "AVPU": "IN_YARD", "GTOT": "PICKED_UP",
    "STRP": "PICKED_UP", "GTIN": "EMPTY_RETURNED",
}  # fmt: skip
EXPORT_STATUS = {
    None: "IN_YARD", "GTOT": "PICKED_UP", "STUF": "PICKED_UP", "GTIN": "GATED_IN",
    "LOAD": "LOADED", "DEPA": "LOADED",
}  # fmt: skip
FREE_DAYS = 4  # last free day: discharge day (UTC) + 4


# --- Containers -------------------------------------------------------------------------

CONTAINER_COLUMNS = """
    cv.id, cv.equipment_reference, cv.port_call_id, cv.unlocode, cv.smdg_code, cv.carrier_scac,
    cv.transport_document_reference, cv.direction, cv.empty_indicator_code, cv.status,
    cv.yard_location, cv.available_for_pickup, cv.last_free_day,
    cv.gross_weight_kg::float8 AS gross_weight_kg, cv.seals,
    cv.reefer_setpoint_c::float8 AS reefer_setpoint_c,
    cv.dangerous_goods_un_number, cv.dangerous_goods_class, cv.updated_at,
    eq.iso_equipment_code, eq.tare_weight_kg,
    EXISTS (SELECT 1 FROM cargo.hold h
            WHERE h.container_visit_id = cv.id AND h.released_at IS NULL) AS on_hold"""

# The names CONTAINER_COLUMNS gives its columns: what a per-parent page selects again.
CONTAINER_NAMES = (
    *("id", "equipment_reference", "port_call_id", "unlocode", "smdg_code", "carrier_scac"),
    *("transport_document_reference", "direction", "empty_indicator_code", "status"),
    *("yard_location", "available_for_pickup", "last_free_day", "gross_weight_kg", "seals"),
    *("reefer_setpoint_c", "dangerous_goods_un_number", "dangerous_goods_class", "updated_at"),
    *("iso_equipment_code", "tare_weight_kg", "on_hold"),
)

CONTAINER_FROM = """
    cargo.container_visit cv
    JOIN cargo.equipment eq ON eq.equipment_reference = cv.equipment_reference"""

# A container is its latest visible visit (container_visit_latest_idx).
SELECT_CONTAINERS_BY_NUMBER = f"""
SELECT DISTINCT ON (cv.equipment_reference) {CONTAINER_COLUMNS}
FROM {CONTAINER_FROM}
WHERE cv.equipment_reference = ANY($1::text[]) AND /*rule*/
ORDER BY cv.equipment_reference, cv.updated_at DESC, cv.id DESC
"""

# Per port call: the visits of that call (one per container), by container number.
# coalesce(after, '') keeps the bound an index condition ('' sorts before every number).
SELECT_CONTAINERS_BY_PORT_CALL = f"""
SELECT k.ord, {columns("c", CONTAINER_NAMES)}
FROM unnest($1::uuid[], $2::int[], $3::text[])
    WITH ORDINALITY AS k(port_call_id, size, after_number, ord)
CROSS JOIN LATERAL (
    SELECT {CONTAINER_COLUMNS}
    FROM {CONTAINER_FROM}
    WHERE cv.port_call_id = k.port_call_id
      AND cv.equipment_reference > coalesce(k.after_number, '')
      AND /*rule*/
    ORDER BY cv.equipment_reference
    LIMIT k.size + 1
) c
"""

# Per transport document: the latest visible visit of each of its containers.
SELECT_CONTAINERS_BY_DOCUMENT = f"""
SELECT k.ord, {columns("c", CONTAINER_NAMES)}
FROM unnest($1::text[], $2::int[], $3::text[])
    WITH ORDINALITY AS k(transport_document_reference, size, after_number, ord)
CROSS JOIN LATERAL (
    SELECT DISTINCT ON (cv.equipment_reference) {CONTAINER_COLUMNS}
    FROM {CONTAINER_FROM}
    WHERE cv.transport_document_reference = k.transport_document_reference
      AND cv.equipment_reference > coalesce(k.after_number, '')
      AND /*rule*/
    ORDER BY cv.equipment_reference, cv.updated_at DESC, cv.id DESC
    LIMIT k.size + 1
) c
"""

# The root list: each container once, as its latest visible visit meeting the filters
# (container_visit_latest_idx gives this order, so the scan stops at the page's end).
SELECT_CONTAINER_PAGE = f"""
SELECT DISTINCT ON (cv.equipment_reference) {CONTAINER_COLUMNS}
FROM {CONTAINER_FROM}
WHERE {FILTERS_SLOT} AND /*rule*/
ORDER BY cv.equipment_reference, cv.updated_at DESC, cv.id DESC
LIMIT {LIMIT_SLOT}
"""

# Allowlisted conditions (`compose`): {n} are a condition's parameters, numbered when composed.
CONTAINER_FILTERS: Mapping[str, str] = {
    "terminal": "cv.unlocode = {0}::text AND cv.smdg_code = {1}::text",
    "status": "cv.status = {0}::text",
    "carrier": "cv.carrier_scac = {0}::text",
    "transport_document_reference": "cv.transport_document_reference = {0}::text",
    "available_for_pickup": "cv.available_for_pickup = {0}::boolean",
    "on_hold": (
        "EXISTS (SELECT 1 FROM cargo.hold h "
        "WHERE h.container_visit_id = cv.id AND h.released_at IS NULL) = {0}::boolean"
    ),
    "after": "cv.equipment_reference > {0}::text",
}


@dataclass(frozen=True, slots=True)
class ContainerCriteria:
    """Validated filters of the root container list; None means "any"."""

    terminal: tuple[str, str] | None = None  # (unlocode, smdg_code)
    status: str | None = None
    carrier: str | None = None
    transport_document_reference: str | None = None
    available_for_pickup: bool | None = None
    on_hold: bool | None = None


def container_key(row: Record) -> tuple[Any, ...]:
    """Cursor content of a container in any container list."""
    return (row["equipment_reference"],)


# --- Holds ------------------------------------------------------------------------------

SELECT_HOLDS_BY_VISIT = """
SELECT h.id, h.container_visit_id, h.hold_type, h.reason_code, h.remark, h.placed_by_code,
       h.placed_at, h.released_by_code, h.released_at
FROM cargo.hold h
JOIN cargo.container_visit cv ON cv.id = h.container_visit_id
WHERE h.container_visit_id = ANY($1::bigint[]) AND /*rule*/
ORDER BY h.container_visit_id, h.placed_at, h.id
"""

# --- Shipments --------------------------------------------------------------------------

SELECT_SHIPMENTS = """
SELECT s.transport_document_reference, s.carrier_booking_reference, s.carrier_scac,
       s.direction, s.commodity, s.hs_code, s.place_of_receipt, s.port_of_loading,
       s.port_of_discharge, s.place_of_delivery, s.created_at,
       os.party_name AS shipper_name, os.organization_code AS shipper_code,
       cn.party_name AS consignee_name, cn.organization_code AS consignee_code,
       n1.party_name AS notify_party_name, n1.organization_code AS notify_party_code
FROM cargo.shipment s
LEFT JOIN cargo.shipment_party os
    ON os.transport_document_reference = s.transport_document_reference
   AND os.party_function = 'OS'
LEFT JOIN cargo.shipment_party cn
    ON cn.transport_document_reference = s.transport_document_reference
   AND cn.party_function = 'CN'
LEFT JOIN cargo.shipment_party n1
    ON n1.transport_document_reference = s.transport_document_reference
   AND n1.party_function = 'N1'
WHERE s.transport_document_reference = ANY($1::text[])
  AND EXISTS (SELECT 1 FROM cargo.container_visit cv
              WHERE cv.transport_document_reference = s.transport_document_reference
                AND /*rule*/)
"""

# --- Events -----------------------------------------------------------------------------

EVENT_NAMES = (
    *("event_id", "event_type", "event_classifier_code", "event_datetime"),
    *("event_created_datetime", "equipment_event_type_code", "transport_event_type_code"),
    *("shipment_event_type_code", "document_type_code", "equipment_reference"),
    *("iso_equipment_code", "empty_indicator_code", "transport_document_reference"),
    *("carrier_booking_reference", "carrier_scac", "port_call_id", "vessel_imo"),
    *("mode_of_transport", "unlocode", "facility_smdg_code", "publisher_code"),
)
EVENT_COLUMNS = columns("e", EVENT_NAMES)

# An equipment event naming neither a transport call nor a transport document is tied to no
# visit: it may belong to any lease of its box, another carrier's included. Only a principal
# who sees every visit (SEES_ALL) sees it; the slot holds the constant TRUE or FALSE.
UNTIED_SLOT = "/*untied*/"

# Which visit an equipment event belongs to: the one of its transport call when it names
# one, else the one of its transport document; an untied event, see UNTIED_SLOT.
EQUIPMENT_EVENT_OF_VISIT = f"""
    cv.equipment_reference = e.equipment_reference
    AND CASE WHEN e.port_call_id IS NOT NULL THEN cv.port_call_id = e.port_call_id
             WHEN e.transport_document_reference IS NOT NULL
                 THEN cv.transport_document_reference = e.transport_document_reference
             ELSE {UNTIED_SLOT} END"""

# An event is visible when the visit it belongs to is. The CASE picks one indexed probe
# per event (an OR of them would defeat the indexes).
EVENT_VISIBLE = f"""
    CASE
    WHEN e.equipment_reference IS NOT NULL THEN EXISTS (
        SELECT 1 FROM cargo.container_visit cv
        WHERE {EQUIPMENT_EVENT_OF_VISIT} AND /*rule*/)
    WHEN e.transport_document_reference IS NOT NULL THEN EXISTS (
        SELECT 1 FROM cargo.container_visit cv
        WHERE cv.transport_document_reference = e.transport_document_reference AND /*rule*/)
    WHEN e.carrier_booking_reference IS NOT NULL THEN EXISTS (
        SELECT 1 FROM cargo.shipment s
        JOIN cargo.container_visit cv
            ON cv.transport_document_reference = s.transport_document_reference
        WHERE s.carrier_booking_reference = e.carrier_booking_reference AND /*rule*/)
    WHEN e.port_call_id IS NOT NULL THEN EXISTS (
        SELECT 1 FROM cargo.container_visit cv
        WHERE cv.port_call_id = e.port_call_id AND /*rule*/)
    ELSE FALSE
    END"""

# Per container: its latest events first (event_equipment_idx). The visible visits of the
# container are read once per key (`vis`), not once per event; the events then match them
# the way EQUIPMENT_EVENT_OF_VISIT does.
SELECT_EVENTS_BY_EQUIPMENT = f"""
SELECT k.ord, {columns("ev", EVENT_NAMES)}
FROM unnest($1::text[], $2::int[], $3::timestamptz[], $4::uuid[])
    WITH ORDINALITY AS k(equipment_reference, size, after_at, after_id, ord)
CROSS JOIN LATERAL (
    SELECT array_agg(cv.port_call_id) AS port_call_ids,
           array_agg(cv.transport_document_reference) AS document_references
    FROM cargo.container_visit cv
    WHERE cv.equipment_reference = k.equipment_reference AND /*rule*/
) vis
CROSS JOIN LATERAL (
    SELECT {EVENT_COLUMNS}
    FROM cargo.event e
    WHERE vis.port_call_ids IS NOT NULL
      AND e.equipment_reference = k.equipment_reference
      AND e.retracted_at IS NULL
      AND e.event_datetime <= coalesce(k.after_at, 'infinity')
      AND (k.after_at IS NULL OR e.event_datetime < k.after_at
           OR e.event_id > k.after_id)
      AND CASE WHEN e.port_call_id IS NOT NULL THEN e.port_call_id = ANY(vis.port_call_ids)
               WHEN e.transport_document_reference IS NOT NULL
                   THEN e.transport_document_reference = ANY(vis.document_references)
               ELSE {UNTIED_SLOT} END
    ORDER BY e.event_datetime DESC, e.event_id
    LIMIT k.size + 1
) ev
"""

# The root event feed, oldest created first (event_created_idx): a partner polls it with
# `createdAfter` or the cursor.
SELECT_EVENT_PAGE = f"""
SELECT {EVENT_COLUMNS}
FROM cargo.event e
WHERE e.retracted_at IS NULL AND {FILTERS_SLOT}
  AND {EVENT_VISIBLE}
ORDER BY e.event_created_datetime, e.event_id
LIMIT {LIMIT_SLOT}
"""

# DCSA's GET /v2/events: the same feed, with what an event carries beyond its columns.
SELECT_DCSA_EVENT_PAGE = f"""
SELECT {EVENT_COLUMNS}, e.extra::text AS extra
FROM cargo.event e
WHERE e.retracted_at IS NULL AND {FILTERS_SLOT}
  AND {EVENT_VISIBLE}
ORDER BY e.event_created_datetime, e.event_id
LIMIT {LIMIT_SLOT}
"""

# Allowlisted conditions of the event feeds, in the order they are composed.
EVENT_FILTERS: Mapping[str, str] = {
    "equipment_reference": "e.equipment_reference = {0}::text",
    "transport_document_reference": "e.transport_document_reference = {0}::text",
    "carrier_booking_reference": "e.carrier_booking_reference = {0}::text",
    "event_types": "e.event_type = ANY({0}::text[])",
    "event_type_codes": (
        "(e.equipment_event_type_code = ANY({0}::text[])"
        " OR e.transport_event_type_code = ANY({0}::text[])"
        " OR e.shipment_event_type_code = ANY({0}::text[]))"
    ),
    "created_after": "e.event_created_datetime > {0}::timestamptz",
    # DCSA's GET /v2/events: each code list on its own kind, the transport call, the place.
    "equipment_event_type_codes": "e.equipment_event_type_code = ANY({0}::text[])",
    "transport_event_type_codes": "e.transport_event_type_code = ANY({0}::text[])",
    "shipment_event_type_codes": "e.shipment_event_type_code = ANY({0}::text[])",
    "document_type_codes": "e.document_type_code = ANY({0}::text[])",
    "port_call_id": "e.port_call_id = {0}::uuid",
    "vessel_imo": "e.vessel_imo = {0}::text",
    "unlocode": "e.unlocode = {0}::text",
    "created_at_least": "e.event_created_datetime >= {0}::timestamptz",
    "created_before": "e.event_created_datetime < {0}::timestamptz",
    "created_at_most": "e.event_created_datetime <= {0}::timestamptz",
    "created_at": "e.event_created_datetime = {0}::timestamptz",
    "after": "(e.event_created_datetime, e.event_id) > ({0}::timestamptz, {1}::uuid)",
}

EQUIPMENT_EVENT_TYPE_CODES = (
    *("LOAD", "DISC", "GTIN", "GTOT", "STUF", "STRP", "PICK", "DROP"),
    *("INSP", "RSEA", "RMVD", "AVPU", "AVDO", "CUSS", "CUSI", "CUSR"),
)
TRANSPORT_EVENT_TYPE_CODES = ("ARRI", "DEPA")
SHIPMENT_EVENT_TYPE_CODES = (
    *("RECE", "DRFT", "PENA", "PENU", "REJE", "APPR", "ISSU", "SURR"),
    *("SUBM", "VOID", "CONF", "REQS", "CMPL", "HOLD", "RELS"),
)
# T&T 3.0 spells the common codes as words; accepted at the edge, stored as 2.2 codes.
FULL_WORD_EVENT_TYPE_CODES: dict[str, str] = {
    "LOADED": "LOAD",
    "DISCHARGED": "DISC",
    "GATED_IN": "GTIN",
    "GATED_OUT": "GTOT",
    "STUFFED": "STUF",
    "STRIPPED": "STRP",
    "PICKED_UP": "PICK",
    "DROPPED_OFF": "DROP",
    "INSPECTED": "INSP",
    "RESEALED": "RSEA",
    "REMOVED": "RMVD",
    "ARRIVED": "ARRI",
    "DEPARTED": "DEPA",
    "RECEIVED": "RECE",
    "DRAFTED": "DRFT",
    "REJECTED": "REJE",
    "APPROVED": "APPR",
    "ISSUED": "ISSU",
    "SURRENDERED": "SURR",
    "SUBMITTED": "SUBM",
    "VOIDED": "VOID",
    "CONFIRMED": "CONF",
    "REQUESTED": "REQS",
    "COMPLETED": "CMPL",
    "ON_HOLD": "HOLD",
    "RELEASED": "RELS",
}
EVENT_TYPE_CODES = frozenset(
    (*EQUIPMENT_EVENT_TYPE_CODES, *TRANSPORT_EVENT_TYPE_CODES, *SHIPMENT_EVENT_TYPE_CODES)
)


def event_type_code(value: str) -> str | None:
    """A DCSA 2.2 event type code from a 2.2 code or its T&T 3.0 word; None if neither."""
    code = value.strip().upper()
    code = FULL_WORD_EVENT_TYPE_CODES.get(code, code)
    return code if code in EVENT_TYPE_CODES else None


@dataclass(frozen=True, slots=True)
class EventCriteria:
    """Validated filters of the root event feed; None means "any"."""

    equipment_reference: str | None = None
    transport_document_reference: str | None = None
    carrier_booking_reference: str | None = None
    event_types: tuple[str, ...] | None = None
    event_type_codes: tuple[str, ...] | None = None
    created_after: datetime.datetime | None = None
    equipment_event_type_codes: tuple[str, ...] | None = None
    transport_event_type_codes: tuple[str, ...] | None = None
    shipment_event_type_codes: tuple[str, ...] | None = None
    document_type_codes: tuple[str, ...] | None = None
    port_call_id: uuid.UUID | None = None
    vessel_imo: str | None = None
    unlocode: str | None = None
    created_at_least: datetime.datetime | None = None
    created_before: datetime.datetime | None = None
    created_at_most: datetime.datetime | None = None
    created_at: datetime.datetime | None = None


def event_feed_key(row: Record) -> tuple[Any, ...]:
    """Cursor content of the root event feed (created, id)."""
    return (row["event_created_datetime"].isoformat(), str(row["event_id"]))


def event_latest_key(row: Record) -> tuple[Any, ...]:
    """Cursor content of a container's events, latest first (event time, id)."""
    return (row["event_datetime"].isoformat(), str(row["event_id"]))


# --- Statement composition (resolvers.paging.compose) -----------------------------------


def container_conditions(
    where: ContainerCriteria, after: str | None
) -> list[tuple[str, tuple[Any, ...]]]:
    return present(
        [
            ("terminal", where.terminal),
            ("status", where.status),
            ("carrier", where.carrier),
            ("transport_document_reference", where.transport_document_reference),
            ("available_for_pickup", where.available_for_pickup),
            ("on_hold", where.on_hold),
            ("after", after),
        ]
    )


def event_conditions(
    where: EventCriteria, after: EventCursor | None
) -> list[tuple[str, tuple[Any, ...]]]:
    # A list is one (array) parameter; a tuple would be several.
    lists = (
        "event_types",
        "event_type_codes",
        "equipment_event_type_codes",
        "transport_event_type_codes",
        "shipment_event_type_codes",
        "document_type_codes",
    )
    given: list[tuple[str, Any]] = []
    for name in EVENT_FILTERS:
        value = after if name == "after" else getattr(where, name)
        given.append((name, list(value) if name in lists and value is not None else value))
    return present(given)


def container_statement(where: ContainerCriteria, size: int, after: str | None) -> Statement:
    """The root container list's page (rule slot unbound)."""
    conditions = container_conditions(where, after)
    return compose(SELECT_CONTAINER_PAGE, CONTAINER_FILTERS, conditions, size + 1)


def event_statement(where: EventCriteria, size: int, after: EventCursor | None) -> Statement:
    """The root event feed's page (rule and untied slots unbound)."""
    return compose(SELECT_EVENT_PAGE, EVENT_FILTERS, event_conditions(where, after), size + 1)


def dcsa_event_statement(where: EventCriteria, size: int, after: EventCursor | None) -> Statement:
    """DCSA's event feed page (rule and untied slots unbound)."""
    conditions = event_conditions(where, after)
    return compose(SELECT_DCSA_EVENT_PAGE, EVENT_FILTERS, conditions, size + 1)


def untied_events(rule: Rule) -> str:
    """What fills UNTIED_SLOT: untied events are visible only to a principal who sees all."""
    return "TRUE" if rule == SEES_ALL else "FALSE"


# --- Batches ----------------------------------------------------------------------------


def by_ordinal(rows: Sequence[Record], count: int) -> list[list[Record]]:
    """Rows of a `WITH ORDINALITY` batch, grouped back per key (ordinals start at 1)."""
    groups: list[list[Record]] = [[] for _ in range(count)]
    for row in rows:
        groups[row["ord"] - 1].append(row)
    return groups


def pages(
    groups: list[list[Record]], keys: Sequence[PageKey], key_fn: Callable[[Record], tuple[Any, ...]]
) -> list[Page[Record]]:
    return [make_page(rows, key[1], key_fn) for rows, key in zip(groups, keys, strict=True)]


def after_number(key: PageKey) -> str | None:
    return None if key[2] is None else str(key[2][0])


def after_event(key: PageKey) -> tuple[datetime.datetime | None, uuid.UUID | None]:
    if key[2] is None:
        return None, None
    at, event_id = key[2]
    return at, event_id


class CargoLoaders:
    """The cargo source for one request: batched loaders and lists, all under its row rule."""

    def __init__(self, pool: Pool, rule: RuleProvider) -> None:
        self._pool = pool
        self._rule = rule
        self.container_by_number: DataLoader[str, Record | None] = DataLoader(
            self._containers_by_number
        )
        self.containers_by_port_call_id: DataLoader[
            tuple[uuid.UUID, int, ContainerCursor | None], Page[Record]
        ] = DataLoader(self._containers_by_port_call_id)
        self.containers_by_transport_document_reference: DataLoader[
            tuple[str, int, ContainerCursor | None], Page[Record]
        ] = DataLoader(self._containers_by_transport_document_reference)
        self.holds_by_container_visit_id: DataLoader[int, list[Record]] = DataLoader(
            self._holds_by_container_visit_id
        )
        self.shipment_by_transport_document_reference: DataLoader[str, Record | None] = DataLoader(
            self._shipments_by_transport_document_reference
        )
        self.events_by_equipment_reference: DataLoader[
            tuple[str, int, EventCursor | None], Page[Record]
        ] = DataLoader(self._events_by_equipment_reference)

    async def _fetch(self, sql: str, *args: Any) -> list[Record]:
        rule = await self._rule()
        bound, bound_args = rule.bind(sql.replace(UNTIED_SLOT, untied_events(rule)), *args)
        return await self._pool.fetch(bound, *bound_args)

    async def _containers_by_number(self, numbers: Sequence[str]) -> list[Record | None]:
        rows = await self._fetch(SELECT_CONTAINERS_BY_NUMBER, list(numbers))
        found = {row["equipment_reference"]: row for row in rows}
        return [found.get(number) for number in numbers]

    async def _containers_by_port_call_id(self, keys: Sequence[PageKey]) -> list[Page[Record]]:
        return await self._container_pages(SELECT_CONTAINERS_BY_PORT_CALL, keys)

    async def _containers_by_transport_document_reference(
        self, keys: Sequence[PageKey]
    ) -> list[Page[Record]]:
        return await self._container_pages(SELECT_CONTAINERS_BY_DOCUMENT, keys)

    async def _container_pages(self, sql: str, keys: Sequence[PageKey]) -> list[Page[Record]]:
        """One page of containers per (owner, size, after number) key, in one statement."""
        rows = await self._fetch(
            sql, [k[0] for k in keys], [k[1] for k in keys], [after_number(k) for k in keys]
        )
        return pages(by_ordinal(rows, len(keys)), keys, container_key)

    async def _holds_by_container_visit_id(self, visit_ids: Sequence[int]) -> list[list[Record]]:
        rows = await self._fetch(SELECT_HOLDS_BY_VISIT, list(visit_ids))
        found: dict[int, list[Record]] = {}
        for row in rows:
            found.setdefault(row["container_visit_id"], []).append(row)
        return [found.get(visit_id, []) for visit_id in visit_ids]

    async def _shipments_by_transport_document_reference(
        self, references: Sequence[str]
    ) -> list[Record | None]:
        rows = await self._fetch(SELECT_SHIPMENTS, list(references))
        found = {row["transport_document_reference"]: row for row in rows}
        return [found.get(reference) for reference in references]

    async def _events_by_equipment_reference(self, keys: Sequence[PageKey]) -> list[Page[Record]]:
        afters = [after_event(k) for k in keys]
        rows = await self._fetch(
            SELECT_EVENTS_BY_EQUIPMENT,
            [k[0] for k in keys],
            [k[1] for k in keys],
            [a[0] for a in afters],
            [a[1] for a in afters],
        )
        return pages(by_ordinal(rows, len(keys)), keys, event_latest_key)

    async def container_page(
        self, where: ContainerCriteria, size: int, after: str | None
    ) -> Page[Record]:
        """The root container list: latest visible visit per container, by number."""
        statement = container_statement(where, size, after)
        rows = await self._fetch(statement.sql, *statement.args)
        return make_page(rows, size, container_key)

    async def event_page(
        self,
        where: EventCriteria,
        size: int,
        after: EventCursor | None,
    ) -> Page[Record]:
        """The root event feed: visible, unretracted events, oldest created first."""
        statement = event_statement(where, size, after)
        rows = await self._fetch(statement.sql, *statement.args)
        return make_page(rows, size, event_feed_key)

    async def dcsa_event_page(
        self, where: EventCriteria, size: int, after: EventCursor | None
    ) -> Page[Record]:
        """The same feed for DCSA's GET /v2/events, each row with its `extra` (JSON text)."""
        statement = dcsa_event_statement(where, size, after)
        rows = await self._fetch(statement.sql, *statement.args)
        return make_page(rows, size, event_feed_key)
