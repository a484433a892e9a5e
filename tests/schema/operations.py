"""Random operations over the compiled roots, for the differential test.

Selections of scalars (protected ones included), value objects, links and nested pages,
with aliases, inline and named fragments, the `Event` interface's type conditions,
variables, `@include`/`@skip`, nested `first`/`after` and now and then a field the compiled
path does not cover (so the fallback is compared too). Values come from the seeded data.
"""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

from resolvers.sources import SourcePools
from schema.pagination import encode_cursor

SCALARS: dict[str, tuple[str, ...]] = {
    "PortCall": (
        *("id", "portCallId", "portVisitReference", "carrier", "carrierImportVoyage"),
        *("carrierExportVoyage", "serviceCode", "status", "estimatedArrival"),
        *("actualArrival", "estimatedDeparture", "actualDeparture", "berth"),
    ),
    "Vessel": (
        *("id", "imo", "name", "flag", "operator", "lengthOverall", "teuCapacity", "mmsi"),
        "callSign",
    ),
    "Terminal": ("unlocode", "smdgCode", "name", "operatorName", "berths", "latitude"),
    "Port": ("unlocode", "name", "country", "latitude", "longitude"),
    "Container": (
        *("id", "number", "isoType", "tareWeightKg", "carrier", "direction", "emptyIndicator"),
        *("status", "yardLocation", "availableForPickup", "lastFreeDay", "onHold"),
        *("transportDocumentReference", "reeferSetpointCelsius", "updatedAt"),
        *("grossWeightKg", "seals", "commodity", "hsCode", "shipper", "consignee"),
    ),
    "Hold": (
        *("type", "reasonCode", "remark", "placedAt", "placedBy", "releasedAt", "releasedBy"),
        "active",
    ),
    "Event": ("eventID", "eventType", "eventClassifier", "eventDateTime", "eventCreatedDateTime"),
    "EquipmentEvent": (
        *("equipmentEventTypeCode", "equipmentReference", "isoEquipmentCode"),
        *("emptyIndicatorCode", "transportDocumentReference", "modeOfTransport"),
    ),
    "TransportEvent": ("transportEventTypeCode", "modeOfTransport", "equipmentReference"),
    "ShipmentEvent": (
        *("shipmentEventTypeCode", "documentTypeCode", "documentReference"),
        *("transportDocumentReference", "carrierBookingReference"),
    ),
    "Timestamp": (
        *("id", "classifier", "serviceType", "eventType", "eventDateTime", "publisher"),
        *("publisherRole", "remark", "delayReasonCode"),
    ),
    "AisPosition": (
        *("recordedAt", "latitude", "longitude", "speedKnots", "course", "heading"),
        "navigationalStatus",
    ),
    "Shipment": (
        *("transportDocumentReference", "carrierBookingReference", "carrier", "direction"),
        *("portOfLoading", "portOfDischarge", "createdAt", "placeOfReceipt"),
        *("placeOfDelivery", "commodity", "hsCode"),
    ),
    "Appointment": (
        *("reference", "truckerScac", "unlocode", "smdgCode", "equipmentReference"),
        *("moveType", "windowStart", "windowEnd", "status", "truckLicensePlate", "createdAt"),
    ),
    "GateTransaction": (
        *("truckerScac", "unlocode", "smdgCode", "lane", "equipmentReference", "moveType"),
        *("gateInAt", "gateOutAt", "turnTimeMinutes"),
    ),
}
VALUE_OBJECTS: dict[str, tuple[tuple[str, str], ...]] = {
    "Container": (("dangerousGoods", "unNumber imoClass __typename"),),
    "EquipmentEvent": (("location", "UNLocationCode facilitySMDGCode"),),
    "TransportEvent": (("location", "UNLocationCode __typename"),),
    "Shipment": (
        ("shipper", "name organizationCode"),
        ("consignee", "name"),
        ("notifyParty", "organizationCode __typename"),
    ),
}
# (field, target type, one | many | page); a target of None is outside the compiled path.
LINKS: dict[str, tuple[tuple[str, str | None, str], ...]] = {
    "PortCall": (
        ("vessel", "Vessel", "one"),
        ("terminal", "Terminal", "one"),
        ("port", "Port", "one"),
        ("containers", "Container", "page"),
        ("timestamps", "Timestamp", "many"),
    ),
    "Vessel": (("latestPosition", "AisPosition", "one"), ("portCalls", "PortCall", "page")),
    "Terminal": (("port", "Port", "one"), ("openAdvisories", None, "many")),
    "Port": (("terminals", "Terminal", "many"),),
    "Container": (
        ("terminal", "Terminal", "one"),
        ("portCall", "PortCall", "one"),
        ("holds", "Hold", "many"),
        ("events", "Event", "page"),
        ("shipment", "Shipment", "one"),
        ("gateTransactions", "GateTransaction", "many"),
    ),
    "Timestamp": (("replyTo", "Timestamp", "one"), ("terminal", "Terminal", "one")),
    "Shipment": (("containers", "Container", "page"),),
    "EquipmentEvent": (("portCall", "PortCall", "one"), ("container", "Container", "one")),
    "TransportEvent": (("portCall", "PortCall", "one"), ("vessel", "Vessel", "one")),
    "ShipmentEvent": (("shipment", "Shipment", "one"),),
    "Appointment": (("terminal", "Terminal", "one"), ("container", "Container", "one")),
    "GateTransaction": (
        ("appointment", "Appointment", "one"),
        ("terminal", "Terminal", "one"),
        ("container", "Container", "one"),
    ),
}
EVENT_TYPES = ("EquipmentEvent", "TransportEvent", "ShipmentEvent")
ROOT_ALIAS = re.compile(r"^a\d+: ")
PAGE_INFO = ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor", "__typename")


@dataclass
class Values:
    """Arguments taken from the seeded data: keys that exist, cursors of real rows."""

    port_call_ids: list[str]
    imos: list[str]
    numbers: list[str]
    documents: list[str]
    scacs: list[str]
    terminals: list[str]
    cursors: dict[str, list[str]]


async def seeded_values(pools: SourcePools) -> Values:
    vessel, cargo, gate = pools["vessel"], pools["cargo"], pools["gate"]
    calls = await vessel.fetch(
        "SELECT id, estimated_arrival FROM vessel.port_call ORDER BY random() LIMIT 12"
    )
    vessels = await vessel.fetch(
        "SELECT imo, lower(name) AS n FROM vessel.vessel ORDER BY imo LIMIT 12"
    )
    visits = await cargo.fetch(
        "SELECT DISTINCT ON (equipment_reference) equipment_reference, "
        "transport_document_reference FROM cargo.container_visit "
        "ORDER BY equipment_reference, random() LIMIT 400"
    )
    events = await cargo.fetch(
        "SELECT event_id, event_datetime, event_created_datetime FROM cargo.event "
        "ORDER BY event_id LIMIT 8"
    )
    appointments = await gate.fetch(
        "SELECT id, window_start FROM gate.appointment ORDER BY id LIMIT 6"
    )
    transactions = await gate.fetch(
        "SELECT id, gate_in_at FROM gate.gate_transaction ORDER BY id LIMIT 6"
    )
    scacs = await cargo.fetch("SELECT DISTINCT carrier_scac FROM cargo.container_visit")
    terminals = await vessel.fetch("SELECT smdg_code FROM vessel.terminal ORDER BY smdg_code")
    picked = random.Random(5).sample(list(visits), 40)
    return Values(
        port_call_ids=[str(r["id"]) for r in calls],
        imos=[r["imo"] for r in vessels],
        numbers=[r["equipment_reference"] for r in picked],
        documents=[
            r["transport_document_reference"] for r in picked if r["transport_document_reference"]
        ],
        scacs=sorted(r["carrier_scac"] for r in scacs),
        terminals=[r["smdg_code"] for r in terminals],
        cursors={
            "PortCall": [
                encode_cursor((r["estimated_arrival"].isoformat(), str(r["id"]))) for r in calls
            ],
            "Vessel": [encode_cursor((r["n"], r["imo"])) for r in vessels],
            "Container": [encode_cursor((r["equipment_reference"],)) for r in picked],
            "Event": [
                encode_cursor((r["event_datetime"].isoformat(), str(r["event_id"]))) for r in events
            ],
            "feed": [
                encode_cursor((r["event_created_datetime"].isoformat(), str(r["event_id"])))
                for r in events
            ],
            "Appointment": [
                encode_cursor((r["window_start"].isoformat(), r["id"])) for r in appointments
            ],
            "GateTransaction": [
                encode_cursor((r["gate_in_at"].isoformat(), r["id"])) for r in transactions
            ],
        },
    )


@dataclass
class Generator:
    rng: random.Random
    values: Values
    variables: dict[str, tuple[str, Any]] = field(default_factory=dict)
    fragments: dict[str, str] = field(default_factory=dict)
    aliases: int = 0

    # --- Arguments ----------------------------------------------------------------------

    def variable(self, graphql_type: str, value: Any) -> str:
        name = f"v{len(self.variables)}"
        self.variables[name] = (graphql_type, value)
        return "$" + name

    def literal_or_variable(self, graphql_type: str, value: Any, literal: str) -> str:
        return self.variable(graphql_type, value) if self.rng.random() < 0.3 else literal

    def page_arguments(self, cursors: str, first: tuple[int, int] = (0, 3)) -> list[str]:
        size = self.rng.randint(*first)
        arguments = [f"first: {self.literal_or_variable('Int', size, str(size))}"]
        pool = self.values.cursors.get(cursors, [])
        if pool and self.rng.random() < 0.2:
            cursor = self.rng.choice(pool)
            written = self.literal_or_variable("String", cursor, json.dumps(cursor))
            arguments.append(f"after: {written}")
        return arguments

    # --- Selections ---------------------------------------------------------------------

    def alias(self, name: str) -> str:
        if self.rng.random() < 0.2:
            self.aliases += 1
            return f"a{self.aliases}: {name}"
        return name

    def directive(self) -> str:
        roll = self.rng.random()
        if roll < 0.05:
            return f" @include(if: {self.literal_or_variable('Boolean!', False, 'false')})"
        if roll < 0.1:
            return f" @skip(if: {self.literal_or_variable('Boolean!', True, 'true')})"
        if roll < 0.15:
            return " @include(if: true)"
        return ""

    def scalars(self, type_name: str, count: int) -> list[str]:
        chosen = self.rng.sample(SCALARS[type_name], min(count, len(SCALARS[type_name])))
        return [self.alias(name) + self.directive() for name in chosen]

    def selection(self, type_name: str, depth: int) -> str:
        if type_name == "Event":
            return self.event(depth)
        parts = self.scalars(type_name, self.rng.randint(1, 4))
        if self.rng.random() < 0.1:
            parts.append("__typename")
        for name, fields in VALUE_OBJECTS.get(type_name, ()):
            if self.rng.random() < 0.3:
                parts.append(f"{self.alias(name)} {{ {fields} }}")
        links = LINKS.get(type_name, ())
        count = min(len(links), self.rng.randint(0, 2) if depth > 0 else 0)
        for name, target, kind in self.rng.sample(links, count):
            parts.append(self.link(name, target, kind, depth - 1))
        return self.wrap(type_name, " ".join(parts))

    def wrap(self, type_name: str, selection: str) -> str:
        roll = self.rng.random()
        if roll < 0.1:
            return f"... on {type_name} {{ {selection} }}"
        if roll < 0.2:
            name = f"F{len(self.fragments)}"
            self.fragments[name] = f"fragment {name} on {type_name} {{ {selection} }}"
            return f"...{name}"
        return selection

    def event(self, depth: int) -> str:
        parts = self.scalars("Event", self.rng.randint(1, 3))
        for concrete in EVENT_TYPES:
            if self.rng.random() < 0.5:
                parts.append(f"... on {concrete} {{ {self.selection(concrete, depth)} }}")
        return " ".join(parts)

    def link(self, name: str, target: str | None, kind: str, depth: int) -> str:
        if target is None:  # outside the compiled path: the whole operation falls back
            return f"{name} {{ reference }}"
        if kind == "page":
            arguments = ", ".join(self.page_arguments(target))
            return f"{self.alias(name)}({arguments}) {{ {self.connection(target, depth)} }}"
        return f"{self.alias(name)} {{ {self.selection(target, depth)} }}"

    def connection(self, type_name: str, depth: int) -> str:
        parts: list[str] = []
        if self.rng.random() < 0.7:
            cursor = "cursor " if self.rng.random() < 0.5 else ""
            parts.append(
                f"{self.alias('edges')} {{ {cursor}node {{ {self.selection(type_name, depth)} }} }}"
            )
        if self.rng.random() < 0.3 or not parts:
            parts.append(f"{self.alias('nodes')} {{ {self.selection(type_name, depth)} }}")
        if self.rng.random() < 0.5:
            chosen = self.rng.sample(PAGE_INFO, self.rng.randint(1, len(PAGE_INFO)))
            parts.append(f"pageInfo {{ {' '.join(chosen)} }}")
        if self.rng.random() < 0.1:
            parts.append("__typename")
        return " ".join(parts)

    # --- Roots --------------------------------------------------------------------------

    def root(self, depth: int) -> str:
        v, rng = self.values, self.rng
        kind = rng.choice(
            (
                *("portCalls", "portCalls", "portCall", "vessels", "vessel", "containers"),
                *("containers", "container", "events", "shipment", "appointments"),
                *("gateTransactions", "port", "_entities", "_entities"),
            )
        )
        if kind == "portCalls":
            arguments = self.page_arguments("PortCall", (0, 4))
            if rng.random() < 0.4:
                scac = rng.choice(v.scacs)
                arguments.append(f'filter: {{carrier: "{scac}"}}')
            return self.root_page("portCalls", arguments, "PortCall", depth)
        if kind == "vessels":
            return self.root_page("vessels", self.page_arguments("Vessel", (0, 4)), "Vessel", depth)
        if kind == "containers":
            arguments = self.page_arguments("Container", (0, 4))
            if rng.random() < 0.3:
                arguments.append(f'filter: {{terminal: {{smdgCode: "{rng.choice(v.terminals)}"}}}}')
            return self.root_page("containers", arguments, "Container", depth)
        if kind == "events":
            return self.root_page("events", self.page_arguments("feed", (0, 4)), "Event", depth)
        if kind in ("appointments", "gateTransactions"):
            target = "Appointment" if kind == "appointments" else "GateTransaction"
            return self.root_page(kind, self.page_arguments(target, (0, 4)), target, depth)
        if kind == "_entities":
            return self.entities(depth)
        if kind == "portCall":
            value = rng.choice(v.port_call_ids)
            argument = self.literal_or_variable("ID!", value, json.dumps(value))
            return f"{self.alias('portCall')}(id: {argument}) {{ {self.selection('PortCall', depth)} }}"
        if kind == "vessel":
            value = rng.choice(v.imos)
            argument = self.literal_or_variable("String!", value, json.dumps(value))
            return (
                f"{self.alias('vessel')}(imo: {argument}) {{ {self.selection('Vessel', depth)} }}"
            )
        if kind == "container":
            value = rng.choice(v.numbers)
            argument = self.literal_or_variable("String!", value, json.dumps(value))
            return f"{self.alias('container')}(number: {argument}) {{ {self.selection('Container', depth)} }}"
        if kind == "shipment":
            value = rng.choice(v.documents)
            selection = self.selection("Shipment", depth)
            return (
                f'{self.alias("shipment")}(transportDocumentReference: "{value}") {{ {selection} }}'
            )
        return f'{self.alias("port")}(unlocode: "USLAX") {{ {self.selection("Port", depth)} }}'

    def entities(self, depth: int) -> str:
        v, rng = self.values, self.rng
        choices: list[dict[str, Any]] = [
            *({"__typename": "Container", "number": n} for n in v.numbers[:8]),
            *({"__typename": "Vessel", "imo": i} for i in v.imos[:4]),
            *({"__typename": "PortCall", "id": i} for i in v.port_call_ids[:4]),
            {"__typename": "PortCall", "id": "not-a-port-call"},
            {"__typename": "Port", "unlocode": "USLAX"},
            {"__typename": "Terminal", "unlocode": "USLAX", "smdgCode": v.terminals[0]},
            *({"__typename": "Shipment", "transportDocumentReference": d} for d in v.documents[:4]),
            {"__typename": "Container", "number": 'QUOTE"\\|'},
        ]
        if rng.random() < 0.05:
            choices.append({"__typename": "Organization", "code": "CBP"})
        if rng.random() < 0.05:
            choices.append({"__typename": "Container"})  # refused: no key
        representations = rng.sample(choices, rng.randint(1, 6))
        argument = self.variable("[_Any!]!", representations)
        types = ("Container", "Vessel", "PortCall", "Port", "Terminal", "Shipment")
        parts = [
            f"... on {t} {{ {self.selection(t, depth)} }}" for t in types if rng.random() < 0.7
        ]
        return f"{self.alias('_entities')}(representations: {argument}) {{ __typename {' '.join(parts)} }}"

    def root_page(self, field_name: str, arguments: list[str], type_name: str, depth: int) -> str:
        return (
            f"{self.alias(field_name)}({', '.join(arguments)}) "
            f"{{ {self.connection(type_name, depth)} }}"
        )

    def operation(self) -> tuple[str, dict[str, Any]]:
        roots = [self.root(self.rng.randint(1, 3))]
        if self.rng.random() < 0.3:
            # Another root field, aliased so the two never conflict.
            roots.append("second: " + ROOT_ALIAS.sub("", self.root(self.rng.randint(1, 2))))
        if self.rng.random() < 0.05:
            roots.append("__typename")
        declared = ", ".join(f"${n}: {t}" for n, (t, _) in self.variables.items())
        header = f"query Generated({declared})" if declared else "query Generated"
        document = "\n".join([f"{header} {{ {' '.join(roots)} }}", *self.fragments.values()])
        return document, {n: value for n, (_, value) in self.variables.items()}


def generate(seed: int, values: Values) -> tuple[str, dict[str, Any]]:
    return Generator(random.Random(seed), values).operation()
