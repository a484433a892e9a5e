"""The WebSocket operations each replica holds open per partner (issue 11): the limit
`HARBORGRAPH_MAX_SUBSCRIPTIONS` counts every replica's, through PostgreSQL alone.

A replica claims one more for a partner in one short transaction: an advisory lock per
partner, then its own row is written only if the other replicas' live rows leave room. A
replica's rows live while it refreshes them; those of one that stopped are ignored after
REPLICA_TTL_SECONDS, and a replica deletes its own when it stops.
"""

from __future__ import annotations

import uuid

from resolvers.sources import BACKGROUND, Pool

REPLICA_TTL_SECONDS = 30
LOCK_HOLDER = "SELECT pg_advisory_xact_lock(hashtext('open_operation:' || $1::text))"
# $3: this replica's count once the claim is granted; $4: the limit.
CLAIM = f"""
WITH others AS (
    SELECT coalesce(sum(o.open), 0) AS open FROM community.open_operation o
    WHERE o.holder = $2::text AND o.replica_id <> $1::uuid
      AND o.seen_at > now() - make_interval(secs => {REPLICA_TTL_SECONDS})
)
INSERT INTO community.open_operation AS o (replica_id, holder, open)
SELECT $1::uuid, $2::text, $3::int FROM others WHERE others.open + $3::int <= $4::int
ON CONFLICT (replica_id, holder) DO UPDATE SET open = excluded.open, seen_at = now()
RETURNING o.open
"""
SET_OPEN = """
UPDATE community.open_operation o SET open = $3::int, seen_at = now()
WHERE o.replica_id = $1::uuid AND o.holder = $2::text
"""
REFRESH = f"""{BACKGROUND}
UPDATE community.open_operation o SET seen_at = now() WHERE o.replica_id = $1::uuid
"""
FORGET = "DELETE FROM community.open_operation o WHERE o.replica_id = $1::uuid"


async def claim(pool: Pool, replica: uuid.UUID, holder: str, open_here: int, limit: int) -> bool:
    """Whether `holder` may hold `open_here` on this replica (its row is then written)."""
    async with pool.acquire() as connection, connection.transaction():
        await connection.execute(LOCK_HOLDER, holder)
        return await connection.fetchval(CLAIM, replica, holder, open_here, limit) is not None


async def set_open(pool: Pool, replica: uuid.UUID, holder: str, open_here: int) -> None:
    await pool.execute(SET_OPEN, replica, holder, open_here)


async def refresh(pool: Pool, replica: uuid.UUID) -> None:
    await pool.execute(REFRESH, replica)


async def forget(pool: Pool, replica: uuid.UUID) -> None:
    await pool.execute(FORGET, replica)
