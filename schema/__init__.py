"""The Harborgraph schema: per-domain root types merged into one federated subgraph."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from graphql import DocumentNode, GraphQLError, GraphQLObjectType, GraphQLSchema
from graphql.validation import ASTValidationRule, NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule
from strawberry.federation import Schema
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from schema import (
    cargo,
    community,
    events,
    gate,
    gate_writes,
    holds,
    insights,
    publishing,
    security,
    security_writes,
    subscriptions,
    timestamps,
    vessel,
)
from schema.compiled.executor import compiled_executor
from schema.compiled.planner import Rules
from schema.cost import PageBudget
from schema.entities import install_entity_checks
from schema.execution import AcyclicExecutionContext
from schema.permissions import Requirement, install_field_rules, protect, type_rules
from schema.scopes import Scope

DOMAINS = (vessel, cargo, events, gate, security, insights, community)
PUBLISHERS = (publishing, timestamps, holds, gate_writes, security_writes)
STREAMS = (subscriptions,)
MAX_DEPTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 2_000
CACHE_SIZE = 256
# The gateway's SDL fetch: outside development only a token with this scope gets it.
SERVICE_RULE = Requirement(
    "Query._service",
    authenticated=True,
    any_of=(frozenset({Scope.FEDERATION_SDL.value}),),
    audited=False,
)


class HarborgraphSchema(Schema):
    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Errors are logged (and masked) by graph.errors when the answer is built.
        return None


# Rule classes made once: the validation cache is keyed by the rules, so rules made per
# request (as QueryDepthLimiter and MaxAliasesLimiter do) would never hit it.
LIMIT_RULES: list[type[ASTValidationRule]] = [
    depth_rule(MAX_DEPTH, None),
    alias_rule(MAX_ALIASES),
    PageBudget,
]
PRODUCTION_RULES: list[type[ASTValidationRule]] = [*LIMIT_RULES, NoSchemaIntrospectionCustomRule]


def _extensions(development: bool) -> list[Callable[[], SchemaExtension]]:
    # Factories: a fresh extension per request; the parse and validation caches are shared.
    rules = LIMIT_RULES if development else PRODUCTION_RULES
    return [
        lambda: ParserCache(maxsize=CACHE_SIZE),
        lambda: ValidationCache(maxsize=CACHE_SIZE),
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: AddValidationRules(rules),
    ]


def build_schema(development: bool = True, compiled: bool = True) -> HarborgraphSchema:
    """The schema; `compiled` answers the queries the planner supports in SQL (issue 9)."""
    query = merge_types("Query", tuple(q for d in DOMAINS for q in d.queries))
    mutation = merge_types("Mutation", tuple(m for p in PUBLISHERS for m in p.mutations))
    subscription = merge_types("Subscription", tuple(s for d in STREAMS for s in d.subscriptions))
    built = HarborgraphSchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        types=[t for d in DOMAINS for t in d.types],
        federation_version="2.7",
        extensions=_extensions(development),
        config=StrawberryConfig(disable_field_suggestions=not development),
    )
    install_entity_checks(built._schema)
    if compiled:
        install_resolvers(built._schema, publishing.COERCED_RESOLVERS)
    field_rules = install_field_rules(built._schema)
    if not development:
        protect(built._schema, "Query", "_service", SERVICE_RULE)
        field_rules = {**field_rules, SERVICE_RULE.coordinate: SERVICE_RULE}
    if compiled:
        rules = Rules(field_rules, type_rules(built._schema))
        built.execution_context_class = compiled_executor(rules)
    else:
        built.execution_context_class = AcyclicExecutionContext
    return built


def install_resolvers(
    built: GraphQLSchema, resolvers: Mapping[tuple[str, str], Callable[..., Any]]
) -> None:
    """Replace fields' resolvers with ones that take graphql-core's values as they are."""
    for (type_name, field_name), resolve in resolvers.items():
        type_ = built.type_map[type_name]
        assert isinstance(type_, GraphQLObjectType)
        type_.fields[field_name].resolve = resolve


@cache
def schema(development: bool = True, compiled: bool = True) -> HarborgraphSchema:
    """The process's schema (built once: types and rules never change at run time)."""
    return build_schema(development, compiled)


# Strawberry's own parse cache (shared by maxsize, keyed by the same arguments it passes), so a
# document the HTTP layer reads first is not parsed again for execution.
_parse = ParserCache(maxsize=CACHE_SIZE).cached_parse_document


def parse_document(query: str) -> DocumentNode:
    """The parsed document, from the cache execution uses; GraphQLError if it does not parse."""
    document: DocumentNode = _parse(query, max_tokens=MAX_TOKENS)
    return document


def print_sdl() -> str:
    return schema(True).as_str() + "\n"
