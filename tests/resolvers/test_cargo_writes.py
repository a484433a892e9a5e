"""Publishing DCSA events: whole batches or nothing, idempotent, under the write rules."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from resolvers.cargo import FREE_DAYS
from resolvers.cargo_writes import (
    STATUS_AFTER,
    UPDATE_VISIT_STATE,
    Publication,
    TooManyEvents,
    publish_events,
)
from resolvers.community import AuditRecord, insert_audit_events
from resolvers.principal import Principal
from resolvers.sources import SOURCES, Pool, SourcePools
from resolvers.writes import Outcome, Refusal
from tests.dcsa_events import Visit, equipment_event, transport_event, visits
from tests.helpers import carrier, held_visit, principal, terminal

MSCU = carrier("MSCU")
COSU = carrier("COSU")
EVENT_ROWS = "SELECT count(*) FROM cargo.event"
VISIT_STATE = """
SELECT status, available_for_pickup, last_free_day FROM cargo.container_visit WHERE id = $1
"""
WRITE_AUDIT = """
SELECT organization_code, operation_name, fields, rows_counted, denials::text, writes::text
FROM community.audit_event WHERE writes IS NOT NULL ORDER BY id
"""
# Everything a refused write could have touched, as one comparable value.
FINGERPRINT = """
SELECT (SELECT md5(string_agg(e::text, '' ORDER BY e.event_id)) FROM cargo.event e),
       (SELECT md5(string_agg(cv::text, '' ORDER BY cv.id)) FROM cargo.container_visit cv),
       (SELECT count(*) FROM cargo.event_retraction)
"""


@pytest.fixture
async def pool(writable_url: str) -> AsyncIterator[Pool]:
    pool: Pool = await asyncpg.create_pool(writable_url, min_size=1, max_size=10)
    yield pool
    await pool.close()


@pytest.fixture
def pools(pool: Pool) -> SourcePools:
    return SourcePools(dict.fromkeys(SOURCES, pool))


class Audit:
    """Records handed over for writing after the transaction (community elsewhere)."""

    def __init__(self) -> None:
        self.records: list[AuditRecord] = []

    def __call__(self, record: AuditRecord) -> None:
        self.records.append(record)


async def publish(
    pools: SourcePools, who: Principal, events: list[dict[str, Any]], audit: Audit | None = None
) -> Publication:
    return await publish_events(pools, who, events, operation="test", audit=audit or Audit())


def outcomes(publication: Publication) -> list[tuple[Any, ...]]:
    return [(i.index, i.outcome, i.code, i.field) for i in publication.items]


async def first_visit(pool: Pool, carrier_scac: str, direction: str, status: str) -> Visit:
    return (await visits(pool, carrier_scac, direction, status))[0]


AT = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)


async def test_a_discharge_and_availability_move_the_visit_along(
    pool: Pool, pools: SourcePools
) -> None:
    visit = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
    disc = equipment_event(visit, "DISC", at=AT)
    published = await publish(pools, MSCU, [disc])
    assert (published.stored, outcomes(published)) == (True, [(0, Outcome.ACCEPTED, None, None)])
    state = await pool.fetchrow(VISIT_STATE, visit.id)
    assert state is not None
    assert dict(state) == {
        "status": "IN_YARD",
        "available_for_pickup": False,
        "last_free_day": dt.date(2026, 3, 2 + FREE_DAYS),
    }
    available = equipment_event(visit, "AVPU", at=AT + dt.timedelta(hours=3))
    assert (await publish(pools, MSCU, [available])).stored
    state = await pool.fetchrow(VISIT_STATE, visit.id)
    assert state is not None
    assert (state["status"], state["available_for_pickup"]) == ("IN_YARD", True)
    stored = await pool.fetchrow(
        "SELECT event_type, event_classifier_code, equipment_event_type_code, carrier_scac,"
        " publisher_code, port_call_id, unlocode, facility_smdg_code, event_datetime"
        " FROM cargo.event WHERE event_id = $1",
        uuid.UUID(disc["eventID"]),
    )
    assert stored is not None
    assert tuple(stored) == (
        *("EQUIPMENT", "ACT", "DISC", "MSCU", "MSCU", visit.port_call_id),
        *(visit.unlocode, visit.smdg_code, AT),
    )


async def test_estimates_leave_the_visit_as_it_was(pool: Pool, pools: SourcePools) -> None:
    visit = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
    before = await pool.fetchrow(VISIT_STATE, visit.id)
    assert (await publish(pools, MSCU, [equipment_event(visit, "DISC", "EST")])).stored
    assert await pool.fetchrow(VISIT_STATE, visit.id) == before


async def test_the_same_event_again_is_a_duplicate(pool: Pool, pools: SourcePools) -> None:
    visit = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
    event = equipment_event(visit, "DISC", at=AT)
    assert (await publish(pools, MSCU, [event])).stored
    rows = await pool.fetchval(EVENT_ROWS)
    # Again, in the same batch twice, and written with another offset: the same content.
    shifted = {
        **event,
        "eventDateTime": AT.astimezone(dt.timezone(dt.timedelta(hours=-8))).isoformat(),
    }
    again = await publish(pools, MSCU, [event, shifted])
    assert (again.stored, outcomes(again)) == (
        True,
        [(0, Outcome.DUPLICATE, None, None), (1, Outcome.DUPLICATE, None, None)],
    )
    assert await pool.fetchval(EVENT_ROWS) == rows


async def test_the_same_id_with_other_content_is_a_conflict_and_nothing_is_stored(
    pool: Pool, pools: SourcePools
) -> None:
    visit = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
    event = equipment_event(visit, "DISC", at=AT)
    assert (await publish(pools, MSCU, [event])).stored
    before = await pool.fetchrow(FINGERPRINT)
    fresh = equipment_event(visit, "CUSR", at=AT + dt.timedelta(hours=1))
    changed = {**event, "eventClassifierCode": "EST"}
    published = await publish(pools, MSCU, [fresh, changed])
    assert (published.stored, outcomes(published)) == (
        False,
        [(0, Outcome.NOT_STORED, None, None), (1, Outcome.REJECTED, Refusal.CONFLICT, "eventID")],
    )
    assert published.items[1].reason == "an event with this eventID is stored with other content"
    assert await pool.fetchrow(FINGERPRINT) == before


async def test_one_bad_check_digit_in_a_thousand_stores_nothing_and_is_named(
    pool: Pool, pools: SourcePools
) -> None:
    boxes = await visits(pool, "MSCU", "EXPORT", "LOADED")
    events = [equipment_event(boxes[i % len(boxes)], "LOAD", "PLN") for i in range(1_000)]
    number = events[637]["equipmentReference"]
    events[637]["equipmentReference"] = number[:10] + str((int(number[10]) + 1) % 10)
    before = await pool.fetchrow(FINGERPRINT)
    published = await publish(pools, MSCU, events)
    assert not published.stored
    assert [i.index for i in published.items if i.outcome is Outcome.REJECTED] == [637]
    bad = published.items[637]
    assert (bad.code, bad.field, bad.event_id) == (
        Refusal.INVALID,
        "equipmentReference",
        events[637]["eventID"],
    )
    wrong = events[637]["equipmentReference"]
    assert bad.reason == f"{wrong} fails the ISO 6346 check digit (expected {number[10]})"
    assert published.count(Outcome.NOT_STORED) == 999
    assert await pool.fetchrow(FINGERPRINT) == before


async def test_more_than_a_thousand_events_are_refused_before_any_work(pools: SourcePools) -> None:
    with pytest.raises(TooManyEvents, match="at most 1,000 events per call, got 1,001"):
        await publish(pools, MSCU, [{}] * 1_001)


async def test_another_carriers_box_is_not_found_changes_nothing_and_is_audited(
    pool: Pool, pools: SourcePools
) -> None:
    theirs = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
    mine = await first_visit(pool, "COSU", "IMPORT", "ON_VESSEL")
    published_by_them = equipment_event(theirs, "DISC", "EST")
    assert (await publish(pools, MSCU, [published_by_them])).stored
    before = await pool.fetchrow(FINGERPRINT)
    audit = Audit()
    attempts = [
        [equipment_event(theirs, "DISC", at=AT)],
        [equipment_event(mine, "DISC", at=AT), equipment_event(theirs, "AVPU", at=AT)],
        [retraction(published_by_them["eventID"])],
    ]
    expected = [
        [(0, Outcome.REJECTED, Refusal.NOT_FOUND, "equipmentReference")],
        [
            (0, Outcome.NOT_STORED, None, None),
            (1, Outcome.REJECTED, Refusal.NOT_FOUND, "equipmentReference"),
        ],
        [(0, Outcome.REJECTED, Refusal.NOT_FOUND, "retractedEventID")],
    ]
    for events, outcome in zip(attempts, expected, strict=True):
        published = await publish(pools, COSU, events, audit)
        assert (published.stored, outcomes(published)) == (False, outcome)
    assert await pool.fetchrow(FINGERPRINT) == before
    # Refused, the transaction is rolled back: its audit row is written after it.
    audited = audit.records
    assert [(r.organization_code, r.rows_counted, r.denials) for r in audited] == [
        ("COSU", 0, '{"Mutation.publishEvents": 1}')
    ] * 3
    assert audited[1].writes is not None
    assert json.loads(audited[1].writes) == {
        "mutation": "publishEvents",
        "stored": False,
        "accepted": 0,
        "duplicates": 0,
        "rejected": [{"index": 1, "code": "NOT_FOUND", "field": "equipmentReference"}],
    }


async def test_an_event_that_does_not_exist_reads_as_one_that_is_not_yours(
    pool: Pool, pools: SourcePools
) -> None:
    mine = await first_visit(pool, "COSU", "IMPORT", "ON_VESSEL")
    nowhere = equipment_event(mine, "DISC")
    nowhere["transportCall"]["transportCallID"] = str(uuid.UUID(int=1))
    missing = await publish(pools, COSU, [nowhere, retraction(str(uuid.uuid4()))])
    assert [(i.code, i.field, i.reason) for i in missing.items] == [
        (
            Refusal.NOT_FOUND,
            "equipmentReference",
            "matches no container visit, port call or document you may publish for",
        ),
        (Refusal.NOT_FOUND, "retractedEventID", "names no event you may retract"),
    ]


async def test_a_terminal_publishes_at_its_terminal_only(pool: Pool, pools: SourcePools) -> None:
    visit = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
    own = terminal(visit.unlocode, visit.smdg_code)
    other = terminal("USLAX", "APMT" if visit.smdg_code != "APMT" else "TRAP")
    discharge = equipment_event(visit, "DISC", at=AT)
    refused = await publish(pools, other, [discharge])
    assert outcomes(refused) == [(0, Outcome.REJECTED, Refusal.NOT_FOUND, "equipmentReference")]
    accepted = await publish(pools, own, [discharge])
    assert outcomes(accepted) == [(0, Outcome.ACCEPTED, None, None)]
    row = await pool.fetchrow(
        "SELECT carrier_scac, publisher_code FROM cargo.event WHERE event_id = $1",
        uuid.UUID(discharge["eventID"]),
    )
    assert row is not None
    assert tuple(row) == ("MSCU", own.organization_code)


async def test_partners_who_write_no_events_find_nothing_to_write_for(
    pool: Pool, pools: SourcePools
) -> None:
    from resolvers.principal import OrganizationKind

    visit = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
    for who in (
        principal(OrganizationKind.TRUCKER, "BYLC", scac="BYLC"),
        principal(OrganizationKind.CUSTOMS, "CBP"),
        principal(OrganizationKind.BCO, "BCO-ACME"),
    ):
        published = await publish(pools, who, [equipment_event(visit, "DISC")])
        assert outcomes(published) == [
            (0, Outcome.REJECTED, Refusal.NOT_FOUND, "equipmentReference")
        ]


def retraction(event_id: str, retraction_id: uuid.UUID | None = None) -> dict[str, Any]:
    return {
        "eventID": str(retraction_id or uuid.uuid4()),
        "eventCreatedDateTime": "2026-03-02T12:00:00Z",
        "eventType": "EQUIPMENT",
        "retractedEventID": event_id,
    }


async def test_a_retraction_withdraws_the_event_and_the_visit_goes_back(
    pool: Pool, pools: SourcePools
) -> None:
    visit = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
    before = await pool.fetchrow(VISIT_STATE, visit.id)
    disc = equipment_event(visit, "DISC", at=AT)
    assert (await publish(pools, MSCU, [disc])).stored
    withdrawal = retraction(disc["eventID"])
    published = await publish(pools, MSCU, [withdrawal])
    assert outcomes(published) == [(0, Outcome.ACCEPTED, None, None)]
    assert await pool.fetchval(
        "SELECT retracted_at IS NOT NULL FROM cargo.event WHERE event_id = $1",
        uuid.UUID(disc["eventID"]),
    )
    assert await pool.fetchrow(VISIT_STATE, visit.id) == before
    again = await publish(pools, MSCU, [withdrawal])
    assert outcomes(again) == [(0, Outcome.DUPLICATE, None, None)]
    other = {**withdrawal, "eventCreatedDateTime": "2026-03-02T13:00:00Z"}
    conflict = await publish(pools, MSCU, [other])
    assert outcomes(conflict) == [(0, Outcome.REJECTED, Refusal.CONFLICT, "eventID")]


async def test_an_event_id_is_never_both_an_event_and_a_retraction(
    pool: Pool, pools: SourcePools
) -> None:
    visit = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
    disc = equipment_event(visit, "DISC", "EST")
    assert (await publish(pools, MSCU, [disc])).stored
    taken = await publish(pools, MSCU, [retraction(disc["eventID"], uuid.UUID(disc["eventID"]))])
    assert outcomes(taken) == [(0, Outcome.REJECTED, Refusal.INVALID, "retractedEventID")]
    withdrawal = retraction(disc["eventID"])
    assert (await publish(pools, MSCU, [withdrawal])).stored
    reused = equipment_event(visit, "AVPU", "EST", event_id=uuid.UUID(withdrawal["eventID"]))
    assert outcomes(await publish(pools, MSCU, [reused])) == [
        (0, Outcome.REJECTED, Refusal.CONFLICT, "eventID")
    ]


async def test_the_audit_row_is_written_in_the_transaction_when_community_is_alongside(
    pool: Pool, pools: SourcePools
) -> None:
    visit = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
    handed_over = Audit()
    assert (await publish(pools, MSCU, [equipment_event(visit, "DISC")], handed_over)).stored
    assert handed_over.records == []
    [row] = await pool.fetch(WRITE_AUDIT)
    assert (row["organization_code"], row["fields"], row["rows_counted"]) == (
        "MSCU",
        ["Mutation.publishEvents"],
        1,
    )
    assert json.loads(row["writes"]) == {
        "mutation": "publishEvents",
        "stored": True,
        "accepted": 1,
        "duplicates": 0,
        "rejected": [],
    }


async def test_the_audit_row_is_handed_over_when_community_lives_elsewhere(
    pool: Pool, writable_url: str
) -> None:
    community: Pool = await asyncpg.create_pool(writable_url, min_size=1, max_size=2)
    try:
        split = SourcePools({**dict.fromkeys(SOURCES, pool), "community": community})
        visit = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
        handed_over = Audit()
        assert (await publish(split, MSCU, [equipment_event(visit, "DISC")], handed_over)).stored
        assert [(r.organization_code, r.rows_counted) for r in handed_over.records] == [("MSCU", 1)]
        assert await pool.fetch(WRITE_AUDIT) == []
        await insert_audit_events(community, handed_over.records)
        assert len(await pool.fetch(WRITE_AUDIT)) == 1
    finally:
        await community.close()


async def test_eight_publishers_of_overlapping_batches_store_each_event_once(
    pool: Pool, pools: SourcePools
) -> None:
    boxes = await visits(pool, "MSCU", "IMPORT", "EMPTY_RETURNED")
    rng = random.Random(10)
    ids = [uuid.UUID(int=rng.getrandbits(128)) for _ in range(5_000)]
    events = {
        i: equipment_event(boxes[n % len(boxes)], "GTIN", "EST", AT + dt.timedelta(minutes=n), i)
        for n, i in enumerate(ids)
    }
    before = await pool.fetchval(EVENT_ROWS)

    def batches(client: int) -> list[list[dict[str, Any]]]:
        own = ids[client * 625 : (client + 1) * 625]
        picked = own + rng.sample(ids, 1_375)
        rng.shuffle(picked)
        return [[events[i] for i in picked[:1_000]], [events[i] for i in picked[1_000:]]]

    async def client(work: list[list[dict[str, Any]]]) -> list[Publication]:
        return [await publish(pools, MSCU, batch) for batch in work]

    results = await asyncio.gather(*(client(batches(c)) for c in range(8)))
    publications = [p for done in results for p in done]
    assert all(p.stored for p in publications)
    accepted = sum(p.count(Outcome.ACCEPTED) for p in publications)
    duplicates = sum(p.count(Outcome.DUPLICATE) for p in publications)
    assert (accepted, duplicates) == (5_000, 16_000 - 5_000)
    assert await pool.fetchval(EVENT_ROWS) - before == 5_000
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM cargo.event WHERE event_id = ANY($1::uuid[])", ids
        )
        == 5_000
    )


async def test_recomputing_every_seeded_visit_from_its_events_changes_nothing(
    pool: Pool,
) -> None:
    """The state a write derives is the state the demo's lifecycle gave every visit."""
    ids = [r["id"] for r in await pool.fetch("SELECT id FROM cargo.container_visit")]
    state = "SELECT id, status, available_for_pickup, last_free_day FROM cargo.container_visit"
    async with pool.acquire() as connection:
        before = await connection.fetch(state + " ORDER BY id")
        async with connection.transaction():
            await connection.execute(UPDATE_VISIT_STATE, ids, STATUS_AFTER, FREE_DAYS)
            after = await connection.fetch(state + " ORDER BY id")
    assert len(before) > 2_000
    assert after == before


def plan_nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for child in plan.get("Plans", []) for n in plan_nodes(child))]


@pytest.mark.parametrize("plan_cache_mode", ["force_custom_plan", "force_generic_plan"])
async def test_deriving_a_batchs_visits_reads_them_and_their_boxes_events_by_index(
    pool: Pool, plan_cache_mode: str
) -> None:
    """Neither every visit (a hash join over the table cost 17 ms a batch at scale 1) nor the
    whole port call's events (a bitmap that grew with each event published for the call)."""
    # A batch's share of the visits at scale 1: 250 of 58,000.
    ids = [r["id"] for r in await pool.fetch("SELECT id FROM cargo.container_visit LIMIT 12")]
    async with pool.acquire() as connection:
        await connection.execute(f"SET plan_cache_mode = {plan_cache_mode}")
        plan = await connection.fetchval(
            "EXPLAIN (FORMAT JSON) " + UPDATE_VISIT_STATE, ids, STATUS_AFTER, FREE_DAYS
        )
        await connection.execute("RESET plan_cache_mode")
    scans = {
        (n["Node Type"], n["Relation Name"], n.get("Index Name"))
        for n in plan_nodes(json.loads(plan)[0]["Plan"])
        if n.get("Relation Name") in ("container_visit", "event")
    }
    assert scans == {
        ("Index Scan", "container_visit", "container_visit_pkey"),
        ("Index Scan", "event", "event_port_call_equipment_idx"),
        ("ModifyTable", "container_visit", None),
    }


WAITING_FOR_VISITS = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = current_database() AND pid <> pg_backend_pid()
  AND wait_event_type = 'Lock' AND query LIKE '%FOR UPDATE%'
"""


async def test_batches_sharing_a_visit_each_derive_its_state_from_the_others_events(
    pool: Pool, pools: SourcePools, writable_url: str
) -> None:
    """Two batches wait for one visit together; whichever goes second must see the events
    the first committed (a snapshot taken before the wait would miss them)."""
    visit = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
    discharge = equipment_event(visit, "DISC", at=AT)
    available = equipment_event(visit, "AVPU", at=AT + dt.timedelta(hours=3))
    async with held_visit(writable_url, visit.id):
        batches = [
            asyncio.create_task(publish(pools, MSCU, [discharge])),
            asyncio.create_task(publish(pools, MSCU, [available])),
        ]
        deadline = asyncio.get_running_loop().time() + 20
        while await pool.fetchval(WAITING_FOR_VISITS) < 2:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.02)
    assert all(p.stored for p in await asyncio.gather(*batches))
    state = await pool.fetchrow(VISIT_STATE, visit.id)
    assert state is not None
    assert dict(state) == {
        "status": "IN_YARD",
        "available_for_pickup": True,
        "last_free_day": dt.date(2026, 3, 2 + FREE_DAYS),
    }


# --- What a writer owns (review of issue 10) --------------------------------------------------


async def test_a_carrier_cannot_retract_the_terminals_event_on_its_own_box(
    pool: Pool, pools: SourcePools
) -> None:
    visit = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
    discharge = equipment_event(visit, "DISC", at=AT)
    own_terminal = terminal(visit.unlocode, visit.smdg_code)
    assert (await publish(pools, own_terminal, [discharge])).stored
    withdrawal = await publish(pools, MSCU, [retraction(discharge["eventID"])])
    assert outcomes(withdrawal) == [(0, Outcome.REJECTED, Refusal.NOT_FOUND, "retractedEventID")]
    assert (await publish(pools, own_terminal, [retraction(discharge["eventID"])])).stored


async def test_a_transport_event_is_the_vessel_operators(pool: Pool, pools: SourcePools) -> None:
    row = await pool.fetchrow(
        "SELECT cv.id, cv.equipment_reference, cv.port_call_id, cv.carrier_scac, cv.unlocode,"
        " cv.smdg_code, cv.direction, cv.status, cv.transport_document_reference,"
        " NULL AS carrier_booking_reference, pc.carrier_scac AS operator"
        " FROM cargo.container_visit cv JOIN vessel.port_call pc ON pc.id = cv.port_call_id"
        " WHERE cv.carrier_scac <> pc.carrier_scac ORDER BY cv.id LIMIT 1"
    )
    assert row is not None
    visit = Visit.of(row)
    arrival = transport_event(visit)
    refused = await publish(pools, carrier(visit.carrier_scac), [arrival])
    assert outcomes(refused) == [
        (0, Outcome.REJECTED, Refusal.NOT_FOUND, "transportCall.transportCallID")
    ]
    accepted = await publish(pools, terminal(visit.unlocode, visit.smdg_code), [arrival])
    assert outcomes(accepted) == [(0, Outcome.ACCEPTED, None, None)]
    stored = await pool.fetchval(
        "SELECT carrier_scac FROM cargo.event WHERE event_id = $1", uuid.UUID(arrival["eventID"])
    )
    assert stored == row["operator"]


async def test_an_event_names_only_the_writers_documents(pool: Pool, pools: SourcePools) -> None:
    mine = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
    theirs = await first_visit(pool, "COSU", "IMPORT", "ON_VESSEL")
    assert theirs.transport_document_reference is not None
    event = {
        **equipment_event(mine, "DISC", "EST"),
        "documentReferences": [
            {
                "documentReferenceType": "TRD",
                "documentReferenceValue": theirs.transport_document_reference,
            }
        ],
    }
    refused = await publish(pools, MSCU, [event])
    assert outcomes(refused) == [(0, Outcome.REJECTED, Refusal.NOT_FOUND, "documentReferences")]
    assert mine.transport_document_reference is not None
    event["documentReferences"][0]["documentReferenceValue"] = mine.transport_document_reference
    assert (await publish(pools, MSCU, [event])).stored


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (
            {"eventDateTime": "9999-12-31T23:00:00-05:00"},
            "eventDateTime",
            "must lie between 1970 and 2100",
        ),
        (
            {"eventCreatedDateTime": "0001-01-01T00:00:00+01:00"},
            "eventCreatedDateTime",
            "must lie between 1970 and 2100",
        ),
        ({"seals": [{"a": [[[[[[[[[1]]]]]]]]]}]}, "seals", "nests deeper than 8 levels"),
        ({"seals": "VKF4567"}, "seals", "must be an array of at most 100 items"),
    ],
)
async def test_what_no_reader_could_take_back_is_refused_at_the_edge(
    pool: Pool, pools: SourcePools, change: dict[str, Any], field: str, reason: str
) -> None:
    visit = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
    published = await publish(pools, MSCU, [{**equipment_event(visit, "DISC", "EST"), **change}])
    assert [(i.code, i.field, i.reason) for i in published.items] == [
        (Refusal.INVALID, field, reason)
    ]


async def test_track_and_trace_3_words_are_stored_as_the_2_2_codes(
    pool: Pool, pools: SourcePools
) -> None:
    visit = await first_visit(pool, "MSCU", "IMPORT", "ON_VESSEL")
    words = {
        **equipment_event(visit, "DISC", at=AT),
        "eventClassifierCode": "ACTUAL",
        "equipmentEventTypeCode": "DISCHARGED",
    }
    assert outcomes(await publish(pools, MSCU, [words])) == [(0, Outcome.ACCEPTED, None, None)]
    stored = await pool.fetchrow(
        "SELECT event_classifier_code, equipment_event_type_code FROM cargo.event"
        " WHERE event_id = $1",
        uuid.UUID(words["eventID"]),
    )
    assert tuple(stored or ()) == ("ACT", "DISC")
    codes = {**words, "eventClassifierCode": "ACT", "equipmentEventTypeCode": "DISC"}
    assert outcomes(await publish(pools, MSCU, [codes])) == [(0, Outcome.DUPLICATE, None, None)]
