"""Production hardening in the schema: no introspection, no field suggestions, limits cached."""

from __future__ import annotations

from resolvers.principal import ANONYMOUS
from resolvers.sources import SourcePools
from schema import build_schema, schema
from schema.context import new_context
from tests.helpers import no_writes


async def test_production_refuses_introspection(seeded_pools: SourcePools) -> None:
    production = build_schema(development=False)
    context = new_context(
        ANONYMOUS, seeded_pools, max_page_size=100, port_locode="USLAX", audit=no_writes
    )
    result = await production.execute("{ __schema { types { name } } }", context_value=context)
    assert result.data is None
    assert [e.message for e in result.errors or []] == [
        "GraphQL introspection has been disabled, but the requested query contained the field "
        "'__schema'.",
        "GraphQL introspection has been disabled, but the requested query contained the field "
        "'types'.",
    ]


async def test_development_allows_introspection(seeded_pools: SourcePools) -> None:
    context = new_context(
        ANONYMOUS, seeded_pools, max_page_size=100, port_locode="USLAX", audit=no_writes
    )
    result = await schema(True).execute(
        '{ __type(name: "Vessel") { name } }', context_value=context
    )
    assert result.errors is None
    assert result.data == {"__type": {"name": "Vessel"}}


async def test_production_gives_no_field_suggestions(seeded_pools: SourcePools) -> None:
    production = build_schema(development=False)
    context = new_context(
        ANONYMOUS, seeded_pools, max_page_size=100, port_locode="USLAX", audit=no_writes
    )
    result = await production.execute('{ vessel(imo: "9321483") { nme } }', context_value=context)
    assert [e.message for e in result.errors or []] == [
        "Cannot query field 'nme' on type 'Vessel'."
    ]
    development = await schema(True).execute(
        '{ vessel(imo: "9321483") { nme } }', context_value=context
    )
    assert [e.message for e in development.errors or []] == [
        "Cannot query field 'nme' on type 'Vessel'. Did you mean 'name' or 'imo'?"
    ]
