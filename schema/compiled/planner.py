"""Operation -> plan: what each response key of the answer is, for the compiled path.

Fields are collected exactly as graphql-core executes them (fragments, type conditions,
`@skip`/`@include`, merged response keys). Field rules are decided here, once per plan: a
denied field becomes a null in the plan and a probe, which puts back its error at each of its
paths (and audited reads are probes too, for the audit record's counts). Anything the plan
cannot express raises `Unsupported`, and the whole operation runs on the resolver path.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    OperationDefinitionNode,
    get_named_type,
    get_nullable_type,
    is_leaf_type,
    is_list_type,
)
from graphql.execution.collect_fields import (
    FieldDetails,
    FragmentDetails,
    collect_subfields,
)
from graphql.execution.values import VariableValues

from resolvers.compiled.entities import ENTITIES, LINKS
from resolvers.compiled.plan import (
    ByType,
    Column,
    Const,
    Entities,
    Link,
    Obj,
    Optional,
    Page,
    Plan,
    Remote,
    Root,
    Segment,
    Shape,
    Value,
)
from schema.cost import PageCost
from schema.entities import entity_keys
from schema.permissions import FieldAccess, Requirement

ITEMS = 0  # a path step through every item of a list
MAX_FIELDS = 50  # json_build_object takes at most 100 arguments
Path = tuple[str | int, ...]

# The entity each object type reads, and each event type's discriminant.
ENTITY_OF_TYPE: Mapping[str, str] = {
    "Vessel": "vessel",
    "Port": "port",
    "Terminal": "terminal",
    "PortCall": "port_call",
    "Container": "container",
    "Hold": "hold",
    "Event": "event",
    "EquipmentEvent": "event",
    "TransportEvent": "event",
    "ShipmentEvent": "event",
    "Timestamp": "timestamp",
    "AisPosition": "ais_position",
    "Shipment": "shipment",
    "Appointment": "appointment",
    "GateTransaction": "gate_transaction",
}
# The entities `_entities` resolves on the compiled path (not Organization).
ENTITY_TYPES = frozenset({"Container", "Vessel", "PortCall", "Port", "Terminal", "Shipment"})
DISCRIMINANT: Mapping[str, str] = {
    "EquipmentEvent": "EQUIPMENT",
    "TransportEvent": "TRANSPORT",
    "ShipmentEvent": "SHIPMENT",
}
PAGE_INFO = frozenset({"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"})


class Unsupported(Exception):
    """The compiled path cannot answer this operation; the message is the reason."""


@dataclass(frozen=True, slots=True)
class Probe:
    """A field rule's outcome to apply at every path of `path`: an error where denied, an
    audited read where allowed and audited."""

    path: Path
    requirement: Requirement
    allowed: bool
    nodes: tuple[FieldNode, ...]  # where the field is written: the error's locations


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a request's arguments are read: the field and its node."""

    coordinate: str
    field: GraphQLField
    node: FieldNode
    cost: int = 0  # `_entities`: what one representation's selections may return
    types: frozenset[str] = frozenset()  # `_entities`: the types it may resolve
    keys: Mapping[str, list[tuple[str, ...]]] | None = None  # `_entities`: their key fields


PLAN_TOKENS = itertools.count()


@dataclass(frozen=True, slots=True)
class Compiled:
    plan: Plan
    slots: tuple[Slot, ...]
    probes: tuple[Probe, ...]
    entities: frozenset[str]  # whose row rules the statements need
    # Bindings by variable values, with the warnings binding them gave (schema.compiled.executor)
    bound: dict[str, tuple[list[Any], list[str]]] = field(
        default_factory=dict, compare=False, hash=False
    )
    # This plan among all the process has made (keys its rendered statements)
    token: int = field(default_factory=lambda: next(PLAN_TOKENS), compare=False, hash=False)


@dataclass(frozen=True, slots=True)
class Rules:
    """The schema's field rules and type rules (schema.permissions), by coordinate."""

    fields: Mapping[str, Requirement]
    types: Mapping[str, Requirement]


@dataclass(slots=True)
class Planner:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDetails]
    variables: VariableValues
    operation: OperationDefinitionNode
    rules: Rules
    access: FieldAccess
    slots: list[Slot] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    probes: list[Probe] = field(default_factory=list)
    entities: set[str] = field(default_factory=set)

    def compile(self, grouped: Mapping[str, list[FieldDetails]]) -> Compiled:
        roots = tuple(self.root(key, details) for key, details in grouped.items())
        plan = Plan(roots, tuple(self.segments), len(self.slots))
        return Compiled(plan, tuple(self.slots), tuple(self.probes), frozenset(self.entities))

    # --- Roots ---------------------------------------------------------------------------

    def root(self, key: str, details: list[FieldDetails]) -> Root:
        query = self.schema.query_type
        assert query is not None
        name = details[0].node.name.value
        if name == "__typename":
            return Root(key, "", Const(query.name))
        if name == "_entities":
            return self.entities_root(key, query.fields[name], details)
        coordinate = f"Query.{name}"
        if coordinate not in LINKS:
            raise Unsupported(f"root field {name}")
        graphql_field = query.fields[name]
        if not self.allowed(coordinate, graphql_field, (key,), details):
            return Root(key, "", Const(None))
        slot = self.slot(coordinate, graphql_field, details)
        d = LINKS[coordinate]
        self.entities.add(d.target)
        returned = get_named_type(graphql_field.type)
        source = ENTITIES[d.target].source
        if d.page:
            return Root(key, source, self.page(coordinate, returned, details, slot, (key,)))
        shape = self.shape(returned, d.target, details, (key,))
        return Root(key, source, Link(coordinate, shape), slot)

    def slot(
        self,
        coordinate: str,
        graphql_field: GraphQLField,
        details: list[FieldDetails],
        cost: int = 0,
        types: frozenset[str] = frozenset(),
        keys: Mapping[str, list[tuple[str, ...]]] | None = None,
    ) -> int:
        self.slots.append(Slot(coordinate, graphql_field, details[0].node, cost, types, keys))
        return len(self.slots) - 1

    def entities_root(
        self, key: str, graphql_field: GraphQLField, details: list[FieldDetails]
    ) -> Root:
        """One segment per entity type the caller may read; representations of any other
        type are refused when bound (and the operation falls back)."""
        union = get_named_type(graphql_field.type)
        assert isinstance(union, GraphQLUnionType)
        branches: list[tuple[str, Obj]] = []
        probes: list[list[Probe]] = []
        segments: list[tuple[str, int]] = []
        for concrete in self.schema.get_possible_types(union):
            rule = self.rules.types.get(concrete.name)
            if concrete.name not in ENTITY_TYPES or (rule and not self.access.allows(rule)):
                continue
            entity = ENTITY_OF_TYPE[concrete.name]
            self.entities.add(entity)
            start = len(self.probes)
            shape = self.obj(concrete, entity, details, (key, ITEMS))
            probes.append(self.probes[start:])
            del self.probes[start:]
            branches.append((concrete.name, shape))
            value = Link(f"_entities.{concrete.name}", shape)
            self.segments.append(Segment(ENTITIES[entity].source, value))
            segments.append((concrete.name, len(self.segments) - 1))
        self.probes.extend(branch_probes(branches, probes, 2))
        definitions = {name: f.definition for name, f in self.fragments.items()}
        selections = details[0].node.selection_set
        assert selections is not None
        cost = PageCost(self.schema, definitions).cost(selections, union)
        types = frozenset(name for name, _ in segments)
        keys = entity_keys(self.schema)
        slot = self.slot("Query._entities", graphql_field, details, cost, types, keys)
        return Root(key, "", Entities(slot, tuple(segments)))

    # --- Field rules ---------------------------------------------------------------------

    def allowed(
        self,
        coordinate: str,
        graphql_field: GraphQLField,
        path: Path,
        details: list[FieldDetails],
    ) -> bool:
        """The field's rule, then its type's, as schema.permissions wraps them (outer first)."""
        returned = get_named_type(graphql_field.type)
        for requirement in (self.rules.fields.get(coordinate), self.rules.types.get(returned.name)):
            if requirement is None:
                continue
            allowed = self.access.allows(requirement)
            if not allowed or requirement.audited:
                self.probes.append(
                    Probe(path, requirement, allowed, tuple(d.node for d in details))
                )
            if not allowed:
                if isinstance(graphql_field.type, GraphQLNonNull):
                    raise Unsupported(f"denied non-null field {coordinate}")
                return False
        return True

    # --- Objects -------------------------------------------------------------------------

    def subfields(
        self, parent: GraphQLObjectType, details: list[FieldDetails]
    ) -> dict[str, list[FieldDetails]]:
        collected = collect_subfields(
            self.schema, self.fragments, self.variables, self.operation, parent, details
        )
        if len(collected.grouped_field_set) > MAX_FIELDS:
            raise Unsupported(f"more than {MAX_FIELDS} fields in one object")
        return collected.grouped_field_set

    def shape(
        self, returned: GraphQLNamedType, entity: str, details: list[FieldDetails], path: Path
    ) -> Shape:
        if isinstance(returned, GraphQLInterfaceType):
            return self.by_type(returned, entity, details, path)
        assert isinstance(returned, GraphQLObjectType)
        if ENTITY_OF_TYPE.get(returned.name) != entity:
            raise Unsupported(f"type {returned.name}")
        return self.obj(returned, entity, details, path)

    def by_type(
        self,
        interface: GraphQLInterfaceType,
        entity: str,
        details: list[FieldDetails],
        path: Path,
    ) -> ByType:
        branches: list[tuple[str, Obj]] = []
        probes: list[list[Probe]] = []
        for concrete in self.schema.get_possible_types(interface):
            start = len(self.probes)
            branches.append(
                (DISCRIMINANT[concrete.name], self.obj(concrete, entity, details, path))
            )
            probes.append(self.probes[start:])
            del self.probes[start:]
        self.probes.extend(branch_probes(branches, probes, len(path)))
        return ByType(tuple(branches))

    def obj(
        self, parent: GraphQLObjectType, entity: str, details: list[FieldDetails], path: Path
    ) -> Obj:
        fields = self.subfields(parent, details)
        return Obj(tuple((k, self.field(parent, entity, d, (*path, k))) for k, d in fields.items()))

    def field(
        self, parent: GraphQLObjectType, entity: str, details: list[FieldDetails], path: Path
    ) -> Value:
        name = details[0].node.name.value
        if name == "__typename":
            return Const(parent.name)
        coordinate = f"{parent.name}.{name}"
        graphql_field = parent.fields[name]
        if not self.allowed(coordinate, graphql_field, path, details):
            return Const(None)
        if coordinate in LINKS:
            return self.link(coordinate, graphql_field, entity, details, path)
        python_name = _python_name(graphql_field)
        known = ENTITIES[entity]
        if python_name in known.tests:
            return self.optional(graphql_field, python_name, entity, details)
        if python_name in known.fields and is_leaf_type(get_named_type(graphql_field.type)):
            return Column(python_name)
        raise Unsupported(f"field {coordinate}")

    def optional(
        self, graphql_field: GraphQLField, prefix: str, entity: str, details: list[FieldDetails]
    ) -> Optional:
        """A value object made of the row's own columns (no rules of its own)."""
        value_type = get_named_type(graphql_field.type)
        assert isinstance(value_type, GraphQLObjectType)
        fields: list[tuple[str, Value]] = []
        for key, sub in self.subfields(value_type, details).items():
            name = sub[0].node.name.value
            if name == "__typename":
                fields.append((key, Const(value_type.name)))
                continue
            column = f"{prefix}.{_python_name(value_type.fields[name])}"
            if column not in ENTITIES[entity].fields:
                raise Unsupported(f"field {value_type.name}.{name}")
            fields.append((key, Column(column)))
        return Optional(prefix, Obj(tuple(fields)))

    # --- Links and pages -----------------------------------------------------------------

    def link(
        self,
        coordinate: str,
        graphql_field: GraphQLField,
        entity: str,
        details: list[FieldDetails],
        path: Path,
    ) -> Value:
        d = LINKS[coordinate]
        self.entities.add(d.target)
        returned = get_named_type(graphql_field.type)
        value: Link | Page
        if d.page:
            slot = self.slot(coordinate, graphql_field, details)
            value = self.page(coordinate, returned, details, slot, path)
        else:
            many = is_list_type(get_nullable_type(graphql_field.type))
            inner = (*path, ITEMS) if many else path
            value = Link(coordinate, self.shape(returned, d.target, details, inner), many)
        source = ENTITIES[d.target].source
        if source == ENTITIES[entity].source:
            return value
        if not d.from_key:
            raise Unsupported(f"link {coordinate} across sources")
        self.segments.append(Segment(source, value))
        return Remote(len(self.segments) - 1, coordinate)

    def page(
        self,
        coordinate: str,
        connection: GraphQLNamedType,
        details: list[FieldDetails],
        slot: int,
        path: Path,
    ) -> Page:
        assert isinstance(connection, GraphQLObjectType)
        target = LINKS[coordinate].target
        parts: list[tuple[str, str, Any]] = []
        for key, sub in self.subfields(connection, details).items():
            name = sub[0].node.name.value
            at = (*path, key)
            if name == "__typename":
                parts.append((key, "typename", connection.name))
            elif name == "edges":
                parts.append((key, "edges", self.edges(connection, target, sub, at)))
            elif name == "nodes":
                parts.append((key, "nodes", self.nodes(connection, target, sub, at)))
            elif name == "pageInfo":
                parts.append((key, "pageInfo", self.page_info(connection, sub)))
            else:
                raise Unsupported(f"field {connection.name}.{name}")
        return Page(coordinate, slot, tuple(parts))

    def edges(
        self, connection: GraphQLObjectType, target: str, details: list[FieldDetails], path: Path
    ) -> tuple[tuple[str, str, Any], ...]:
        edge = get_named_type(connection.fields["edges"].type)
        assert isinstance(edge, GraphQLObjectType)
        fields: list[tuple[str, str, Any]] = []
        for key, sub in self.subfields(edge, details).items():
            name = sub[0].node.name.value
            at = (*path, ITEMS, key)
            if name == "__typename":
                fields.append((key, "typename", edge.name))
            elif name == "cursor":
                fields.append((key, "cursor", None))
            else:
                node_field = edge.fields[name]
                self.must_allow(f"{edge.name}.{name}", node_field, at, sub)
                fields.append((key, "node", self.node_shape(node_field, target, sub, at)))
        return tuple(fields)

    def nodes(
        self, connection: GraphQLObjectType, target: str, details: list[FieldDetails], path: Path
    ) -> Shape:
        nodes_field = connection.fields["nodes"]
        self.must_allow(f"{connection.name}.nodes", nodes_field, path, details)
        return self.node_shape(nodes_field, target, details, (*path, ITEMS))

    def node_shape(
        self, graphql_field: GraphQLField, target: str, details: list[FieldDetails], path: Path
    ) -> Shape:
        return self.shape(get_named_type(graphql_field.type), target, details, path)

    def must_allow(
        self, coordinate: str, graphql_field: GraphQLField, path: Path, details: list[FieldDetails]
    ) -> None:
        # A connection's nodes carry their type's rule; the field that led here has it too.
        if not self.allowed(coordinate, graphql_field, path, details):
            raise Unsupported(f"denied {coordinate}")

    def page_info(
        self, connection: GraphQLObjectType, details: list[FieldDetails]
    ) -> tuple[tuple[str, str, Any], ...]:
        info = get_named_type(connection.fields["pageInfo"].type)
        assert isinstance(info, GraphQLObjectType)
        fields: list[tuple[str, str, Any]] = []
        for key, sub in self.subfields(info, details).items():
            name = sub[0].node.name.value
            if name == "__typename":
                fields.append((key, "typename", info.name))
            elif name in PAGE_INFO:
                fields.append((key, name, None))
            else:
                raise Unsupported(f"field PageInfo.{name}")
        return tuple(fields)


def branch_probes(
    branches: list[tuple[str, Obj]], probes: list[list[Probe]], depth: int
) -> list[Probe]:
    """The probes of an interface's branches, found in the answer by response key alone.

    An object's type is not in the answer, but which keys it has is: a probe under key `k`
    of one branch holds for every object having `k` only if each other branch with `k` has
    the very same probe (same field written at the same place). Otherwise, fall back.
    """
    merged: list[Probe] = []
    for index, own in enumerate(probes):
        for probe in own:
            top = probe.path[depth]
            for other, (_, shape) in enumerate(branches):
                if other != index and top in dict(shape.fields) and probe not in probes[other]:
                    raise Unsupported("a protected field differs between type conditions")
            if probe not in merged:
                merged.append(probe)
    return merged


def _python_name(graphql_field: GraphQLField) -> str:
    definition = (graphql_field.extensions or {}).get("strawberry-definition")
    name = str(getattr(definition, "python_name", ""))
    return "id" if name == "_id" else name  # a Relay node's global id
