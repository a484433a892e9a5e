"""Bills of lading: references in each carrier's style, commodity, route, parties, events."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from resolvers.seed import catalog, geography, parties
from resolvers.seed.catalog import Commodity, IsoType
from resolvers.seed.events import EventWriter
from resolvers.seed.plan import Plan, hours
from resolvers.seed.schedule import PortCall
from resolvers.seed.tables import Row

SHIPMENT_COLUMNS = (
    "transport_document_reference", "carrier_booking_reference", "carrier_scac", "direction",
    "commodity", "hs_code", "place_of_receipt", "port_of_loading", "port_of_discharge",
    "place_of_delivery", "created_at",
)  # fmt: skip
PARTY_COLUMNS = (
    "transport_document_reference",
    "party_function",
    "party_name",
    "organization_code",
)
CARGO_OWNER_SHARE = 0.25
RAIL_SHARE = {"IMPORT": 0.28, "EXPORT": 0.2}


@dataclass(frozen=True, slots=True)
class Shipment:
    document: str
    booking: str
    carrier: str
    direction: str
    commodity: Commodity
    iso: IsoType
    place: str  # delivery for imports, receipt for exports
    by_rail: bool


def _weighted_iso(rng: random.Random, family: str) -> IsoType:
    options = [t for t in catalog.ISO_TYPES if t.family == family]
    return rng.choices(options, weights=[t.weight for t in options])[0]


def _commodity(rng: random.Random, direction: str) -> Commodity:
    pool = catalog.IMPORTS if direction == "IMPORT" else catalog.EXPORTS
    draw = rng.random()
    if draw < 0.04:
        chosen = [c for c in pool if c.un_number is not None or c.family == catalog.TANK]
    elif draw < 0.13:
        chosen = [c for c in pool if c.family == catalog.REEFER]
    else:
        chosen = [c for c in pool if c.family == catalog.DRY and c.un_number is None]
    return rng.choice(chosen)


class ShipmentBook:
    """Creates shipments with their party and event rows."""

    def __init__(
        self,
        plan: Plan,
        rng: random.Random,
        events: EventWriter,
        cargo_owners: tuple[tuple[str, str], ...],
    ) -> None:
        self.rng = rng
        self.now = plan.now
        self.events = events
        self.cargo_owners = cargo_owners
        self.shippers_abroad = parties.shippers_abroad(rng)
        self.us_companies = parties.us_companies(rng)
        self.buyers_abroad = parties.buyers_abroad(rng)
        self.rows: list[Row] = []
        self.party_rows: list[Row] = []
        self._taken: set[str] = set()

    def _unique(self, make: str) -> str:
        while True:
            value = make.format(self.rng.randrange(10_000_000, 100_000_000))
            if value not in self._taken:
                self._taken.add(value)
                return value

    def _references(self, carrier: str, origin: str) -> tuple[str, str]:
        """Maersk uses one 9-digit number for both; others a SCAC-and-place B/L number."""
        if carrier == "MAEU":
            number = self._unique("2{}")
            return number, number
        document = self._unique(f"{carrier}{origin[2:]}{{}}")
        return document, self._unique("{}" + str(self.rng.randint(10, 99)))

    def _us_party(self) -> tuple[str, str | None]:
        if self.rng.random() < CARGO_OWNER_SHARE:
            code, name = self.rng.choice(self.cargo_owners)
            return name, code
        return self.rng.choice(self.us_companies), None

    def new(self, call: PortCall, carrier: str, direction: str) -> Shipment:
        rng = self.rng
        commodity = _commodity(rng, direction)
        by_rail = rng.random() < RAIL_SHARE[direction]
        service = call.vessel.service
        places: tuple[str, ...]
        if direction == "IMPORT":
            places = geography.RAIL_DELIVERY if by_rail else geography.LOCAL_DELIVERY
            place, foreign = rng.choice(places), rng.choice(service.origins)
            route = (foreign, foreign, call.unlocode, place)
        else:
            places = geography.RAIL_RECEIPT if by_rail else geography.LOCAL_RECEIPT
            place, foreign = rng.choice(places), rng.choice(service.destinations)
            route = (place, call.unlocode, foreign, foreign)
        document, booking = self._references(carrier, route[1])
        shipment = Shipment(
            document,
            booking,
            carrier,
            direction,
            commodity,
            _weighted_iso(rng, commodity.family),
            place,
            by_rail,
        )
        booked = self._book(call, shipment)
        self.rows.append(
            (
                document,
                booking,
                carrier,
                direction,
                commodity.name,
                commodity.hs_code,
                *route,
                booked,
            )
        )
        self._parties(shipment)
        return shipment

    def _parties(self, s: Shipment) -> None:
        rng = self.rng
        if s.direction == "IMPORT":
            shipper: tuple[str, str | None] = (rng.choice(self.shippers_abroad), None)
            consignee = self._us_party()
            notify: tuple[str, str | None] = (rng.choice(parties.notify_parties()), None)
        else:
            shipper = self._us_party()
            consignee = (rng.choice(self.buyers_abroad), None)
            notify = (rng.choice(self.buyers_abroad), None)
        for function, (name, code) in (("OS", shipper), ("CN", consignee), ("N1", notify)):
            self.party_rows.append((s.document, function, name, code))

    def _book(self, call: PortCall, s: Shipment) -> dt.datetime:
        """Booking confirmed, instructions received, B/L drafted, approved and issued.

        Returns the booking time.
        """
        rng, now = self.rng, self.now
        if s.direction == "IMPORT":
            booked = call.eta - hours(rng.uniform(35, 50) * 24)
            received = booked + hours(rng.uniform(5, 12) * 24)
            sailed = call.eta - hours(rng.uniform(14, 20) * 24)
        else:
            booked = min(
                call.eta - hours(rng.uniform(14, 28) * 24), now - hours(rng.uniform(1, 72))
            )
            received = max(booked + hours(6), call.eta - hours(rng.uniform(3, 7) * 24))
            sailed = call.departure + hours(rng.uniform(2, 30))
        drafted = received + hours(rng.uniform(6, 36))
        approved = drafted + hours(rng.uniform(2, 24))
        issued = max(sailed, approved + hours(rng.uniform(1, 12)))
        milestones = (
            ("CONF", booked),
            ("RECE", received),
            ("DRFT", drafted),
            ("APPR", approved),
            ("ISSU", issued),
        )
        for code, at in milestones:
            self.events.shipment(code, at, s.document, s.booking, s.carrier)
        return booked
