"""The committed SDL is the schema: a change to one without the other fails here."""

from __future__ import annotations

from pathlib import Path

from graphql import parse
from graphql.language import (
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    ObjectTypeDefinitionNode,
)

from schema import print_sdl

COMMITTED = Path(__file__).resolve().parents[2] / "schema" / "schema.graphql"
DESCRIBED = (
    ObjectTypeDefinitionNode,
    InterfaceTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    EnumTypeDefinitionNode,
)
FEDERATION_OWN = {"_Service", "Query._entities", "Query._service"}


def test_committed_sdl_is_current() -> None:
    assert COMMITTED.read_text() == print_sdl(), (
        "schema/schema.graphql is stale: run `.venv/bin/harborgraph schema > schema/schema.graphql`"
    )


def _undocumented() -> list[str]:
    missing: list[str] = []
    for node in parse(print_sdl()).definitions:
        if not isinstance(node, DESCRIBED) or node.name.value in FEDERATION_OWN:
            continue
        if node.description is None and node.name.value not in (
            "Query",
            "Mutation",
            "Subscription",
        ):
            missing.append(node.name.value)
        for member in getattr(node, "fields", None) or getattr(node, "values", None) or ():
            coordinate = f"{node.name.value}.{member.name.value}"
            if coordinate in FEDERATION_OWN or isinstance(node, EnumTypeDefinitionNode):
                continue
            if member.description is None:
                missing.append(coordinate)
            missing += [
                f"{coordinate}({arg.name.value}:)"
                for arg in getattr(member, "arguments", None) or ()
                if arg.description is None
            ]
    return missing


def test_every_type_field_and_argument_is_described() -> None:
    assert _undocumented() == []
