"""DCSA Track & Trace 2.2 event rows: what happened by the anchor (ACT), what is announced."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass

from resolvers.seed import ids
from resolvers.seed.lifecycle import Step
from resolvers.seed.plan import hours
from resolvers.seed.tables import Row

EVENT_COLUMNS = (
    "event_id", "event_type", "event_classifier_code", "event_datetime", "event_created_datetime",
    "equipment_event_type_code", "transport_event_type_code", "shipment_event_type_code",
    "document_type_code", "equipment_reference", "iso_equipment_code", "empty_indicator_code",
    "transport_document_reference", "carrier_booking_reference", "carrier_scac", "port_call_id",
    "vessel_imo", "mode_of_transport", "unlocode", "facility_smdg_code", "publisher_code",
    "retracted_at",
)  # fmt: skip
# Vessel steps are announced ahead (transport EST, equipment PLN); the rest only when done.
ANNOUNCED = {"ARRI": "EST", "DEPA": "EST", "DISC": "PLN", "LOAD": "PLN"}
RETRACTED_SHARE = 0.003
# Booking confirmed; shipping instructions received; B/L drafted, approved, issued.
DOCUMENT_TYPES = {"CONF": "BKG", "RECE": "SHI", "DRFT": "TRD", "APPR": "TRD", "ISSU": "TRD"}


def event_row(**values: object) -> Row:
    """A row in EVENT_COLUMNS order from named values; the others are NULL."""
    unknown = values.keys() - set(EVENT_COLUMNS)
    if unknown:
        raise ValueError(f"not event columns: {sorted(unknown)}")
    return tuple(values.get(column) for column in EVENT_COLUMNS)


@dataclass(frozen=True, slots=True)
class Subject:
    """What every event of one container visit says about the box and its trip."""

    equipment_reference: str
    iso_code: str
    document: str | None
    booking: str | None
    carrier: str
    port_call_id: uuid.UUID
    vessel_imo: str


class EventWriter:
    """Appends event rows; `latest` is the newest creation time written for the current visit."""

    def __init__(self, rng: random.Random, now: dt.datetime) -> None:
        self.rng = rng
        self.now = now
        self.rows: list[Row] = []
        self.latest: dt.datetime | None = None

    def _created(self, at: dt.datetime) -> dt.datetime:
        created = min(at + dt.timedelta(seconds=self.rng.randint(30, 1_500)), self.now)
        if self.latest is None or created > self.latest:
            self.latest = created
        return created

    def _announced(self) -> dt.datetime:
        created = self.now - hours(self.rng.uniform(0.5, 36))
        if self.latest is None or created > self.latest:
            self.latest = created
        return created

    def visit(self, subject: Subject, steps: list[Step]) -> list[Step]:
        """Write the events of one visit; return the steps that happened by the anchor."""
        self.latest = None
        done: list[Step] = []
        for step in steps:
            if step.at <= self.now:
                done.append(step)
                self._step(subject, step, "ACT", self._created(step.at))
                if step.code == "DISC" and self.rng.random() < RETRACTED_SHARE:
                    self._retracted(subject, step)
            elif step.code in ANNOUNCED:
                self._step(subject, step, ANNOUNCED[step.code], self._announced())
        return done

    def _retracted(self, subject: Subject, step: Step) -> None:
        """A discharge first reported at the wrong time, then retracted by its publisher."""
        wrong = step.at - dt.timedelta(minutes=self.rng.randint(5, 30))
        created = wrong + dt.timedelta(minutes=2)
        retracted = created + dt.timedelta(minutes=self.rng.randint(10, 60))
        if retracted <= self.now:
            self._step(subject, step, "ACT", created, wrong, retracted)

    def _step(
        self,
        s: Subject,
        step: Step,
        classifier: str,
        created: dt.datetime,
        at: dt.datetime | None = None,
        retracted: dt.datetime | None = None,
    ) -> None:
        transport = step.transport
        self.rows.append(
            (
                ids.new_uuid(self.rng),
                "TRANSPORT" if transport else "EQUIPMENT",
                classifier,
                at or step.at,
                created,
                None if transport else step.code,
                step.code if transport else None,
                None,
                None,
                s.equipment_reference,
                s.iso_code,
                "LADEN" if step.laden else "EMPTY",
                s.document,
                s.booking,
                s.carrier,
                s.port_call_id,
                s.vessel_imo if step.mode == "VESSEL" else None,
                step.mode,
                step.unlocode,
                step.smdg_code,
                step.publisher,
                retracted,
            )
        )

    def vessel(self, call_id: uuid.UUID, imo: str, carrier: str, step: Step) -> None:
        """A vessel arrival or departure for the call itself, with no container."""
        if step.at <= self.now:
            classifier, created = "ACT", self._created(step.at)
        else:
            classifier, created = "EST", self._announced()
        self.rows.append(
            event_row(
                event_id=ids.new_uuid(self.rng),
                event_type="TRANSPORT",
                event_classifier_code=classifier,
                event_datetime=step.at,
                event_created_datetime=created,
                transport_event_type_code=step.code,
                carrier_scac=carrier,
                port_call_id=call_id,
                vessel_imo=imo,
                mode_of_transport="VESSEL",
                unlocode=step.unlocode,
                facility_smdg_code=step.smdg_code,
                publisher_code=carrier,
            )
        )

    def shipment(
        self, code: str, at: dt.datetime, document: str, booking: str, carrier: str
    ) -> None:
        """A shipment event (booking confirmed, instructions received, B/L issued) if done."""
        if at > self.now:
            return
        self.rows.append(
            event_row(
                event_id=ids.new_uuid(self.rng),
                event_type="SHIPMENT",
                event_classifier_code="ACT",
                event_datetime=at,
                event_created_datetime=self._created(at),
                shipment_event_type_code=code,
                document_type_code=DOCUMENT_TYPES[code],
                transport_document_reference=document,
                carrier_booking_reference=booking,
                carrier_scac=carrier,
                publisher_code=carrier,
            )
        )
