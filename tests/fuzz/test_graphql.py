"""Fuzzing the GraphQL API from the committed schema (issue 14): every root field of `Query`
(the federation fields `_entities` and `_service` too) and of `Mutation`, as a carrier with a
carrier's grants, against the production-mode app on its own copy of the seeded database.

Schemathesis (hypothesis-graphql) writes documents that select each root field with arguments
of the schema's types (positive cases) and documents the schema refuses (negative cases); each
answer must be no 5xx, a well-formed GraphQL response whose `data` conforms to the schema, with
only documented error codes, and no stack trace or other internals (tests/fuzz/checks.py).
Part of the arguments come from dictionaries (tests/fuzz/values.py: the carrier's own boxes,
port calls and documents, the standards' codes), so those requests reach the resolvers and the
publishing code past identifier validation. The budget is fixed and the generation
deterministic (a fixed seed, no example database), so a run is reproducible.
"""

from __future__ import annotations

import datetime
from typing import Any

import graphql
import hypothesis.strategies as st
import schemathesis
from schemathesis import Case
from schemathesis.checks import response_schema_conformance

from tests.fuzz.checks import (
    GRAPHQL_RESPONSE,
    committed_sdl,
    graphql_data_conforms,
    graphql_errors_expected,
    graphql_names_hidden,
    graphql_response_shape,
    no_internals_leaked,
    no_server_error,
)
from tests.fuzz.conftest import Target
from tests.fuzz.values import GRAPHQL_BINDINGS, dictionaries_config, known_values

SEED = 14
EXAMPLES = 25  # per root field (30 of them): the module in about 30 s on two cores
DICTIONARY_PROBABILITY = 0.5
CONFIG: dict[str, Any] = {
    "seed": SEED,
    "base-url": "http://testserver/graphql",
    "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
    "generation": {
        "mode": "all",
        "max-examples": EXAMPLES,
        "deterministic": True,
        "database": "none",
    },
    "phases": {"examples": {"enabled": False}, "stateful": {"enabled": False}},
}
# Federation entity keys (schema/schema.graphql's @key directives).
ENTITY_KEYS = {
    "Vessel": ("imo",),
    "Container": ("number",),
    "PortCall": ("id",),
    "Port": ("unlocode",),
    "Terminal": ("unlocode", "smdgCode"),
    "Shipment": ("transportDocumentReference",),
    "Organization": ("code",),
}


# Which dictionary of tests/fuzz/values.py holds real values of a key field.
KEY_VALUES = {
    "imo": "imos",
    "number": "containers",
    "id": "port_calls",
    "unlocode": "unlocodes",
    "smdgCode": "terminals",
    "transportDocumentReference": "documents",
}


def _value_nodes(key: str) -> st.SearchStrategy[graphql.ValueNode]:
    known = known_values().get(KEY_VALUES.get(key, ""), [])
    strings = st.text(max_size=40) | st.sampled_from(known) if known else st.text(max_size=40)
    text = strings.map(lambda s: graphql.StringValueNode(value=s))
    ints = st.integers(-(2**40), 2**40).map(lambda i: graphql.IntValueNode(value=str(i)))
    return st.one_of(text, text, ints, st.just(graphql.NullValueNode()))


@st.composite
def representations(draw: st.DrawFn) -> graphql.ValueNode:
    """An `_Any` for `_entities`: mostly an entity type with its key fields, sometimes not."""
    typename = draw(st.sampled_from([*ENTITY_KEYS, "Query", "Advisory"]) | st.text(max_size=20))
    keys = ENTITY_KEYS.get(typename, ("id",))
    fields: list[tuple[str, graphql.ValueNode]] = [
        ("__typename", graphql.StringValueNode(value=typename))
    ]
    fields += [(key, draw(_value_nodes(key))) for key in keys if draw(st.integers(0, 9))]
    nodes = [
        graphql.ObjectFieldNode(name=graphql.NameNode(value=k), value=v)
        for k, v in draw(st.permutations(fields))
    ]
    return graphql.ObjectValueNode(fields=tuple(nodes))


def instants() -> st.SearchStrategy[graphql.ValueNode]:
    """`DateTime`s with any offset (schemathesis's own are UTC only), years 1 to 9999: some lie
    outside UTC's range once converted."""
    minutes = st.integers(-(24 * 60 - 1), 24 * 60 - 1)
    offsets = minutes.map(lambda m: datetime.timezone(datetime.timedelta(minutes=m)))
    return st.datetimes(timezones=offsets).map(
        lambda d: graphql.StringValueNode(value=d.isoformat())
    )


schemathesis.graphql.scalar("_Any", representations())
schemathesis.graphql.scalar("DateTime", instants())


schema = schemathesis.graphql.from_file(
    committed_sdl(),
    config=schemathesis.Config.from_dict(
        {**CONFIG, **dictionaries_config(known_values(), GRAPHQL_BINDINGS, DICTIONARY_PROBABILITY)}
    ),
).include(name_regex=r"^(Query|Mutation)\.")  # `_entities` and `_service` too: asked by name

CHECKS = [
    no_server_error,
    response_schema_conformance,
    no_internals_leaked,
    graphql_response_shape,
    graphql_errors_expected,
    graphql_data_conforms,
    graphql_names_hidden,
]


@schema.parametrize()
def test_graphql(case: Case[Any], fuzz_target: Target) -> None:
    headers = {**fuzz_target.headers, "Accept": GRAPHQL_RESPONSE}
    case.call_and_validate(app=fuzz_target.app, headers=headers, checks=CHECKS)
