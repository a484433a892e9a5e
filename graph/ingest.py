"""`harborgraph ingest FILE|-`: load DCSA events from a JSON array or NDJSON, as an organization.

Events go through the code the API uses (resolvers.cargo_writes), in batches of 1,000, each
stored whole or not at all, under the organization's write rules; the report gives each
batch's accepted, duplicate and rejected counts and every rejection's reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO

from graph.database import close_pools, open_pools
from graph.settings import Settings
from resolvers.cargo_writes import ItemOutcome, Publication, publish_events
from resolvers.community import AuditRecord, insert_audit_events, organization_by_code
from resolvers.dcsa import MAX_EVENTS
from resolvers.principal import Principal
from resolvers.sources import SourcePools
from resolvers.writes import Outcome
from schema.scopes import Scope, effective_scopes

OPERATION = "harborgraph ingest"


class IngestError(ValueError):
    """The input cannot be read as DCSA events; the message says where."""


def read_items(stream: IO[str]) -> list[object]:
    """A JSON array of events, or one JSON event per line (NDJSON)."""
    text = stream.read()
    if text.lstrip().startswith("["):
        try:
            items = json.loads(text)
        except ValueError as error:
            raise IngestError(f"the JSON array does not parse: {error}") from None
        if not isinstance(items, list):
            raise IngestError("expected a JSON array of events")
        return items
    return list(ndjson(text))


def ndjson(text: str) -> Iterator[object]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield json.loads(line)
        except ValueError:
            raise IngestError(f"line {number} is not JSON") from None


@dataclass(slots=True)
class Report:
    lines: list[str] = field(default_factory=list)
    totals: dict[Outcome, int] = field(default_factory=lambda: dict.fromkeys(Outcome, 0))
    batches_not_stored: int = 0

    def add(self, first: int, publication: Publication) -> None:
        self.batches_not_stored += not publication.stored
        for item in publication.items:
            self.totals[item.outcome] += 1
        stored = "stored" if publication.stored else "NOT stored"
        last = first + len(publication.items) - 1
        self.lines.append(
            f"events {first}-{last}: {stored}: {publication.count(Outcome.ACCEPTED)} accepted, "
            f"{publication.count(Outcome.DUPLICATE)} duplicate, "
            f"{publication.count(Outcome.REJECTED)} rejected"
        )
        self.lines += [rejection(first, i) for i in publication.items if i.code is not None]

    def summary(self) -> str:
        t = self.totals
        return (
            f"accepted {t[Outcome.ACCEPTED]}, duplicate {t[Outcome.DUPLICATE]}, "
            f"rejected {t[Outcome.REJECTED]}, not stored {t[Outcome.NOT_STORED]}"
        )


def rejection(first: int, item: ItemOutcome) -> str:
    code = item.code.value if item.code else ""
    return f"  event {first + item.index} ({item.event_id}): {code} {item.field}: {item.reason}"


def batches(items: list[object]) -> Iterator[tuple[int, list[object]]]:
    for first in range(0, len(items), MAX_EVENTS):
        yield first, items[first : first + MAX_EVENTS]


async def publisher(pools: SourcePools, code: str) -> Principal:
    organization = await organization_by_code(pools["community"], code)
    if organization is None:
        raise IngestError(f"organization {code!r} is not known (see community.organization)")
    return Principal(
        subject=OPERATION,
        organization_code=organization.code,
        kind=organization.kind,
        scopes=effective_scopes(organization.kind, frozenset({Scope.EVENTS_WRITE.value})),
        scac=organization.scac,
        terminal_unlocode=organization.terminal_unlocode,
        terminal_smdg_code=organization.terminal_smdg_code,
    )


async def ingest(
    settings: Settings, dsns: Mapping[str, str], organization: str, items: list[object]
) -> Report:
    pools = await open_pools(dsns, settings)
    records: list[AuditRecord] = []
    report = Report()
    try:
        who = await publisher(pools, organization)
        for first, batch in batches(items):
            publication = await publish_events(
                pools, who, batch, operation=OPERATION, audit=records.append
            )
            report.add(first, publication)
            if records:  # each batch's audit row before the next batch is sent
                await insert_audit_events(pools["community"], records)
                records.clear()
    finally:
        await close_pools(pools)
    return report
