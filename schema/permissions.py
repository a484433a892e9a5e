"""Field rules: declared once on a field, printed in the SDL, enforced on every path.

A protected field is declared with `requires_scopes=scopes(...)` or `authenticated=True`
on `strawberry.federation.field`; the federation SDL prints those as `@requiresScopes`
and `@authenticated`, so a gateway enforces the same declaration. `install_field_rules`
reads the same directives off the built schema and wraps each protected resolver, so the
subgraph enforces them itself whatever the path: root, nested, alias, fragment, interface,
`node` or `_entities`. Access is decided once per request and field (memoised in the
request's `FieldAccess`); an allowed field then costs one dictionary lookup per object.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLUnionType,
    default_field_resolver,
    get_named_type,
)
from strawberry.federation.schema_directives import Authenticated, RequiresScopes

from resolvers.principal import Principal
from schema.scopes import Scope

UNAUTHORIZED = "UNAUTHORIZED_FIELD_OR_TYPE"


def scopes(*required: Scope) -> list[list[str]]:
    """One alternative needing all of `required` (the `@requiresScopes` shape)."""
    return [[s.value for s in required]]


@dataclass(frozen=True, slots=True)
class Requirement:
    """What a protected field needs: authentication, and any one group of scopes."""

    coordinate: str
    authenticated: bool
    any_of: tuple[frozenset[str], ...]
    audited: bool

    def allows(self, principal: Principal) -> bool:
        if self.authenticated and principal.anonymous:
            return False
        if not self.any_of:
            return True
        return any(group <= principal.scopes for group in self.any_of)

    @property
    def label(self) -> str:
        if not self.any_of:
            return "authentication"
        return " or ".join(" ".join(sorted(g)) for g in self.any_of)


# Reads of these scopes' fields are audit-logged (DESIGN.md: commercial or restricted data).
AUDITED_SCOPES = frozenset(
    {Scope.CARGO_COMMERCIAL, Scope.CARGO_CUSTOMS, Scope.SECURITY_RESTRICTED, Scope.AUDIT_READ}
)


@dataclass(slots=True)
class FieldAccess:
    """One request's decisions and what it read: the audit record's raw material."""

    principal: Principal
    decisions: dict[str, bool] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)
    denied: dict[str, int] = field(default_factory=dict)

    def allows(self, requirement: Requirement) -> bool:
        decision = self.decisions.get(requirement.coordinate)
        if decision is None:
            decision = self.decisions[requirement.coordinate] = requirement.allows(self.principal)
        return decision

    def note_rows(self, coordinate: str, count: int) -> None:
        """Audit rows read under a row rule rather than a field rule (e.g. TLP:AMBER)."""
        if count:
            self.read[coordinate] = self.read.get(coordinate, 0) + count

    def note(self, requirement: Requirement, allowed: bool) -> None:
        if not allowed:
            self.denied[requirement.coordinate] = self.denied.get(requirement.coordinate, 0) + 1
        elif requirement.audited:
            self.read[requirement.coordinate] = self.read.get(requirement.coordinate, 0) + 1


def unauthorized(requirement: Requirement) -> GraphQLError:
    return GraphQLError(
        f"Unauthorized field or type: {requirement.coordinate} requires {requirement.label}",
        extensions={"code": UNAUTHORIZED},
    )


def type_scopes(*required: Scope) -> list[object]:
    """Directives for a type every path to which needs `required` (`@requiresScopes` on it)."""
    return [RequiresScopes(scopes=scopes(*required))]


def _directives(element: GraphQLField | GraphQLNamedType) -> Iterable[object]:
    definition = (element.extensions or {}).get("strawberry-definition")
    directives: Iterable[object] = getattr(definition, "directives", ()) or ()
    return directives


def requirement_of(coordinate: str, element: GraphQLField | GraphQLNamedType) -> Requirement | None:
    directives = _directives(element)
    authenticated = False
    any_of: list[frozenset[str]] = []
    for directive in directives:
        if isinstance(directive, Authenticated):
            authenticated = True
        elif isinstance(directive, RequiresScopes):
            any_of += [frozenset(group) for group in directive.scopes]
    if not authenticated and not any_of:
        return None
    audited = any(group & AUDITED_SCOPES for group in any_of)
    return Requirement(coordinate, authenticated or bool(any_of), tuple(any_of), audited)


Resolver = Callable[..., Any]


def guard(resolve: Resolver, requirement: Requirement) -> Resolver:
    """Wrap one resolver: refused fields are null plus one error at their path."""

    def guarded(source: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
        access: FieldAccess = info.context.access
        allowed = access.allows(requirement)
        access.note(requirement, allowed)
        if not allowed:
            return unauthorized(requirement)
        return resolve(source, info, **args)

    return guarded


def guard_items(resolve: Resolver, type_rules: Mapping[str, Requirement]) -> Resolver:
    """Wrap a field returning an abstract type (`node`, `_entities`): check each object's type."""

    def checked(item: Any, access: FieldAccess) -> Any:
        definition = getattr(type(item), "__strawberry_definition__", None)
        requirement = type_rules.get(getattr(definition, "name", ""))
        if requirement is None:
            return item
        allowed = access.allows(requirement)
        access.note(requirement, allowed)
        return item if allowed else unauthorized(requirement)

    async def later(item: Awaitable[Any], access: FieldAccess) -> Any:
        return checked(await item, access)

    def one(item: Any, access: FieldAccess) -> Any:
        # `_entities` answers with one awaitable per representation.
        return later(item, access) if inspect.isawaitable(item) else checked(item, access)

    def settle(value: Any, access: FieldAccess) -> Any:
        if isinstance(value, list):
            return [one(item, access) for item in value]
        return one(value, access)

    async def resolved(value: Awaitable[Any], access: FieldAccess) -> Any:
        return settle(await value, access)

    def guarded(source: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
        value = resolve(source, info, **args)
        if inspect.isawaitable(value):
            return resolved(value, info.context.access)
        return settle(value, info.context.access)

    return guarded


def type_rules(schema: GraphQLSchema) -> dict[str, Requirement]:
    rules: dict[str, Requirement] = {}
    for type_ in schema.type_map.values():
        if isinstance(type_, GraphQLObjectType) and not type_.name.startswith("__"):
            requirement = requirement_of(type_.name, type_)
            if requirement is not None:
                rules[type_.name] = requirement
    return rules


def _may_return_protected(
    schema: GraphQLSchema, returned: GraphQLNamedType, type_rules: Mapping[str, Requirement]
) -> bool:
    if not isinstance(returned, GraphQLInterfaceType | GraphQLUnionType):
        return False
    return any(t.name in type_rules for t in schema.get_possible_types(returned))


def _protect_field(
    schema: GraphQLSchema,
    graphql_field: GraphQLField,
    coordinate: str,
    type_rules: Mapping[str, Requirement],
) -> Requirement | None:
    resolve: Resolver = graphql_field.resolve or default_field_resolver
    returned = get_named_type(graphql_field.type)
    if _may_return_protected(schema, returned, type_rules):
        resolve = guard_items(resolve, type_rules)
    elif returned.name in type_rules:
        resolve = guard(resolve, type_rules[returned.name])
    requirement = requirement_of(coordinate, graphql_field)
    if requirement is not None:
        resolve = guard(resolve, requirement)
        if graphql_field.subscribe is not None:  # a refused stream never starts
            graphql_field.subscribe = guard(graphql_field.subscribe, requirement)
    graphql_field.resolve = resolve
    return requirement


def install_field_rules(schema: GraphQLSchema) -> dict[str, Requirement]:
    """Wrap every protected field and every path to a protected type; return the field rules."""
    rules_of_types = type_rules(schema)
    rules: dict[str, Requirement] = {}
    for type_ in schema.type_map.values():
        if not isinstance(type_, GraphQLObjectType) or type_.name.startswith("__"):
            continue
        for name, graphql_field in type_.fields.items():
            coordinate = f"{type_.name}.{name}"
            requirement = _protect_field(schema, graphql_field, coordinate, rules_of_types)
            if requirement is not None:
                rules[coordinate] = requirement
    return rules


def protect(schema: GraphQLSchema, type_name: str, field_name: str, rule: Requirement) -> None:
    """Guard a field that carries no declaration of its own (e.g. federation's `_service`)."""
    type_ = schema.type_map[type_name]
    assert isinstance(type_, GraphQLObjectType)
    graphql_field = type_.fields[field_name]
    graphql_field.resolve = guard(graphql_field.resolve or default_field_resolver, rule)
