"""The instants a partner may write: within what every reader can represent.

PostgreSQL stores timestamps far beyond Python's years 1 to 9999; an instant written near
either end (with its offset) would be stored, then fail every read that returns it. So
writes take instants from 1970 to 2100 only, plenty for port operations.
"""

from __future__ import annotations

import datetime

EARLIEST = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
LATEST = datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC)
OUT_OF_RANGE = "must lie between 1970 and 2100"


def in_range(value: datetime.datetime) -> bool:
    """Whether an aware instant lies within [EARLIEST, LATEST)."""
    return EARLIEST <= value < LATEST
