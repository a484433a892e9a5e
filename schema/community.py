"""The community: partner organizations, who is asking, and the audit trail."""

from __future__ import annotations

import datetime
import json
from typing import Annotated, Any

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from resolvers.community import OrgRecord, audit_page
from resolvers.principal import OrganizationKind
from schema.context import Info
from schema.inputs import cursor_key, parse_instant, parse_int
from schema.pagination import After, Connection, First, page_request, rows_connection
from schema.permissions import scopes
from schema.scopes import Scope

# The principal's own enum, exposed as it is (strawberry.enum marks the class in place):
# one list of partner kinds.
strawberry.enum(OrganizationKind, description="What a partner organization is to the port.")


@strawberry.federation.type(keys=["code"], description="A partner organization of the port.")
class Organization:
    code: str = strawberry.field(
        description="Organization code: SCAC for carriers and truckers, LOCODE-SMDG for terminals."
    )
    name: str = strawberry.field(description="Legal or trading name.")
    kind: OrganizationKind = strawberry.field(description="What the organization is to the port.")

    @classmethod
    def from_record(cls, record: OrgRecord) -> Organization:
        return cls(code=record.code, name=record.name, kind=record.kind)

    @classmethod
    async def resolve_reference(cls, info: Info, code: str) -> Organization | None:
        record = await info.context.loaders.community.organization_by_code.load(code)
        return None if record is None else cls.from_record(record)


@strawberry.type(description="The caller, as its access token names it.")
class Me:
    subject: str | None = strawberry.field(description="The token's `sub`; null when anonymous.")
    scopes: list[str] = strawberry.field(description="Scopes the token grants, sorted.")
    organization_code: strawberry.Private[str | None]

    @strawberry.field(description="The caller's organization; null when anonymous.")
    async def organization(self, info: Info) -> Organization | None:
        if self.organization_code is None:
            return None
        return await Organization.resolve_reference(info, self.organization_code)


@strawberry.type(description="One audited request: commercial or restricted reads, or denials.")
class AuditEvent:
    occurred_at: datetime.datetime = strawberry.field(description="When the request was served.")
    organization_code: str | None = strawberry.field(
        description="Partner organization; null when anonymous."
    )
    subject: str | None = strawberry.field(description="The token's subject.")
    operation_name: str | None = strawberry.field(description="The GraphQL operation name.")
    fields: list[str] = strawberry.field(description="Protected field coordinates read.")
    rows_counted: int = strawberry.field(description="Protected field values returned.")
    denials: JSON = strawberry.field(description="Denied field coordinates with their counts.")

    @classmethod
    def from_row(cls, row: Any) -> AuditEvent:
        return cls(
            occurred_at=row["occurred_at"],
            organization_code=row["organization_code"],
            subject=row["subject"],
            operation_name=row["operation_name"],
            fields=list(row["fields"]),
            rows_counted=row["rows_counted"],
            denials=json.loads(row["denials"]),
        )


AUDIT_KEY = (parse_instant, parse_int)


def _audit_key(row: Any) -> tuple[Any, ...]:
    return (row["occurred_at"].isoformat(), row["id"])


@strawberry.type
class CommunityQuery:
    @strawberry.field(
        description="Any object by its global id, under the same rules as every other path."
    )
    async def node(
        self,
        info: Info,
        id: Annotated[relay.GlobalID, strawberry.argument(description="A global object id.")],
    ) -> relay.Node | None:
        # The type's own resolve_nodes: its loaders, so its row rule, decide what is found.
        node: relay.Node | None = await id.resolve_node(info, required=False)
        return node

    @strawberry.field(description="Who is asking: organization and scopes of the access token.")
    def me(self, info: Info) -> Me:
        principal = info.context.principal
        return Me(
            subject=principal.subject,
            scopes=sorted(principal.scopes),
            organization_code=principal.organization_code,
        )

    @strawberry.federation.field(
        description="The audit trail, newest first (port authority).",
        requires_scopes=scopes(Scope.AUDIT_READ),
    )
    async def audit_events(
        self, info: Info, first: First = None, after: After = None
    ) -> Connection[AuditEvent] | None:
        request = page_request(first, after, len(AUDIT_KEY), info.context.max_page_size)
        cursor = cursor_key(request.after, AUDIT_KEY)
        rows = await audit_page(info.context.pools["community"], request.size, cursor)
        return rows_connection(rows, request, _audit_key, AuditEvent.from_row)


queries: list[type] = [CommunityQuery]
types: list[type] = [Organization]
