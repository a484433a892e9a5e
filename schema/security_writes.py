"""The CSOC's writes: `publishAdvisory` and `updateIncident` (resolvers.security_writes)."""

from __future__ import annotations

import datetime
from typing import Annotated

import asyncpg
import strawberry

from resolvers.security_writes import (
    advisory,
    incident_update,
    publish_in,
    update_in,
    write_security,
)
from resolvers.writes import Invalid, Written, invalid
from schema.context import Info
from schema.permissions import scopes
from schema.publishing import busy
from schema.scopes import Scope
from schema.security import (
    Advisory,
    Incident,
    IncidentCategory,
    IncidentStatus,
    IndicatorType,
    SecuritySeverity,
    TlpMarking,
)
from schema.vessel import TerminalKeyInput
from schema.writes import WriteStatus, status, terminal_key

SECURITY_WRITE = scopes(Scope.SECURITY_WRITE)


@strawberry.input(description="An indicator of compromise.")
class IndicatorInput:
    type: IndicatorType = strawberry.field(description="What kind of indicator.")
    value: str = strawberry.field(description="The indicator (an address, a hash, a domain...).")


@strawberry.input(description="A community early-warning advisory (the CSOC's).")
class PublishAdvisoryInput:
    reference: str = strawberry.field(
        description="Your reference (4 to 35 capitals, digits or -): publishing is idempotent by it."
    )
    title: str = strawberry.field(description="Title (at most 200 characters).")
    summary: str = strawberry.field(description="What is going on and what to do.")
    severity: SecuritySeverity = strawberry.field(description="Severity.")
    tlp: TlpMarking = strawberry.field(
        description="Traffic Light Protocol marking: who may read it (required)."
    )
    affected_systems: list[str] = strawberry.field(
        default_factory=list, description="Systems affected (at most 50)."
    )
    facilities: list[TerminalKeyInput] = strawberry.field(
        default_factory=list, description="Terminals concerned (at most 50)."
    )
    indicators: list[IndicatorInput] = strawberry.field(
        default_factory=list, description="Indicators of compromise (at most 200)."
    )
    expires_at: datetime.datetime | None = strawberry.field(
        default=None, description="When it stops applying."
    )


@strawberry.input(description="An incident to open, or to update by its reference.")
class UpdateIncidentInput:
    reference: str = strawberry.field(description="Your reference of the incident.")
    category: IncidentCategory | None = strawberry.field(
        default=None, description="What kind of incident (required to open one)."
    )
    severity: SecuritySeverity | None = strawberry.field(
        default=None, description="Severity (required to open one)."
    )
    status: IncidentStatus | None = strawberry.field(
        default=None, description="Where its handling stands (OPEN when opened)."
    )
    summary: str | None = strawberry.field(
        default=None, description="What happened (required to open one)."
    )
    terminal: TerminalKeyInput | None = strawberry.field(
        default=None, description="The terminal affected."
    )
    detected_at: datetime.datetime | None = strawberry.field(
        default=None, description="When it was detected (required to open one)."
    )


@strawberry.type(description="What an advisory write did.")
class AdvisoryPayload(WriteStatus):
    advisory: Advisory | None = strawberry.field(description="The advisory as stored.")

    @classmethod
    def of(cls, done: Written) -> AdvisoryPayload:
        return cls(
            **status(done), advisory=None if done.row is None else Advisory.from_row(done.row)
        )


@strawberry.type(description="What an incident write did.")
class IncidentPayload(WriteStatus):
    incident: Incident | None = strawberry.field(description="The incident as stored.")

    @classmethod
    def of(cls, done: Written) -> IncidentPayload:
        return cls(
            **status(done), incident=None if done.row is None else Incident.from_row(done.row)
        )


@strawberry.type
class SecurityMutation:
    @strawberry.federation.mutation(
        description="Publish a community early-warning advisory (the CSOC): a TLP marking is "
        "required; the same reference again with the same content is a DUPLICATE. Needs "
        "`security:write`.",
        requires_scopes=SECURITY_WRITE,
    )
    async def publish_advisory(
        self,
        info: Info,
        input: Annotated[PublishAdvisoryInput, strawberry.argument(description="The advisory.")],
    ) -> AdvisoryPayload | None:
        context = info.context
        try:
            draft = advisory(
                input.reference,
                input.title,
                input.summary,
                input.severity.name,
                input.tlp.name,
                (
                    list(input.affected_systems),
                    [
                        terminal_key(info, f, f"facilities[{i}]")
                        for i, f in enumerate(input.facilities)
                    ],
                    [(i.type.name, i.value) for i in input.indicators],
                ),
                input.expires_at,
                datetime.datetime.now(datetime.UTC),
            )
            done = await write_security(
                context.pools,
                context.principal,
                "publishAdvisory",
                draft.reference,
                lambda connection, by: publish_in(connection, draft, by),
                operation=context.operation_name or "publishAdvisory",
                audit=context.audit,
            )
        except Invalid as error:
            return AdvisoryPayload.of(invalid(error))
        except asyncpg.QueryCanceledError:
            raise busy() from None
        return AdvisoryPayload.of(done)

    @strawberry.federation.mutation(
        description="Open an incident, or update one by its reference (the CSOC); resolving "
        "or closing it records when. Needs `security:write`.",
        requires_scopes=SECURITY_WRITE,
    )
    async def update_incident(
        self,
        info: Info,
        input: Annotated[UpdateIncidentInput, strawberry.argument(description="The incident.")],
    ) -> IncidentPayload | None:
        context = info.context
        try:
            update = incident_update(
                input.reference,
                None if input.category is None else input.category.name,
                None if input.severity is None else input.severity.name,
                None if input.status is None else input.status.name,
                input.summary,
                None if input.terminal is None else terminal_key(info, input.terminal, "terminal"),
                input.detected_at,
                datetime.datetime.now(datetime.UTC),
            )
            done = await write_security(
                context.pools,
                context.principal,
                "updateIncident",
                update.reference,
                lambda connection, by: update_in(connection, update, by),
                operation=context.operation_name or "updateIncident",
                audit=context.audit,
            )
        except Invalid as error:
            return IncidentPayload.of(invalid(error))
        except asyncpg.QueryCanceledError:
            raise busy() from None
        return IncidentPayload.of(done)


mutations: list[type] = [SecurityMutation]
types: list[type] = []
