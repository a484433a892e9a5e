"""The insights part of the schema: port-wide aggregates computed in SQL over the sources.

Windows are whole UTC days: `from` and `to` are dates, both included. Without them a window
is the 30 days up to today (the request's date).
"""

from __future__ import annotations

import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from resolvers import insights as sql
from schema.context import Info
from schema.inputs import TerminalInput, bad_input, date_in_range, ordered, terminal_argument
from schema.permissions import scopes
from schema.scopes import Scope

DEFAULT_WEEKS = 3
MAX_WEEKS = 6
DEFAULT_DAYS = 30
MAX_DAYS = 366  # bounds the work of one request, and keeps counts well inside a GraphQL Int

TerminalArg = Annotated[
    TerminalInput | None, strawberry.argument(description="Only this terminal; all when omitted.")
]
FromArg = Annotated[
    datetime.date | None,
    strawberry.argument(name="from", description="First day (UTC) of the window, included."),
]
ToArg = Annotated[
    datetime.date | None,
    strawberry.argument(description="Last day (UTC) of the window, included; default today."),
]


def today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


def day_window(
    first: datetime.date | None, last: datetime.date | None
) -> tuple[datetime.date, datetime.date]:
    """Validated (first, last) days: default the 30 days up to `last` (default today)."""
    last = date_in_range(last, "to") or today()
    first = date_in_range(first, "from") or last - datetime.timedelta(days=DEFAULT_DAYS - 1)
    ordered(first, last, "from", "to")
    if (last - first).days + 1 > MAX_DAYS:
        raise bad_input("from", f"the window may span at most {MAX_DAYS} days")
    return first, last


def instants(
    first: datetime.date, last: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    """The half-open instant range [first 00:00Z, day after last 00:00Z)."""
    return sql.midnight(first), sql.midnight(last + datetime.timedelta(days=1))


# --- Output types --------------------------------------------------------------------------


@strawberry.type(
    description=(
        "Inbound volume of one terminal in one ISO week: import boxes of the vessel calls "
        "arriving that week (actual arrival, else estimated). TEU is box length over 20 ft: "
        "a 20' box is 1, a 40' 2, a 45' 2.25."
    )
)
class InboundVolume:
    unlocode: str = strawberry.field(description="UN/LOCODE of the terminal's port.")
    smdg_code: str = strawberry.field(description="SMDG code of the terminal.")
    week_start: datetime.date = strawberry.field(description="Monday of the ISO week (UTC).")
    iso_week: str = strawberry.field(description='ISO 8601 week, e.g. "2026-W10".')
    vessel_calls: int = strawberry.field(description="Vessel calls arriving that week.")
    containers: int = strawberry.field(description="Import boxes on those calls.")
    teu: float = strawberry.field(description="Import TEU on those calls.")
    teu20: float = strawberry.field(description="TEU in 20-foot boxes.")
    teu40: float = strawberry.field(description="TEU in 40-foot boxes (high cubes included).")
    teu45: float = strawberry.field(description="TEU in 45-foot boxes.")
    teu_other: float = strawberry.field(description="TEU in boxes of other lengths.")
    teu_rail: float = strawberry.field(
        description=(
            "TEU leaving by rail: boxes whose place of delivery is inland beyond the local "
            "trucking area (inland point intermodal)."
        )
    )
    teu_local: float = strawberry.field(
        description=(
            "TEU leaving by truck: local delivery, empties and boxes with no delivery place."
        )
    )

    @classmethod
    def from_volume(cls, v: sql.WeekVolume) -> InboundVolume:
        year, week, _ = v.week_start.isocalendar()
        return cls(
            unlocode=v.unlocode,
            smdg_code=v.smdg_code,
            week_start=v.week_start,
            iso_week=f"{year}-W{week:02d}",
            vessel_calls=v.vessel_calls,
            containers=v.containers,
            teu=float(v.teu),
            teu20=float(v.teu_20),
            teu40=float(v.teu_40),
            teu45=float(v.teu_45),
            teu_other=float(v.teu_other),
            teu_rail=float(v.teu_rail),
            teu_local=float(v.teu_local),
        )


@strawberry.type(description="Import dwell at one terminal: hours from discharge to gate-out.")
class DwellStats:
    unlocode: str = strawberry.field(description="UN/LOCODE of the terminal's port.")
    smdg_code: str = strawberry.field(description="SMDG code of the terminal.")
    containers: int = strawberry.field(description="Boxes gated out in the window.")
    average_hours: float = strawberry.field(description="Mean dwell in hours.")
    median_hours: float = strawberry.field(description="Median dwell in hours.")
    p90_hours: float = strawberry.field(description="90th percentile of dwell in hours.")

    @classmethod
    def from_row(cls, row: Any) -> DwellStats:
        return cls(
            unlocode=row["unlocode"],
            smdg_code=row["smdg_code"],
            containers=row["containers"],
            average_hours=row["average"],
            median_hours=row["median"],
            p90_hours=row["p90"],
        )


@strawberry.type(description="Truck turn times at one terminal: minutes from gate-in to gate-out.")
class TurnTimeStats:
    unlocode: str = strawberry.field(description="UN/LOCODE of the terminal's port.")
    smdg_code: str = strawberry.field(description="SMDG code of the terminal.")
    transactions: int = strawberry.field(description="Completed truck visits in the window.")
    average_minutes: float = strawberry.field(description="Mean turn time in minutes.")
    median_minutes: float = strawberry.field(description="Median turn time in minutes.")
    p90_minutes: float = strawberry.field(description="90th percentile of turn time in minutes.")

    @classmethod
    def from_row(cls, row: Any) -> TurnTimeStats:
        return cls(
            unlocode=row["unlocode"],
            smdg_code=row["smdg_code"],
            transactions=row["transactions"],
            average_minutes=row["average"],
            median_minutes=row["median"],
            p90_minutes=row["p90"],
        )


@strawberry.type(
    description=(
        "Berth utilisation of one terminal: vessel hours alongside over berth hours available "
        "in the window. Alongside times come from the JIT berth timestamps (actual, else "
        "planned, else estimated), else from the port call."
    )
)
class BerthUtilization:
    unlocode: str = strawberry.field(description="UN/LOCODE of the terminal's port.")
    smdg_code: str = strawberry.field(description="SMDG code of the terminal.")
    berths: int = strawberry.field(
        description=(
            "Berths: those the terminal's reference data names (SMDG list), else the distinct "
            "berths calls were seen at."
        )
    )
    vessel_calls: int = strawberry.field(description="Calls alongside during the window.")
    berth_hours: float = strawberry.field(description="Vessel hours alongside in the window.")
    available_berth_hours: float = strawberry.field(description="Window hours times berths.")
    utilization: float = strawberry.field(description="berthHours / availableBerthHours (0 to 1).")

    @classmethod
    def from_row(cls, row: Any) -> BerthUtilization:
        available: float = row["available_hours"]
        used: float = row["berth_hours"]
        return cls(
            unlocode=row["unlocode"],
            smdg_code=row["smdg_code"],
            berths=row["berths"],
            vessel_calls=row["vessel_calls"],
            berth_hours=used,
            available_berth_hours=available,
            utilization=used / available if available else 0.0,
        )


@strawberry.enum(description="The way in an intrusion attempt tried.")
class IntrusionVector(Enum):
    WEB = strawberry.enum_value("WEB", description="Public web applications.")
    VPN = strawberry.enum_value("VPN", description="Remote access gateways.")
    EMAIL = strawberry.enum_value("EMAIL", description="E-mail.")
    API = strawberry.enum_value("API", description="Partner APIs.")
    OT_NETWORK = strawberry.enum_value("OT_NETWORK", description="Operational technology networks.")


@strawberry.type(description="Blocked attempts through one vector.")
class VectorAttempts:
    vector: IntrusionVector = strawberry.field(description="The vector.")
    attempts: int = strawberry.field(description="Blocked attempts.")


@strawberry.type(description="Blocked intrusion attempts of one day.")
class IntrusionDay:
    day: datetime.date = strawberry.field(description="The day (UTC).")
    total: int = strawberry.field(description="Blocked attempts that day.")
    by_vector: list[VectorAttempts] = strawberry.field(
        description="That day's attempts per vector."
    )


@strawberry.type(description="Intrusion attempts the port's CSOC blocked in a window.")
class BlockedIntrusions:
    from_: datetime.date = strawberry.field(name="from", description="First day of the window.")
    to: datetime.date = strawberry.field(description="Last day of the window.")
    total: int = strawberry.field(description="Blocked attempts in the window.")
    by_vector: list[VectorAttempts] = strawberry.field(description="Attempts per vector.")
    days: list[IntrusionDay] = strawberry.field(
        description="Per day, oldest first (days with data)."
    )

    @classmethod
    def from_totals(
        cls, first: datetime.date, last: datetime.date, totals: sql.IntrusionTotals
    ) -> BlockedIntrusions:
        return cls(
            from_=first,
            to=last,
            total=totals.total,
            by_vector=_vectors(totals.by_vector),
            days=[
                IntrusionDay(day=day, total=total, by_vector=_vectors(vectors))
                for day, (total, vectors) in sorted(totals.days.items())
            ],
        )


def _vectors(counts: dict[str, int]) -> list[VectorAttempts]:
    return [
        VectorAttempts(vector=IntrusionVector(v), attempts=n) for v, n in sorted(counts.items())
    ]


# --- The insights object -------------------------------------------------------------------


@strawberry.type(
    description=(
        "Port-wide aggregates over vessel, cargo, gate and security data. Each figure is "
        "nullable on its own: a refused argument nulls that figure, not its neighbours."
    )
)
class Insights:
    @strawberry.field(
        description=(
            "The Signal: inbound volume per terminal and ISO week for the weeks ahead, in TEU "
            "by size and by rail vs local. Every terminal gets every week, zeros included."
        )
    )
    async def inbound_volume(
        self,
        info: Info,
        weeks: Annotated[
            int, strawberry.argument(description=f"How many ISO weeks, 1 to {MAX_WEEKS}.")
        ] = DEFAULT_WEEKS,
        terminal: TerminalArg = None,
        from_: Annotated[
            datetime.date | None,
            strawberry.argument(
                name="from", description="A day of the first week (UTC); default today."
            ),
        ] = None,
    ) -> list[InboundVolume] | None:
        if not 1 <= weeks <= MAX_WEEKS:
            raise bad_input("weeks", f"must be between 1 and {MAX_WEEKS}, got {weeks}")
        start = date_in_range(from_, "from") or today()
        key = terminal_argument(info, terminal)
        pools = info.context.pools
        volumes = await sql.inbound_volume(pools["vessel"], pools["cargo"], start, weeks, key)
        return [InboundVolume.from_volume(v) for v in volumes]

    @strawberry.field(description="Import dwell per terminal, for boxes gated out in the window.")
    async def dwell(
        self, info: Info, terminal: TerminalArg = None, from_: FromArg = None, to: ToArg = None
    ) -> list[DwellStats] | None:
        key = terminal_argument(info, terminal)
        low, high = instants(*day_window(from_, to))
        rows = await sql.dwell(info.context.pools["cargo"], low, high, key)
        return [DwellStats.from_row(row) for row in rows]

    @strawberry.field(
        description="Truck turn times per terminal, for trucks gated in in the window."
    )
    async def turn_times(
        self, info: Info, terminal: TerminalArg = None, from_: FromArg = None, to: ToArg = None
    ) -> list[TurnTimeStats] | None:
        key = terminal_argument(info, terminal)
        low, high = instants(*day_window(from_, to))
        rows = await sql.turn_times(info.context.pools["gate"], low, high, key)
        return [TurnTimeStats.from_row(row) for row in rows]

    @strawberry.field(description="Berth utilisation per terminal over the window.")
    async def berth_utilization(
        self, info: Info, terminal: TerminalArg = None, from_: FromArg = None, to: ToArg = None
    ) -> list[BerthUtilization] | None:
        key = terminal_argument(info, terminal)
        low, high = instants(*day_window(from_, to))
        rows = await sql.berth_utilization(info.context.pools["vessel"], low, high, key)
        return [BerthUtilization.from_row(row) for row in rows]

    @strawberry.field(description="Blocked intrusion attempts per day and per vector.")
    async def blocked_intrusions(
        self, info: Info, from_: FromArg = None, to: ToArg = None
    ) -> BlockedIntrusions | None:
        first, last = day_window(from_, to)
        totals = await sql.blocked_intrusions(info.context.pools["security"], first, last)
        return BlockedIntrusions.from_totals(first, last, totals)


@strawberry.type
class InsightsQuery:
    @strawberry.federation.field(
        description="Port-wide aggregates: the Signal, dwell, turn times, berths, intrusions.",
        requires_scopes=scopes(Scope.INSIGHTS_READ),
    )
    def insights(self) -> Insights | None:
        return Insights()


queries: list[type] = [InsightsQuery]
types: list[type] = []
