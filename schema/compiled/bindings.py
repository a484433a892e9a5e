"""A request's arguments for a plan's slots, validated by the same functions as the resolvers.

A refused argument raises the resolvers' own GraphQLError; the executor then runs the whole
operation on the resolver path, which reports it at each of its paths.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from graphql import GraphQLError
from graphql.execution.values import VariableValues, get_argument_values
from strawberry.types.arguments import convert_arguments

from resolvers import identifiers
from resolvers.cargo import container_statement, event_statement
from resolvers.compiled.plan import Binding, EntitiesBinding, KeyBinding, PageBinding
from resolvers.gate import appointment_statement, transaction_statement
from resolvers.paging import Statement
from resolvers.vessel import port_call_statement, vessel_statement
from schema.cargo import containers_arguments, document_reference
from schema.compiled.planner import Slot, Unsupported
from schema.context import Info
from schema.cost import MAX_OBJECTS
from schema.entities import MAX_REPRESENTATIONS, keyed
from schema.events import EVENT_KEY, event_cursor, events_arguments
from schema.gate import appointments_arguments, transactions_arguments
from schema.inputs import identifier
from schema.pagination import PageRequest, page_request
from schema.vessel import (
    CONTAINER_KEY,
    PORT_CALL_KEY,
    container_cursor,
    port_call_argument,
    port_call_cursor,
    port_call_uuid,
    port_calls_arguments,
    valid_imo,
    vessels_arguments,
)


def root_page(
    arguments: Callable[..., tuple[Any, PageRequest, Any]],
    statement: Callable[[Any, int, Any], Statement],
) -> Callable[..., Binding]:
    """A root list's binding: its arguments validated as its resolver validates them, and the
    loaders' own page statement for them (the cursor is in its filters)."""

    def bind(info: Info, **given: Any) -> Binding:
        where, request, cursor = arguments(info, **given)
        rows = statement(where, request.size, cursor)
        return PageBinding(request.size, None, request.after is not None, rows)

    return bind


def shipment(info: Info, transport_document_reference: str) -> Binding:
    argument = "transportDocumentReference"
    return KeyBinding(document_reference(transport_document_reference, argument))


def port(info: Info, unlocode: str) -> Binding:
    return KeyBinding(identifier(identifiers.unlocode, unlocode, "unlocode"))


def port_call(info: Info, id: str) -> Binding:
    return KeyBinding(port_call_argument(id))


def vessel(info: Info, imo: str) -> Binding:
    return KeyBinding(valid_imo(info, imo, "imo"))


def container(info: Info, number: str) -> Binding:
    return KeyBinding(identifier(identifiers.container_number, number, "number"))


def entities(slot: Slot, representations: list[Any]) -> Binding:
    """Each representation checked as the resolver path checks it; its type and hex key."""
    count = len(representations)
    if count > MAX_REPRESENTATIONS or count * slot.cost > MAX_OBJECTS:
        raise Unsupported("refused argument")  # the resolver path names the limit
    items: list[tuple[str, str] | None] = []
    for index, representation in enumerate(representations):
        assert slot.keys is not None
        found = keyed(index, representation, slot.keys)
        if isinstance(found, GraphQLError):
            raise Unsupported("refused argument")
        if found["__typename"] not in slot.types:
            raise Unsupported(f"_entities of type {found['__typename']}")
        items.append(entity_key(found))
    return EntitiesBinding(tuple(items))


def entity_key(representation: dict[str, Any]) -> tuple[str, str] | None:
    type_name = representation["__typename"]
    if type_name == "PortCall":
        ident = port_call_uuid(representation["id"])
        return None if ident is None else (type_name, str(ident))
    parts = [v for k, v in representation.items() if k != "__typename"]
    return type_name, "|".join(part.encode().hex() for part in parts)


def nested_page(
    arity: int, cursor: Callable[[list[Any] | None], tuple[Any, ...] | None]
) -> Callable[..., Binding]:
    def bind(info: Info, first: int | None = None, after: str | None = None) -> Binding:
        request = page_request(first, after, arity, info.context.max_page_size)
        key = cursor(request.after)
        return PageBinding(request.size, key, after is not None)

    return bind


BINDERS: Mapping[str, Callable[..., Binding]] = {
    "Query.portCalls": root_page(port_calls_arguments, port_call_statement),
    "Query.vessels": root_page(vessels_arguments, vessel_statement),
    "Query.containers": root_page(containers_arguments, container_statement),
    "Query.events": root_page(events_arguments, event_statement),
    "Query.appointments": root_page(appointments_arguments, appointment_statement),
    "Query.gateTransactions": root_page(transactions_arguments, transaction_statement),
    "Query.shipment": shipment,
    "Query.port": port,
    "Query.portCall": port_call,
    "Query.vessel": vessel,
    "Query.container": container,
    "PortCall.containers": nested_page(len(CONTAINER_KEY), container_cursor),
    "Container.events": nested_page(len(EVENT_KEY), event_cursor),
    "Vessel.portCalls": nested_page(len(PORT_CALL_KEY), port_call_cursor),
    "Shipment.containers": nested_page(len(CONTAINER_KEY), container_cursor),
}


def bind(
    info: Info, slots: Sequence[Slot], variables: VariableValues, strawberry_schema: Any
) -> list[Binding]:
    """Each slot's binding, in document order (as the resolvers would validate them)."""
    converter = strawberry_schema.schema_converter
    bound: list[Binding] = []
    for slot in slots:
        if slot.coordinate == "Query._entities":
            raw = get_argument_values(slot.field, slot.node, variables)
            bound.append(entities(slot, raw["representations"]))
            continue
        raw = get_argument_values(slot.field, slot.node, variables)
        definition = slot.field.extensions["strawberry-definition"]
        arguments = convert_arguments(
            raw,
            definition.arguments,
            scalar_registry=converter.scalar_registry,
            config=strawberry_schema.config,
        )
        bound.append(BINDERS[slot.coordinate](info, **arguments))
    return bound
