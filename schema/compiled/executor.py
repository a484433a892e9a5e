"""The compiled path inside Strawberry's execution: parse, validation, limits, variables and
the operation's choice happen as always; only the execution of a query's root fields changes.

A query the planner supports runs as one statement per source and answers JSON bytes
(`RawData`); any other runs on the resolver path, whole, with its reason counted.
"""

from __future__ import annotations

import logging
from collections import Counter, OrderedDict
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import asyncpg
import orjson
from graphql import GraphQLError, GraphQLObjectType, OperationType
from graphql.execution.collect_fields import FieldDetails

from resolvers.compiled.entities import ENTITIES
from resolvers.compiled.run import RenderCache, run_plan
from resolvers.gate import gate_rule
from resolvers.rules import Rule
from resolvers.sources import DATABASE_UNAVAILABLE, INPUT_VALUE_ERRORS
from resolvers.vessel import vessel_rules
from schema.compiled.bindings import bind
from schema.compiled.planner import Compiled, Planner, Rules, Unsupported
from schema.compiled.probes import apply
from schema.context import Context, Info
from schema.execution import AcyclicExecutionContext

log = logging.getLogger("harborgraph.execution")
PLAN_CACHE_SIZE = 256
BINDINGS_CACHE_SIZE = 64  # per plan: the variable values seen last


class RawData(dict[str, Any]):
    """An answer's `data` already serialised by PostgreSQL: the HTTP layer sends the bytes."""

    def __init__(self, json: bytes) -> None:
        super().__init__()
        self.json = json


class ExecutionStats:
    """What ran how, for this process: compiled answers and each fallback's reason."""

    def __init__(self) -> None:
        self.compiled = 0
        self.fallbacks: Counter[str] = Counter()


def execution_stats(schema: Any) -> ExecutionStats | None:
    """The stats of a schema answering on the compiled path (None on the resolver path)."""
    stats = getattr(schema.execution_context_class, "execution_stats", None)
    return stats if isinstance(stats, ExecutionStats) else None


class PlanCache:
    """Plans by document, operation and field-access decisions (least recently used out)."""

    def __init__(self, size: int = PLAN_CACHE_SIZE) -> None:
        self._plans: OrderedDict[Hashable, Compiled | str] = OrderedDict()
        self._size = size

    def get(self, key: Hashable) -> Compiled | str | None:
        found = self._plans.get(key)
        if found is not None:
            self._plans.move_to_end(key)
        return found

    def put(self, key: Hashable, plan: Compiled | str) -> None:
        self._plans[key] = plan
        if len(self._plans) > self._size:
            self._plans.popitem(last=False)


class ArgumentsInfo:
    """What the argument validators read of `info`: the request's context."""

    def __init__(self, context: Context) -> None:
        self.context = context


def compiled_executor(rules: Rules) -> type[AcyclicExecutionContext]:
    """An executor class for a schema with these field rules, with its own plan cache."""
    cache = PlanCache()
    rendered = RenderCache()
    stats = ExecutionStats()

    class CompiledExecutor(AcyclicExecutionContext):
        execution_stats = stats

        def execute_collected_root_fields(
            self,
            root_type: GraphQLObjectType,
            root_value: Any,
            grouped_field_set: dict[str, list[FieldDetails]],
            serially: bool,
            new_defer_usages: Sequence[Any],
        ) -> Any:
            def resolvers() -> Any:
                return super(CompiledExecutor, self).execute_collected_root_fields(
                    root_type, root_value, grouped_field_set, serially, new_defer_usages
                )

            if self.operation.operation is not OperationType.QUERY:
                return resolvers()
            compiled = self._plan(grouped_field_set)
            if isinstance(compiled, str):
                self._fall_back(compiled)
                return resolvers()
            return self._run(compiled, resolvers)

        def _plan(self, grouped: Mapping[str, list[FieldDetails]]) -> Compiled | str:
            context: Context = self.context_value
            key = self._cache_key(context)
            found = cache.get(key)
            if found is None:
                planner = Planner(
                    self.schema,
                    self.fragments,
                    self.variable_values,
                    self.operation,
                    rules,
                    context.access,
                )
                try:
                    found = planner.compile(grouped)
                except Unsupported as reason:
                    found = str(reason)
                cache.put(key, found)
            return found

        def _cache_key(self, context: Context) -> Hashable:
            source = self.operation.loc.source.body if self.operation.loc else id(self.operation)
            principal = context.principal
            # `@skip`/`@include` read Boolean variables: a different value, another shape.
            switches = tuple(
                sorted((k, v) for k, v in self.variable_values.coerced.items() if v is True)
            )
            name = self.operation.name.value if self.operation.name else None
            return (source, name, principal.anonymous, principal.scopes, switches)

        def _fall_back(self, reason: str) -> None:
            stats.fallbacks[reason] += 1
            context: Context = self.context_value
            context.memo["execution"] = f"resolvers: {reason}"
            log.info(orjson.dumps({"event": "fallback", "reason": reason}).decode())

        def _bindings(self, compiled: Compiled, context: Context) -> tuple[list[Any], str]:
            """The request's bindings, from the plan's cache when its variables were seen, and
            the key of those variables."""
            key = repr(sorted(self.variable_values.coerced.items()))
            found = compiled.bound.get(key)
            if found is not None:
                bindings, warnings = found
                if warnings:  # as validating them again would have warned
                    context.memo.setdefault("warnings", []).extend(warnings)
                return bindings, key
            before = len(context.memo.get("warnings", ()))
            strawberry_schema = self.schema._strawberry_schema  # type: ignore[attr-defined]
            info: Info = ArgumentsInfo(context)  # type: ignore[assignment]
            bindings = bind(info, compiled.slots, self.variable_values, strawberry_schema)
            if len(compiled.bound) >= BINDINGS_CACHE_SIZE:
                compiled.bound.clear()
            compiled.bound[key] = (bindings, context.memo.get("warnings", [])[before:])
            return bindings, key

        async def _resolved(self, resolvers: Any, warnings: list[Any]) -> Any:
            """The resolver path's answer; the warnings as they were before the bindings were
            made, as it warns of the same arguments again."""
            context: Context = self.context_value
            context.memo["warnings"] = warnings
            result = resolvers()
            return await result if self.is_awaitable(result) else result

        async def _run(self, compiled: Compiled, resolvers: Any) -> Any:
            context: Context = self.context_value
            warnings = list(context.memo.get("warnings", ()))
            try:
                bindings, variables = self._bindings(compiled, context)
            except (GraphQLError, Unsupported) as refusal:
                # The resolver path reports the refusal at each of its paths.
                reason = str(refusal) if isinstance(refusal, Unsupported) else "refused argument"
                self._fall_back(reason)
                return await self._resolved(resolvers, warnings)
            rules = await row_rules(context, compiled)
            try:
                renders = (rendered, (compiled.token, variables))
                data = await run_plan(compiled.plan, context.pools, bindings, rules, renders)
            except INPUT_VALUE_ERRORS:
                # A value the database cannot take (a NUL byte...): the resolver path names
                # the field it was given to.
                self._fall_back("value refused by the database")
                return await self._resolved(resolvers, warnings)
            except DATABASE_UNAVAILABLE as away:
                if isinstance(away, asyncpg.QueryCanceledError):
                    raise  # past the statement timeout: it would be again
                # A source away: the resolver path answers the others' fields, and each of its
                # own with an error at that field's path.
                self._fall_back("a source is unavailable")
                return await self._resolved(resolvers, warnings)
            stats.compiled += 1
            context.memo["execution"] = "compiled"
            if compiled.probes:
                errors = apply(compiled.probes, orjson.loads(data), context.access)
                self.collected_errors.errors.extend(errors)
            return RawData(data)

    return CompiledExecutor


async def row_rules(context: Context, compiled: Compiled) -> dict[str, Rule]:
    """The row rules the plan's entities name, by the functions the loaders build them with
    (no loader is created: the compiled path reads no row through one)."""
    names = {ENTITIES[e].rule for e in compiled.entities} - {None}
    principal = context.principal
    vessel = vessel_rules(principal)
    rules = {"schedule": vessel.schedule, "timestamps": vessel.timestamps}
    rules["gate"] = gate_rule(principal)
    if "cargo" in names:  # a trucker's may need its appointments: built once per request
        rules["cargo"] = await context.loaders.cargo_rule()
    return {name: rule for name, rule in rules.items() if name in names}
