"""DCSA JIT 2.0 for each call: terminal call, services and the negotiated timestamp chains."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field

from resolvers.seed import ids
from resolvers.seed.geography import PORT_AUTHORITY
from resolvers.seed.plan import Plan, hours
from resolvers.seed.schedule import PortCall
from resolvers.seed.tables import Row, Table

TERMINAL_CALL_COLUMNS = (
    "id", "port_call_id", "sequence", "terminal_call_reference", "unlocode", "smdg_code", "berth",
)  # fmt: skip
SERVICE_COLUMNS = ("id", "terminal_call_id", "service_type")
TIMESTAMP_COLUMNS = (
    "id", "port_call_service_id", "classifier", "event_type", "event_datetime",
    "reply_to_timestamp_id", "publisher_code", "publisher_role", "remark", "delay_reason_code",
    "created_at",
)  # fmt: skip
SERVICES = ("BERTH", "CARGO_OPERATIONS", "PILOTAGE")
DELAY_REASONS = ("PORT_CONGESTION", "LATE_PREVIOUS_PORT", "WEATHER", "BERTH_OCCUPIED")
REQUEST_SHIFTS_H = (0, 0, 2, -2, 4, 6)


@dataclass(slots=True)
class _Writer:
    """Collects the rows of one call's timestamps and the latest time any was published."""

    rng: random.Random
    now: dt.datetime
    rows: list[Row] = field(default_factory=list)
    latest: dt.datetime | None = None

    def add(
        self,
        service: uuid.UUID,
        stamp: tuple[str, str, dt.datetime],
        publisher: tuple[str, str],
        created: dt.datetime,
        reply_to: uuid.UUID | None = None,
        notes: tuple[str | None, str | None] = (None, None),
    ) -> uuid.UUID | None:
        """Write one timestamp if it was published by the anchor; its id, or None."""
        classifier, event_type, at = stamp
        if created > self.now or (classifier == "ACT" and at > self.now):
            return None
        stamp_id = ids.new_uuid(self.rng)
        self.rows.append(
            (stamp_id, service, classifier, event_type, at, reply_to, *publisher, *notes, created)
        )
        self.latest = created if self.latest is None else max(self.latest, created)
        return stamp_id


@dataclass(frozen=True, slots=True)
class Jit:
    tables: list[Table]
    updated: dict[uuid.UUID, dt.datetime]  # port call id -> last change


def _acted(now: dt.datetime, at: dt.datetime, rng: random.Random) -> dt.datetime:
    """When an actual was published: minutes after it happened, never after the anchor."""
    return min(at + dt.timedelta(minutes=rng.randint(4, 40)), now)


@dataclass(frozen=True, slots=True)
class _Agreed:
    """The outcome of the berth negotiation: who said what when."""

    estimated_at: dt.datetime  # the carrier's first estimate was published
    planned_at: dt.datetime  # the carrier accepted the terminal's requested time
    berth: dt.datetime  # the agreed berthing time


def _berth(w: _Writer, call: PortCall, service: uuid.UUID, roles: dict[str, str]) -> _Agreed:
    """Berth arrival negotiated EST -> REQ -> PLN, then ACT; departure EST then ACT."""
    rng, now = w.rng, w.now
    carrier, terminal = (roles["CA"], "CA"), (roles["TR"], "TR")
    est_at = min(call.eta - hours(rng.uniform(240, 336)), now - hours(rng.uniform(1, 96)))
    est = w.add(service, ("EST", "ARRI", call.eta), carrier, est_at)
    w.add(service, ("EST", "DEPA", call.etd), carrier, est_at + dt.timedelta(minutes=1))
    requested = call.eta + hours(rng.choice(REQUEST_SHIFTS_H))
    req_at = est_at + hours(rng.uniform(6, 48))
    remarks = (None, None) if call.cancelled else ("Berth window offered", None)
    req = w.add(service, ("REQ", "ARRI", requested), terminal, req_at, est, remarks)
    pln_at = req_at + hours(rng.uniform(2, 24))
    if req is not None and not call.cancelled:
        w.add(service, ("PLN", "ARRI", requested), carrier, pln_at, req)
    agreed = _Agreed(est_at, pln_at, requested)
    if call.cancelled:
        return agreed
    late = call.berth_at - requested > dt.timedelta(hours=3)
    notes = (None, rng.choice(DELAY_REASONS)) if late else (None, None)
    w.add(
        service,
        ("ACT", "ARRI", call.berth_at),
        terminal,
        _acted(now, call.berth_at, rng),
        None,
        notes,
    )
    w.add(service, ("ACT", "DEPA", call.departure), terminal, _acted(now, call.departure, rng))
    return agreed


def _cargo_operations(
    w: _Writer, call: PortCall, service: uuid.UUID, roles: dict[str, str], agreed: _Agreed
) -> None:
    """The terminal plans the crane work from the agreed berth time, then reports actuals."""
    rng, now = w.rng, w.now
    terminal = (roles["TR"], "TR")
    pln_at = agreed.planned_at + hours(rng.uniform(1, 12))
    start = agreed.berth + hours(1.5)
    w.add(service, ("PLN", "STRT", start), terminal, pln_at)
    finish = start + (call.ops_end - call.ops_start)
    w.add(service, ("PLN", "CMPL", finish), terminal, pln_at + dt.timedelta(minutes=1))
    w.add(service, ("ACT", "STRT", call.ops_start), terminal, _acted(now, call.ops_start, rng))
    w.add(service, ("ACT", "CMPL", call.ops_end), terminal, _acted(now, call.ops_end, rng))


def _pilotage(
    w: _Writer, call: PortCall, service: uuid.UUID, roles: dict[str, str], est_at: dt.datetime
) -> None:
    rng, now = w.rng, w.now
    boarding = max(call.arrival, call.berth_at - hours(1.5))
    w.add(service, ("EST", "STRT", call.eta - hours(1.5)), (roles["CA"], "CA"), est_at)
    pilot = (roles["PLT"], "PLT")
    w.add(service, ("ACT", "STRT", boarding), pilot, _acted(now, boarding, rng))
    w.add(service, ("ACT", "CMPL", call.berth_at), pilot, _acted(now, call.berth_at, rng))


def generate(plan: Plan, calls: list[PortCall]) -> Jit:
    rng = plan.rng("jit")
    terminal_calls: list[Row] = []
    services: list[Row] = []
    writer = _Writer(rng, plan.now)
    updated: dict[uuid.UUID, dt.datetime] = {}
    for call in calls:
        terminal_call = ids.new_uuid(rng)
        reference = f"{call.reference}-{call.terminal.smdg_code}"
        terminal_calls.append(
            (
                terminal_call,
                call.id,
                1,
                reference,
                call.unlocode,
                call.terminal.smdg_code,
                call.berth,
            )
        )
        service_ids = {kind: ids.new_uuid(rng) for kind in SERVICES}
        services.extend((service_ids[kind], terminal_call, kind) for kind in SERVICES)
        roles = {
            "CA": call.carrier,
            "TR": call.terminal.org_code,
            "PLT": PORT_AUTHORITY.get(call.unlocode, "POLA"),
        }
        writer.latest = None
        agreed = _berth(writer, call, service_ids["BERTH"], roles)
        if not call.cancelled:
            _cargo_operations(writer, call, service_ids["CARGO_OPERATIONS"], roles, agreed)
        pilot_estimate_at = agreed.estimated_at + dt.timedelta(minutes=2)
        _pilotage(writer, call, service_ids["PILOTAGE"], roles, pilot_estimate_at)
        updated[call.id] = writer.latest or plan.now
    return Jit(
        tables=[
            Table("vessel.terminal_call", TERMINAL_CALL_COLUMNS, terminal_calls),
            Table("vessel.port_call_service", SERVICE_COLUMNS, services),
            Table("vessel.timestamp", TIMESTAMP_COLUMNS, writer.rows),
        ],
        updated=updated,
    )
