"""Checks on `_entities` representations before any entity is looked up.

A gateway sends `{__typename, <key fields>, ...}`; anything else (an unknown type, a missing
or non-string key, a NUL byte) is refused at its own index with BAD_USER_INPUT while the other
representations resolve. Fields beyond the key (sent for `@requires`) are dropped here, so a
`resolve_reference` only ever receives its key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLUnionType,
    default_field_resolver,
)
from strawberry.federation.schema_directives import Key

from schema.cost import MAX_OBJECTS, PageCost, over_budget
from schema.inputs import BAD_USER_INPUT

MAX_KEY_LENGTH = 128
MAX_REPRESENTATIONS = 1_000
KeySets = Mapping[str, list[tuple[str, ...]]]


def entity_keys(schema: GraphQLSchema) -> dict[str, list[tuple[str, ...]]]:
    """Each entity type's key field sets, read off its `@key` declarations."""
    keys: dict[str, list[tuple[str, ...]]] = {}
    for type_ in schema.type_map.values():
        definition = (type_.extensions or {}).get("strawberry-definition")
        if not isinstance(type_, GraphQLObjectType) or definition is None:
            continue
        sets = [tuple(str(d.fields).split()) for d in definition.directives if isinstance(d, Key)]
        if sets:
            keys[type_.name] = sets
    return keys


def _refusal(index: int, message: str) -> GraphQLError:
    return GraphQLError(
        f"`representations[{index}]`: {message}",
        extensions={"code": BAD_USER_INPUT, "argument": f"representations[{index}]"},
    )


def _usable(value: object) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_KEY_LENGTH and value.isprintable()


def keyed(index: int, representation: object, keys: KeySets) -> dict[str, Any] | GraphQLError:
    if not isinstance(representation, dict):
        return _refusal(index, "must be an object")
    type_name = representation.get("__typename")
    if not isinstance(type_name, str) or type_name not in keys:
        return _refusal(index, "`__typename` names no entity of this subgraph")
    for fields in keys[type_name]:
        if all(_usable(representation.get(field)) for field in fields):
            return {"__typename": type_name, **{f: representation[f] for f in fields}}
    wanted = " or ".join(" ".join(fields) for fields in keys[type_name])
    return _refusal(index, f"{type_name} needs its key as text: {wanted}")


def _within_budget(info: GraphQLResolveInfo[Any], count: int) -> None:
    """The page budget, now that the number of representations is known."""
    if count > MAX_REPRESENTATIONS:
        raise GraphQLError(
            f"`representations`: at most {MAX_REPRESENTATIONS} a request, got {count}",
            extensions={"code": BAD_USER_INPUT, "argument": "representations"},
        )
    selections = info.field_nodes[0].selection_set
    entity = info.schema.get_type("_Entity")
    if selections is None or not isinstance(entity, GraphQLUnionType):
        return
    cost = count * PageCost(info.schema, info.fragments).cost(selections, entity)
    if cost > MAX_OBJECTS:
        raise over_budget(cost)


def install_entity_checks(schema: GraphQLSchema) -> None:
    query = schema.query_type
    assert query is not None
    field = query.fields["_entities"]
    resolve = field.resolve or default_field_resolver
    keys = entity_keys(schema)

    def checked(source: Any, info: Any, representations: list[Any]) -> Any:
        _within_budget(info, len(representations))
        prepared = [keyed(i, r, keys) for i, r in enumerate(representations)]
        valid = [p for p in prepared if isinstance(p, dict)]
        found = iter(resolve(source, info, representations=valid) if valid else [])
        return [p if isinstance(p, GraphQLError) else next(found) for p in prepared]

    field.resolve = checked
