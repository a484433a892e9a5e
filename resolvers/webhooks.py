"""DCSA event subscriptions (webhooks) in the cargo source: a partner's own subscriptions, and
the leases and positions of their deliveries (issue 11).

A partner sees and changes only its own subscriptions: another's reads as missing. A new
subscription starts at the change log's head (it is sent what is stored from then on). A
replica leases due subscriptions with `FOR UPDATE SKIP LOCKED`, so each delivery is sent by
one replica at a time; the position moves only after a 2xx, and only while the lease is the
one taken, so a delivery that outlived its lease (another replica took over) changes nothing.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from asyncpg import Record

from resolvers.changes import LAST, LogPosition
from resolvers.sources import BACKGROUND, Pool

MAX_PER_PARTNER = 100
LEASE_SECONDS = 60

SUBSCRIPTION_COLUMNS = """
    s.id, s.organization_code, s.subject, s.scopes, s.callback_url, s.secret,
    s.filters::text AS filters, s.position, s.ordinal, s.attempts, s.next_attempt_at,
    s.leased_until, s.last_failure, s.created_at, s.updated_at"""
# Held to the end of the creating transaction: two concurrent creations of one partner
# cannot both pass INSERT_SUBSCRIPTION's count.
LOCK_PARTNER = "SELECT pg_advisory_xact_lock(hashtext('event_subscription:' || $1::text))"
INSERT_SUBSCRIPTION = f"""
WITH held AS (SELECT count(*) AS n FROM cargo.event_subscription s
              WHERE s.organization_code = $2::text)
INSERT INTO cargo.event_subscription AS s
    (id, organization_code, subject, scopes, callback_url, secret, filters, position, ordinal)
SELECT $1::uuid, $2::text, $3::text, $4::text[], $5::text, $6::bytea, $7::jsonb,
       (SELECT coalesce(max(c.position), 0) FROM cargo.change_log c), {LAST}
FROM held WHERE held.n < $8::int
RETURNING {SUBSCRIPTION_COLUMNS}
"""
SELECT_SUBSCRIPTION = f"""
SELECT {SUBSCRIPTION_COLUMNS} FROM cargo.event_subscription s
WHERE s.id = $1::uuid AND s.organization_code = $2::text
"""
SELECT_SUBSCRIPTIONS = f"""
SELECT {SUBSCRIPTION_COLUMNS} FROM cargo.event_subscription s
WHERE s.organization_code = $1::text
  AND ($2::timestamptz IS NULL OR (s.created_at, s.id) > ($2::timestamptz, $3::uuid))
ORDER BY s.created_at, s.id
LIMIT $4::int
"""
UPDATE_SUBSCRIPTION = f"""
UPDATE cargo.event_subscription s
SET callback_url = $3::text, filters = $4::jsonb, updated_at = now()
WHERE s.id = $1::uuid AND s.organization_code = $2::text
RETURNING {SUBSCRIPTION_COLUMNS}
"""
REPLACE_SHARED_KEY = """
UPDATE cargo.event_subscription s SET secret = $3::bytea, updated_at = now()
WHERE s.id = $1::uuid AND s.organization_code = $2::text
RETURNING s.id
"""
DELETE_SUBSCRIPTION = """
DELETE FROM cargo.event_subscription s
WHERE s.id = $1::uuid AND s.organization_code = $2::text
RETURNING s.id
"""
# Due (its wait is over), behind the log's head ($1), not leased by a live delivery.
LEASE_DUE = f"""{BACKGROUND}
UPDATE cargo.event_subscription s
SET leased_until = now() + make_interval(secs => {LEASE_SECONDS})
WHERE s.id IN (
    SELECT d.id FROM cargo.event_subscription d
    WHERE d.next_attempt_at <= now()
      AND (d.position, d.ordinal) < ($1::bigint, {LAST})
      AND (d.leased_until IS NULL OR d.leased_until < now())
    ORDER BY d.next_attempt_at
    LIMIT $2::int
    FOR UPDATE SKIP LOCKED
)
RETURNING {SUBSCRIPTION_COLUMNS}
"""
# After a 2xx (or nothing to send): the position moves, the backoff is over.
DELIVERED = f"""{BACKGROUND}
UPDATE cargo.event_subscription s
SET position = $3::bigint, ordinal = $4::bigint, attempts = 0, next_attempt_at = now(),
    leased_until = NULL, last_failure = NULL
WHERE s.id = $1::uuid AND s.leased_until = $2::timestamptz
"""
# After a failure: the position stays; the next attempt waits 2^attempts seconds, capped.
FAILED = f"""{BACKGROUND}
UPDATE cargo.event_subscription s
SET attempts = s.attempts + 1,
    next_attempt_at = now() + make_interval(secs => least(2 ^ s.attempts, $3::float8)),
    leased_until = NULL, last_failure = left($4::text, 500)
WHERE s.id = $1::uuid AND s.leased_until = $2::timestamptz
"""


@dataclass(frozen=True, slots=True)
class EventSubscription:
    id: uuid.UUID
    organization_code: str
    subject: str | None
    scopes: frozenset[str]
    callback_url: str
    secret: bytes
    filters: dict[str, Any]
    position: LogPosition
    attempts: int
    leased_until: datetime.datetime | None
    last_failure: str | None

    @classmethod
    def of(cls, row: Record) -> EventSubscription:
        return cls(
            id=row["id"],
            organization_code=row["organization_code"],
            subject=row["subject"],
            scopes=frozenset(row["scopes"]),
            callback_url=row["callback_url"],
            secret=bytes(row["secret"]),
            filters=orjson.loads(row["filters"]),
            position=(row["position"], row["ordinal"]),
            attempts=row["attempts"],
            leased_until=row["leased_until"],
            last_failure=row["last_failure"],
        )


@dataclass(frozen=True, slots=True)
class NewSubscription:
    organization_code: str
    subject: str | None
    scopes: frozenset[str]
    callback_url: str
    secret: bytes
    filters: Mapping[str, Any]


def _filters(filters: Mapping[str, Any]) -> str:
    return orjson.dumps(dict(filters)).decode()


async def create(pool: Pool, new: NewSubscription) -> EventSubscription | None:
    """The subscription, or None when its partner holds MAX_PER_PARTNER already."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(LOCK_PARTNER, new.organization_code)
        row = await connection.fetchrow(
            INSERT_SUBSCRIPTION,
            uuid.uuid4(),
            new.organization_code,
            new.subject,
            sorted(new.scopes),
            new.callback_url,
            new.secret,
            _filters(new.filters),
            MAX_PER_PARTNER,
        )
    return None if row is None else EventSubscription.of(row)


async def find(pool: Pool, subscription_id: uuid.UUID, owner: str) -> EventSubscription | None:
    row = await pool.fetchrow(SELECT_SUBSCRIPTION, subscription_id, owner)
    return None if row is None else EventSubscription.of(row)


async def page(
    pool: Pool, owner: str, after: tuple[datetime.datetime, uuid.UUID] | None, size: int
) -> list[tuple[EventSubscription, datetime.datetime]]:
    """Up to `size` + 1 of the partner's subscriptions, oldest first, each with its creation."""
    at, after_id = after if after is not None else (None, None)
    rows = await pool.fetch(SELECT_SUBSCRIPTIONS, owner, at, after_id, size + 1)
    return [(EventSubscription.of(r), r["created_at"]) for r in rows]


async def update(
    pool: Pool,
    subscription_id: uuid.UUID,
    owner: str,
    callback_url: str,
    filters: Mapping[str, Any],
) -> EventSubscription | None:
    row = await pool.fetchrow(
        UPDATE_SUBSCRIPTION, subscription_id, owner, callback_url, _filters(filters)
    )
    return None if row is None else EventSubscription.of(row)


async def replace_secret(pool: Pool, subscription_id: uuid.UUID, owner: str, secret: bytes) -> bool:
    return await pool.fetchval(REPLACE_SHARED_KEY, subscription_id, owner, secret) is not None


async def delete(pool: Pool, subscription_id: uuid.UUID, owner: str) -> bool:
    return await pool.fetchval(DELETE_SUBSCRIPTION, subscription_id, owner) is not None


async def lease_due(pool: Pool, head: int, count: int) -> list[EventSubscription]:
    return [EventSubscription.of(r) for r in await pool.fetch(LEASE_DUE, head, count)]


async def delivered(pool: Pool, subscription: EventSubscription, to: LogPosition) -> None:
    await pool.execute(DELIVERED, subscription.id, subscription.leased_until, *to)


async def failed(
    pool: Pool, subscription: EventSubscription, why: str, max_backoff_seconds: float
) -> None:
    await pool.execute(FAILED, subscription.id, subscription.leased_until, max_backoff_seconds, why)
