"""What one seed run generates: the anchor instant, scaled counts and the random streams."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

# Counts at scale 1 (the demo), and the floor that keeps every kind of row at small scales.
VESSELS = (100, 12)
PORT_CALLS = (400, 24)
CONTAINER_VISITS = (58_000, 600)
ADVISORIES = (48, 12)
INCIDENTS = (40, 12)

PAST_DAYS = 30  # port calls arrive from anchor - 30 days ...
FUTURE_DAYS = 21  # ... to anchor + 21 days


@dataclass(frozen=True, slots=True)
class Plan:
    """Seed, scale and anchor; every generated value derives from these three."""

    seed: int
    scale: float
    anchor: dt.date

    def __post_init__(self) -> None:
        if not self.scale > 0:
            raise ValueError(f"scale must be positive, got {self.scale}")

    @property
    def now(self) -> dt.datetime:
        """The instant the data describes: midnight UTC at the start of the anchor day."""
        return dt.datetime.combine(self.anchor, dt.time(0), tzinfo=dt.UTC)

    def rng(self, domain: str) -> random.Random:
        """An independent, reproducible stream per domain (a string seed is hashed with SHA-512)."""
        return random.Random(f"harborgraph-seed:{self.seed}:{domain}")

    def count(self, spec: tuple[int, int]) -> int:
        at_scale_one, minimum = spec
        return max(minimum, round(at_scale_one * self.scale))


def hours(value: float) -> dt.timedelta:
    """A duration in hours, rounded to the second so generated instants stay readable."""
    return dt.timedelta(seconds=round(value * 3600))


def apportion(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """Split total into integer shares proportional to weights (largest remainder, stable)."""
    base = [minimum] * len(weights)
    rest = total - minimum * len(weights)
    if rest < 0:
        raise ValueError(f"cannot give {minimum} each to {len(weights)} out of {total}")
    weight_sum = sum(weights)
    exact = [rest * w / weight_sum for w in weights]
    shares = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (shares[i] - exact[i], i))
    for i in order[: rest - sum(shares)]:
        shares[i] += 1
    return [b + s for b, s in zip(base, shares, strict=True)]
