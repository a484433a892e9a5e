"""Cargo writes: partners publish DCSA Track & Trace events.

A batch is one transaction on one connection of the cargo source: every event is stored, or
none is. Events are idempotent by eventID (the same content again is a duplicate, other
content a conflict); a retraction marks the event it retracts. Write rules are row rules: a
carrier writes for its own SCAC's visits and documents, a terminal at its terminal; an event
outside them is "not found", exactly as one that does not exist. An accepted batch updates
the state of the visits its actual events belong to, appends its events to the change log
(resolvers.changes: subscriptions) and writes its audit row in the same transaction (the
audit row when the community source shares cargo's database; else right after).
"""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson

from resolvers.cargo import (
    CARRIER_RULE,
    EVENT_VISIBLE,
    EXPORT_STATUS,
    FREE_DAYS,
    IMPORT_STATUS,
    TERMINAL_RULE,
    UNTIED_SLOT,
)
from resolvers.changes import append_events
from resolvers.community import AuditRecord, insert_audit_events
from resolvers.dcsa import (
    AS_WRITTEN,
    MAX_EVENTS,
    Draft,
    EventDraft,
    RetractionDraft,
    read_event,
)
from resolvers.principal import OrganizationKind, Principal
from resolvers.rules import SEES_NOTHING, Rule
from resolvers.sources import Connection, SourcePools
from resolvers.writes import Invalid, Outcome, Refusal

RETRIES = 3  # a deadlock or serialization failure replays the whole transaction


@dataclass(slots=True)  # not frozen: a thousand are made per batch
class ItemOutcome:
    index: int
    event_id: str | None
    outcome: Outcome
    code: Refusal | None = None
    field: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Publication:
    """What became of a batch: stored whole, or (any item rejected) not at all."""

    stored: bool
    items: list[ItemOutcome]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for item in self.items if item.outcome is outcome)


class TooManyEvents(ValueError):
    """More events in one call than MAX_EVENTS."""


# --- Write rules ----------------------------------------------------------------------------


def event_write_rule(principal: Principal) -> Rule:
    """The visits whose events `principal` may publish: a predicate on the `cv` alias."""
    if principal.kind is OrganizationKind.CARRIER and principal.scac:
        return Rule(CARRIER_RULE, (principal.scac,))
    if (
        principal.kind is OrganizationKind.TERMINAL
        and principal.terminal_unlocode
        and principal.terminal_smdg_code
    ):
        return Rule(TERMINAL_RULE, (principal.terminal_unlocode, principal.terminal_smdg_code))
    return SEES_NOTHING


# --- SQL ------------------------------------------------------------------------------------

# What each drafted event belongs to, under the write rule: an equipment event its box's
# visit of that call; a transport event its call, seen through a visit; a shipment event its
# document. NULL carrier: not found (or not the caller's, which reads the same). The kind
# test sits inside each LATERAL, so the others cost nothing per event.
SELECT_TARGETS = """
SELECT k.ord, v.id AS visit_id, coalesce(v.carrier_scac, c.carrier_scac, s.carrier_scac)
       AS carrier_scac,
       -- The documents an equipment or transport event names are the writer's too (an
       -- equipment event's: its visit's).
       (k.transport_document_reference IS NULL OR k.event_type = 'SHIPMENT' OR EXISTS (
            SELECT 1 FROM cargo.container_visit cv
            WHERE cv.transport_document_reference = k.transport_document_reference
              AND (k.event_type <> 'EQUIPMENT' OR cv.id = v.id) AND /*rule*/))
       AND (k.carrier_booking_reference IS NULL OR k.event_type = 'SHIPMENT' OR EXISTS (
            SELECT 1 FROM cargo.shipment sh
            JOIN cargo.container_visit cv
                ON cv.transport_document_reference = sh.transport_document_reference
            WHERE sh.carrier_booking_reference = k.carrier_booking_reference
              AND (k.event_type <> 'EQUIPMENT' OR cv.id = v.id) AND /*rule*/))
       AS documents_ok
FROM unnest($1::text[], $2::text[], $3::uuid[], $4::text[], $5::text[])
    WITH ORDINALITY AS k(event_type, equipment_reference, port_call_id,
                         transport_document_reference, carrier_booking_reference, ord)
LEFT JOIN LATERAL (
    SELECT cv.id, cv.carrier_scac FROM cargo.container_visit cv
    WHERE k.event_type = 'EQUIPMENT' AND cv.equipment_reference = k.equipment_reference
      AND cv.port_call_id = k.port_call_id AND /*rule*/
) v ON TRUE
LEFT JOIN LATERAL (
    SELECT cv.carrier_scac FROM cargo.container_visit cv
    WHERE k.event_type = 'TRANSPORT' AND cv.port_call_id = k.port_call_id AND /*rule*/
    LIMIT 1
) c ON TRUE
LEFT JOIN LATERAL (
    SELECT s.carrier_scac FROM cargo.shipment s
    WHERE k.event_type = 'SHIPMENT'
      AND (s.transport_document_reference = k.transport_document_reference
           OR s.carrier_booking_reference = k.carrier_booking_reference)
      AND EXISTS (SELECT 1 FROM cargo.container_visit cv
                  WHERE cv.transport_document_reference = s.transport_document_reference
                    AND /*rule*/)
    LIMIT 1
) s ON TRUE
ORDER BY k.ord
"""

# A transport event names its vessel's operator: the port call's carrier (vessel source).
SELECT_PORT_CALL_CARRIERS = """
SELECT pc.id, pc.carrier_scac FROM vessel.port_call pc WHERE pc.id = ANY($1::uuid[])
"""

# The batch as one JSON array of rows (PostgreSQL parses it faster than 22 arrays are
# encoded and unnested).
EVENT_INPUT = """
    jsonb_to_recordset($1::jsonb)
    AS k(event_id uuid, event_type text, event_classifier_code text, event_datetime timestamptz,
         event_created_datetime timestamptz, equipment_event_type_code text,
         transport_event_type_code text, shipment_event_type_code text,
         document_type_code text, equipment_reference text, iso_equipment_code text,
         empty_indicator_code text, transport_document_reference text,
         carrier_booking_reference text, carrier_scac text, port_call_id uuid,
         vessel_imo text, mode_of_transport text, unlocode text, facility_smdg_code text,
         publisher_code text, extra jsonb)"""

# In key order, so two batches sharing eventIDs never wait on each other in a cycle.
INSERT_EVENTS = f"""
INSERT INTO cargo.event (
    event_id, event_type, event_classifier_code, event_datetime, event_created_datetime,
    equipment_event_type_code, transport_event_type_code, shipment_event_type_code,
    document_type_code, equipment_reference, iso_equipment_code, empty_indicator_code,
    transport_document_reference, carrier_booking_reference, carrier_scac, port_call_id,
    vessel_imo, mode_of_transport, unlocode, facility_smdg_code, publisher_code, extra)
SELECT k.event_id, k.event_type, k.event_classifier_code, k.event_datetime,
       k.event_created_datetime, k.equipment_event_type_code, k.transport_event_type_code,
       k.shipment_event_type_code, k.document_type_code, k.equipment_reference,
       k.iso_equipment_code, k.empty_indicator_code, k.transport_document_reference,
       k.carrier_booking_reference, k.carrier_scac, k.port_call_id, k.vessel_imo,
       k.mode_of_transport, k.unlocode, k.facility_smdg_code, k.publisher_code, k.extra
FROM {EVENT_INPUT}
ORDER BY k.event_id
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""

# Of the events already stored under these IDs: whether each holds the same content (the
# timestamps as written, the publisher and the derived carrier aside).
SELECT_SAME_EVENTS = f"""
SELECT k.event_id,
       (e.event_type, e.event_classifier_code, e.event_datetime, e.event_created_datetime,
        e.equipment_event_type_code, e.transport_event_type_code, e.shipment_event_type_code,
        e.document_type_code, e.equipment_reference, e.iso_equipment_code,
        e.empty_indicator_code, e.transport_document_reference, e.carrier_booking_reference,
        e.port_call_id, e.vessel_imo, e.mode_of_transport, e.unlocode, e.facility_smdg_code,
        e.extra - '{AS_WRITTEN}')
       IS NOT DISTINCT FROM
       (k.event_type, k.event_classifier_code, k.event_datetime, k.event_created_datetime,
        k.equipment_event_type_code, k.transport_event_type_code, k.shipment_event_type_code,
        k.document_type_code, k.equipment_reference, k.iso_equipment_code,
        k.empty_indicator_code, k.transport_document_reference, k.carrier_booking_reference,
        k.port_call_id, k.vessel_imo, k.mode_of_transport, k.unlocode, k.facility_smdg_code,
        k.extra - '{AS_WRITTEN}') AS same
FROM {EVENT_INPUT}
JOIN cargo.event e ON e.event_id = k.event_id
WHERE k.event_id = ANY($2::uuid[])
"""

# IDs taken by the other kind (an event's ID used by a retraction, or the reverse).
SELECT_RETRACTION_IDS = """
SELECT r.event_id FROM cargo.event_retraction r WHERE r.event_id = ANY($1::uuid[])
"""
SELECT_EVENT_IDS = "SELECT e.event_id FROM cargo.event e WHERE e.event_id = ANY($1::uuid[])"

# The events a retraction may withdraw: the caller's own, still under its write rule.
SELECT_RETRACTABLE = f"""
SELECT e.event_id FROM cargo.event e
WHERE e.event_id = ANY($1::uuid[]) AND e.publisher_code = $2::text
  AND {EVENT_VISIBLE.replace(UNTIED_SLOT, "FALSE")}
"""
INSERT_RETRACTIONS = """
INSERT INTO cargo.event_retraction
    (event_id, retracted_event_id, event_created_datetime, publisher_code)
SELECT k.event_id, k.retracted_event_id, k.event_created_datetime, $4::text
FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[])
    AS k(event_id, retracted_event_id, event_created_datetime)
ORDER BY k.event_id
ON CONFLICT (event_id) DO NOTHING
RETURNING event_id
"""
SELECT_SAME_RETRACTIONS = """
SELECT r.event_id, r.retracted_event_id = k.retracted_event_id
       AND r.event_created_datetime = k.event_created_datetime AS same
FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[])
    AS k(event_id, retracted_event_id, event_created_datetime)
JOIN cargo.event_retraction r ON r.event_id = k.event_id
"""
# Retracting is idempotent: an event already retracted stays as it was.
RETRACT_EVENTS = """
UPDATE cargo.event e SET retracted_at = now()
WHERE e.event_id = ANY($1::uuid[]) AND e.retracted_at IS NULL
RETURNING e.event_type, e.equipment_reference, e.port_call_id, e.event_classifier_code
"""
SELECT_VISITS_OF_EVENTS = """
SELECT cv.id FROM cargo.container_visit cv
JOIN unnest($1::text[], $2::uuid[]) AS k(equipment_reference, port_call_id)
    ON cv.equipment_reference = k.equipment_reference AND cv.port_call_id = k.port_call_id
"""

# The visits a batch changes, locked in id order before their state is derived: batches
# that share visits queue here (never in a cycle: a lock holder waits for nothing more), and
# the next statement's snapshot then sees the events the one before committed.
LOCK_VISITS = """
SELECT cv.id FROM cargo.container_visit cv
WHERE cv.id = ANY($1::bigint[]) ORDER BY cv.id FOR UPDATE
"""
# A visit's state from its actual, unretracted equipment events (as the demo derives it), in
# one pass over the box's events: status after the latest one with a meaning for its
# direction ($2: direction -> code -> status, '' for none yet), available once AVPU happened
# while in the yard and no hold stands, last free day from the discharge. A visit whose state
# stays as it was is not written.
UPDATE_VISIT_STATE = """
WITH actual AS (
    SELECT cv.id, cv.direction, ev.last_code, ev.discharged, ev.avpu
    FROM cargo.container_visit cv
    CROSS JOIN LATERAL (
        SELECT (array_agg(e.equipment_event_type_code ORDER BY e.event_datetime DESC, e.event_id DESC)
                    FILTER (WHERE ($2::jsonb -> cv.direction) ? e.equipment_event_type_code))[1]
                   AS last_code,
               min(e.event_datetime) FILTER (WHERE e.equipment_event_type_code = 'DISC')
                   AS discharged,
               coalesce(bool_or(e.equipment_event_type_code = 'AVPU'), false) AS avpu
        FROM cargo.event e
        WHERE e.equipment_reference = cv.equipment_reference
          AND e.port_call_id = cv.port_call_id
          AND e.event_type = 'EQUIPMENT' AND e.event_classifier_code = 'ACT'
          AND e.retracted_at IS NULL
    ) ev
    WHERE cv.id = ANY($1::bigint[])
), state AS (
    SELECT a.id,
           ($2::jsonb -> a.direction) ->> coalesce(a.last_code, '') AS status,
           (a.discharged AT TIME ZONE 'UTC')::date + $3::int AS last_free_day,
           a.direction, a.avpu,
           EXISTS (SELECT 1 FROM cargo.hold h
                   WHERE h.container_visit_id = a.id AND h.released_at IS NULL) AS held
    FROM actual a
), next AS (
    SELECT s.id, s.status, s.last_free_day,
           s.direction = 'IMPORT' AND s.avpu AND s.status = 'IN_YARD' AND NOT s.held
               AS available_for_pickup
    FROM state s
)
UPDATE cargo.container_visit cv
SET status = n.status,
    available_for_pickup = n.available_for_pickup,
    last_free_day = n.last_free_day,
    updated_at = now()
FROM next n
WHERE cv.id = n.id AND cv.id = ANY($1::bigint[])  -- else a hash join reads every visit
  AND (cv.status, cv.available_for_pickup, cv.last_free_day)
      IS DISTINCT FROM (n.status, n.available_for_pickup, n.last_free_day)
"""
STATUS_AFTER = json.dumps(
    {
        direction: {code or "": status for code, status in statuses.items()}
        for direction, statuses in (("IMPORT", IMPORT_STATUS), ("EXPORT", EXPORT_STATUS))
    }
)


# --- Reading the batch ----------------------------------------------------------------------


@dataclass(slots=True)
class Batch:
    """A batch being decided: its drafts by index, and what is known of each item."""

    drafts: dict[int, Draft] = field(default_factory=dict)
    refusals: dict[int, ItemOutcome] = field(default_factory=dict)
    duplicates: set[int] = field(default_factory=set)
    event_ids: dict[int, str | None] = field(default_factory=dict)

    def refuse(self, index: int, code: Refusal, field_name: str, reason: str) -> None:
        self.refusals.setdefault(
            index,
            ItemOutcome(
                index, self.event_ids.get(index), Outcome.REJECTED, code, field_name, reason
            ),
        )

    def events(self) -> dict[int, EventDraft]:
        return {i: d for i, d in self.drafts.items() if isinstance(d, EventDraft) and self.open(i)}

    def retractions(self) -> dict[int, RetractionDraft]:
        return {
            i: d for i, d in self.drafts.items() if isinstance(d, RetractionDraft) and self.open(i)
        }

    def open(self, index: int) -> bool:
        return index not in self.refusals and index not in self.duplicates


def sent_event_id(item: object) -> str | None:
    value = item.get("eventID") if isinstance(item, dict) else None
    return value[:64] if isinstance(value, str) else None


def comparable(draft: Draft) -> Draft:
    if isinstance(draft, RetractionDraft):
        return draft
    extra = {k: v for k, v in draft.extra.items() if k != AS_WRITTEN}
    return EventDraft(
        **{**{f: getattr(draft, f) for f in draft.__dataclass_fields__}, "extra": extra}
    )


def read_batch(items: Sequence[object]) -> Batch:
    """Every item read at the edge; an eventID sent twice is a duplicate or a conflict."""
    batch = Batch()
    first_by_id: dict[uuid.UUID, int] = {}
    for index, item in enumerate(items):
        batch.event_ids[index] = sent_event_id(item)
        try:
            draft = read_event(item)
        except Invalid as error:
            batch.refuse(index, Refusal.INVALID, error.field, error.reason)
            continue
        batch.drafts[index] = draft
        first = first_by_id.setdefault(draft.event_id, index)
        if first == index:
            continue
        if comparable(batch.drafts[first]) == comparable(draft):
            batch.duplicates.add(index)
        else:
            reason = f"the same eventID as item {first} with other content"
            batch.refuse(index, Refusal.CONFLICT, "eventID", reason)
    return batch


# --- The transaction ------------------------------------------------------------------------

NOT_YOURS = "matches no container visit, port call or document you may publish for"
TARGET_FIELD = {
    "EQUIPMENT": "equipmentReference",
    "TRANSPORT": "transportCall.transportCallID",
    "SHIPMENT": "documentID",
}


EVENT_FIELDS = tuple(EventDraft.__dataclass_fields__)


def event_rows(drafts: Sequence[EventDraft], carriers: Sequence[str], publisher: str) -> str:
    """The drafts as EVENT_INPUT's JSON rows, each with its carrier and publisher."""
    rows = []
    for draft, carrier in zip(drafts, carriers, strict=True):
        row = {name: getattr(draft, name) for name in EVENT_FIELDS}
        row["carrier_scac"] = carrier
        row["publisher_code"] = publisher
        rows.append(row)
    return orjson.dumps(rows).decode()


@dataclass(slots=True)
class Writer:
    """One batch's transaction: decides each open item, and stores them if all pass."""

    connection: Connection
    principal: Principal
    rule: Rule
    batch: Batch
    port_call_carriers: dict[uuid.UUID, str]
    visits: set[int] = field(default_factory=set)
    accepted: set[int] = field(default_factory=set)

    async def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        return await self.connection.fetch(sql, *args)

    async def targets(self, events: dict[int, EventDraft]) -> dict[int, str]:
        """The carrier SCAC of each event the caller may write; the others are refused."""
        drafts = list(events.values())
        sql, args = self.rule.bind(
            SELECT_TARGETS,
            [d.event_type for d in drafts],
            [d.equipment_reference for d in drafts],
            [d.port_call_id for d in drafts],
            [d.transport_document_reference for d in drafts],
            [d.carrier_booking_reference for d in drafts],
        )
        carriers: dict[int, str] = {}
        for index, row in zip(events, await self.fetch(sql, *args), strict=True):
            draft = events[index]
            carrier = self.carrier(draft, row["carrier_scac"])
            if carrier is None:
                self.batch.refuse(
                    index, Refusal.NOT_FOUND, TARGET_FIELD[draft.event_type], NOT_YOURS
                )
                continue
            if not row["documents_ok"]:
                self.batch.refuse(index, Refusal.NOT_FOUND, "documentReferences", NOT_YOURS)
                continue
            carriers[index] = carrier
            if row["visit_id"] is not None and draft.event_classifier_code == "ACT":
                self.visits.add(row["visit_id"])
        return carriers

    async def check_events(self) -> dict[int, str]:
        """Refuse the events the caller may not write; the carrier SCAC of the others."""
        events = self.batch.events()
        await self.taken_ids({i: d.event_id for i, d in events.items()}, SELECT_RETRACTION_IDS)
        return await self.targets(self.batch.events())

    async def check_retractions(self) -> None:
        retractions = self.batch.retractions()
        if not retractions:
            return
        await self.taken_ids({i: d.event_id for i, d in retractions.items()}, SELECT_EVENT_IDS)
        retractions = self.batch.retractions()
        targets = [d.retracted_event_id for d in retractions.values()]
        sql, args = self.rule.bind(SELECT_RETRACTABLE, targets, self.publisher)
        allowed = {r[0] for r in await self.fetch(sql, *args)}
        for index, draft in retractions.items():
            if draft.retracted_event_id not in allowed:
                reason = "names no event you may retract"
                self.batch.refuse(index, Refusal.NOT_FOUND, "retractedEventID", reason)

    def carrier(self, draft: EventDraft, found: str | None) -> str | None:
        """The carrier an event is of, or None when the caller may not write it. A transport
        event is the vessel operator's: a carrier writes only those of its own calls."""
        if draft.event_type != "TRANSPORT" or found is None:
            return found
        call = draft.port_call_id
        operator = None if call is None else self.port_call_carriers.get(call)
        scac = self.principal.scac
        if self.principal.kind is OrganizationKind.CARRIER and operator != scac:
            return None
        return operator

    async def taken_ids(self, ids: dict[int, uuid.UUID], sql: str) -> None:
        taken = {r[0] for r in await self.fetch(sql, list(ids.values()))}
        for index, event_id in ids.items():
            if event_id in taken:
                reason = "this eventID is taken by another kind of event (event or retraction)"
                self.batch.refuse(index, Refusal.CONFLICT, "eventID", reason)

    async def store_events(self, carriers: dict[int, str]) -> None:
        """Insert the events (when nothing was refused; else only tell duplicates)."""
        events = {i: d for i, d in self.batch.events().items() if i in carriers}
        if not events:
            return
        drafts = list(events.values())
        rows = event_rows(drafts, [carriers[i] for i in events], self.publisher)
        inserted: set[uuid.UUID] = set()
        if not self.batch.refusals:
            inserted = {r[0] for r in await self.fetch(INSERT_EVENTS, rows)}
            self.accepted |= {i for i, d in events.items() if d.event_id in inserted}
        others = [d.event_id for d in drafts if d.event_id not in inserted]
        if others:
            same = {r[0]: r[1] for r in await self.fetch(SELECT_SAME_EVENTS, rows, others)}
            self.settle(events, same)

    def settle(self, drafts: Mapping[int, Draft], same: dict[uuid.UUID, bool]) -> None:
        """Items not inserted: a duplicate when the stored one is the same, else a conflict."""
        for index, draft in drafts.items():
            if draft.event_id not in same:
                continue
            if same[draft.event_id]:
                self.batch.duplicates.add(index)
            else:
                reason = "an event with this eventID is stored with other content"
                self.batch.refuse(index, Refusal.CONFLICT, "eventID", reason)

    async def store_retractions(self) -> None:
        """Insert the retractions and retract (when nothing was refused; else only tell
        duplicates)."""
        retractions = self.batch.retractions()
        if not retractions:
            return
        drafts = list(retractions.values())
        arrays = (
            [d.event_id for d in drafts],
            [d.retracted_event_id for d in drafts],
            [d.event_created_datetime for d in drafts],
        )
        inserted: set[uuid.UUID] = set()
        if not self.batch.refusals:
            inserted = {r[0] for r in await self.fetch(INSERT_RETRACTIONS, *arrays, self.publisher)}
            self.accepted |= {i for i, d in retractions.items() if d.event_id in inserted}
        if len(inserted) < len(drafts):
            same = {r[0]: r[1] for r in await self.fetch(SELECT_SAME_RETRACTIONS, *arrays)}
            self.settle(retractions, same)
        targets = [d.retracted_event_id for d in drafts if d.event_id in inserted]
        if targets:
            await self.note_visits(await self.fetch(RETRACT_EVENTS, targets))

    async def note_visits(self, retracted: list[asyncpg.Record]) -> None:
        actual = [r for r in retracted if r["event_type"] == "EQUIPMENT" and r["port_call_id"]]
        if actual:
            rows = await self.fetch(
                SELECT_VISITS_OF_EVENTS,
                [r["equipment_reference"] for r in actual],
                [r["port_call_id"] for r in actual],
            )
            self.visits |= {r[0] for r in rows}

    async def update_visits(self) -> None:
        if self.visits:
            await self.connection.execute(LOCK_VISITS, sorted(self.visits))
            await self.connection.execute(
                UPDATE_VISIT_STATE, sorted(self.visits), STATUS_AFTER, FREE_DAYS
            )

    async def log_changes(self) -> None:
        """The stored events, in the batch's order, onto the change log (subscriptions)."""
        stored = [
            d.event_id
            for i, d in sorted(self.batch.drafts.items())
            if i in self.accepted and isinstance(d, EventDraft)
        ]
        if stored:
            await append_events(self.connection, stored)

    @property
    def publisher(self) -> str:
        return self.principal.organization_code or ""


# --- Publishing -----------------------------------------------------------------------------

AuditSubmit = Callable[[AuditRecord], None]


def outcomes(batch: Batch, count: int, stored: bool) -> list[ItemOutcome]:
    items: list[ItemOutcome] = []
    for index in range(count):
        refusal = batch.refusals.get(index)
        if refusal is not None:
            items.append(refusal)
            continue
        if index in batch.duplicates:
            outcome = Outcome.DUPLICATE
        else:
            outcome = Outcome.ACCEPTED if stored else Outcome.NOT_STORED
        items.append(ItemOutcome(index, batch.event_ids.get(index), outcome))
    return items


def audit_record(principal: Principal, operation: str, publication: Publication) -> AuditRecord:
    refused = [i for i in publication.items if i.outcome is Outcome.REJECTED]
    not_found = sum(1 for i in refused if i.code is Refusal.NOT_FOUND)
    writes = {
        "mutation": "publishEvents",
        "stored": publication.stored,
        "accepted": publication.count(Outcome.ACCEPTED),
        "duplicates": publication.count(Outcome.DUPLICATE),
        "rejected": [{"index": i.index, "code": i.code, "field": i.field} for i in refused[:100]],
    }
    return AuditRecord(
        occurred_at=datetime.datetime.now(datetime.UTC),
        organization_code=principal.organization_code,
        subject=principal.subject,
        operation_name=operation,
        fields=["Mutation.publishEvents"],
        rows_counted=publication.count(Outcome.ACCEPTED),
        denials=json.dumps({"Mutation.publishEvents": not_found} if not_found else {}),
        writes=json.dumps(writes, separators=(",", ":")),
    )


async def port_call_carriers(pools: SourcePools, batch: Batch) -> dict[uuid.UUID, str]:
    calls = {d.port_call_id for d in batch.events().values() if d.event_type == "TRANSPORT"}
    if not calls:
        return {}
    rows = await pools["vessel"].fetch(SELECT_PORT_CALL_CARRIERS, list(calls))
    return {r["id"]: r["carrier_scac"] for r in rows}


async def write(
    connection: Connection, principal: Principal, batch: Batch, carriers: dict[uuid.UUID, str]
) -> Writer:
    """Every item checked (so each refusal is told), then stored if none was refused."""
    writer = Writer(connection, principal, event_write_rule(principal), batch, carriers)
    targets = await writer.check_events()
    await writer.check_retractions()
    await writer.store_events(targets)
    await writer.store_retractions()
    if not batch.refusals:
        await writer.update_visits()
        await writer.log_changes()
    return writer


class Refused(Exception):
    """Rolls the transaction back: an item was rejected."""


async def attempt(
    pools: SourcePools, principal: Principal, items: Sequence[object], operation: str
) -> tuple[Batch, AuditRecord | None, Publication]:
    batch = read_batch(items)
    carriers = await port_call_carriers(pools, batch)
    in_place = pools.alongside("cargo", "community")
    async with pools["cargo"].acquire() as connection:
        try:
            async with connection.transaction():
                await write(connection, principal, batch, carriers)
                if batch.refusals:
                    raise Refused
                publication = Publication(True, outcomes(batch, len(items), True))
                record = audit_record(principal, operation, publication)
                if in_place:
                    await insert_audit_events(connection, [record])
                return batch, None if in_place else record, publication
        except Refused:
            publication = Publication(False, outcomes(batch, len(items), False))
            return batch, audit_record(principal, operation, publication), publication


async def publish_events(
    pools: SourcePools,
    principal: Principal,
    items: Sequence[object],
    *,
    operation: str,
    audit: AuditSubmit,
) -> Publication:
    """Store a batch of DCSA events whole or not at all; each item's outcome, in order."""
    if len(items) > MAX_EVENTS:
        raise TooManyEvents(f"at most {MAX_EVENTS:,} events per call, got {len(items):,}")
    for tries_left in range(RETRIES - 1, -1, -1):
        try:
            _, record, publication = await attempt(pools, principal, items, operation)
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
            if not tries_left:
                raise
            continue
        if record is not None:
            audit(record)
        return publication
    raise AssertionError("unreachable")
