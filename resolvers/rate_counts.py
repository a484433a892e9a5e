"""Request counts per partner and minute, one row per replica: how the replicas that share a
database learn each other's counts, in batches (never a statement per request)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping

from resolvers.sources import BACKGROUND, Pool

# One statement, marked as background work (a request's statement count leaves it out): the
# read sees the other replicas' rows only, so it needs no view of the write beside it.
EXCHANGE = (
    BACKGROUND
    + """
WITH ours AS (
    INSERT INTO community.rate_count (window_start, holder, replica, requests)
    SELECT $1, holder, $2, requests
    FROM unnest($3::text[], $4::integer[]) AS counted (holder, requests)
    ON CONFLICT (window_start, holder, replica) DO UPDATE SET requests = EXCLUDED.requests
)
SELECT window_start, holder, sum(requests)::integer AS requests
FROM community.rate_count
WHERE window_start = ANY($5::bigint[]) AND replica <> $2
GROUP BY window_start, holder
"""
)
FORGET_OLD = (
    BACKGROUND
    + """
DELETE FROM community.rate_count WHERE window_start < $1
"""
)

Counts = dict[tuple[int, str], int]  # (window start, holder) -> requests


async def exchange(
    pool: Pool, replica: uuid.UUID, window: int, ours: Mapping[str, int], windows: list[int]
) -> Counts:
    """Write this replica's counts for `window`; read the other replicas' for `windows`."""
    holders = list(ours)
    rows = await pool.fetch(EXCHANGE, window, replica, holders, [ours[h] for h in holders], windows)
    return {(row["window_start"], row["holder"]): row["requests"] for row in rows}


async def forget_before(pool: Pool, window: int) -> None:
    await pool.execute(FORGET_OLD, window)
