"""Checks the fuzzers run on every answer, beside schemathesis's own.

- `no_server_error`: no 5xx.
- `no_internals_leaked` (every answer): no Python stack trace, file path, driver name or
  PostgreSQL message in the body, unless the request itself carried that text.
- `graphql_response_shape`: the GraphQL-over-HTTP answer as the spec has it (JSON object of
  `data`, `errors`, `extensions`; `errors` well formed; with `application/graphql-response+json`
  2xx when `data` is present and 4xx when it is not).
- `graphql_errors_expected`: every error carries one of the documented codes
  (docs/pagination-and-errors.md), and none is `INTERNAL_SERVER_ERROR`.
- `graphql_data_conforms`: `data` is what the committed schema says the document selects:
  every selected key and nothing else, no `null` where the type is non-null, scalars and enum
  values of their types (`DateTime` with an offset).
- `graphql_names_hidden`: production error messages name no type, field or argument of the
  schema that the document does not write.
"""

from __future__ import annotations

import datetime
import json
import re
import uuid
from collections.abc import Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import graphql
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLAbstractType,
    GraphQLEnumType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
)
from schemathesis import Case, CheckContext, Response

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema" / "schema.graphql"
# The federation directives the subgraph SDL uses without defining (a gateway knows them).
FEDERATION_DIRECTIVES = """
directive @link(url: String!, import: [String]) repeatable on SCHEMA
directive @key(fields: String!, resolvable: Boolean = true) repeatable on OBJECT | INTERFACE
directive @requiresScopes(scopes: [[String!]!]!) on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
directive @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM
"""
GRAPHQL_RESPONSE = "application/graphql-response+json"
# docs/pagination-and-errors.md, less INTERNAL_SERVER_ERROR (a bug) and SERVICE_UNAVAILABLE
# (an outage, which a fuzz run against a healthy database must never see).
EXPECTED_CODES = frozenset(
    {
        "UNAUTHORIZED_FIELD_OR_TYPE",
        "UNAUTHENTICATED",
        "BAD_USER_INPUT",
        "BAD_REQUEST",
        "METHOD_NOT_ALLOWED",
        "GRAPHQL_VALIDATION_FAILED",
        "GRAPHQL_PARSE_FAILED",
    }
)
INTERNALS = (
    re.compile(r"Traceback \(most recent call last\)"),
    re.compile(r'File "[^"]*", line \d+'),
    re.compile(r"\bline \d+, in \w+"),
    re.compile(r'\.py"'),
    re.compile(r"\.py:\d+"),
    re.compile(r"site-packages"),
    re.compile(r"asyncpg", re.IGNORECASE),
    re.compile(r"psycopg", re.IGNORECASE),
    re.compile(r"postgres(?:ql)?://", re.IGNORECASE),
    re.compile(r"\bSQLSTATE\b"),
    re.compile(r"syntax error at or near"),
    re.compile(r"violates (?:check|not-null|foreign key|unique|exclusion) constraint"),
    re.compile(r'relation "[^"]+" does not exist'),
    re.compile(r"\b(?:strawberry|graphql)\.[a-z_]+\.[a-z_]+"),  # module paths
)
AnyCase = Case[Any]
QUOTED = re.compile(r"'([_A-Za-z][_0-9A-Za-z]*)'")
NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")


def committed_sdl() -> str:
    """The committed SDL with the directive definitions it leaves to the gateway."""
    return FEDERATION_DIRECTIVES + SCHEMA_FILE.read_text(encoding="utf-8")


@cache
def committed_schema() -> GraphQLSchema:
    return graphql.build_schema(committed_sdl())


def _sent(response: Response) -> str:
    request = response.request
    body = request.body
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    return f"{request.url}\n{text}"


def no_server_error(ctx: CheckContext, response: Response, case: AnyCase) -> bool | None:
    """No 5xx. (Schemathesis's `not_a_server_error` also counts, for GraphQL, every error with a
    path and no code it knows as a server error: a field denied by the token's scopes,
    `UNAUTHORIZED_FIELD_OR_TYPE` as Apollo's gateways have it, is none.
    `graphql_errors_expected` judges the codes.)"""
    assert response.status_code < 500, f"{response.status_code}: {response.text[:2000]}"
    return None


def no_internals_leaked(ctx: CheckContext, response: Response, case: AnyCase) -> bool | None:
    body = response.text or ""
    sent = _sent(response)
    for pattern in INTERNALS:
        for found in pattern.finditer(body):
            if found.group(0) not in sent:
                raise AssertionError(
                    f"the answer shows internals ({found.group(0)!r}): {body[:2000]}"
                )
    return None


# --- GraphQL ---------------------------------------------------------------------------------


def _payload(response: Response) -> Any:
    try:
        return json.loads(response.content)
    except ValueError:
        raise AssertionError(f"not JSON ({response.status_code}): {response.text[:500]}") from None


def _errors(payload: Mapping[str, Any]) -> list[dict[str, Any]]:
    errors = payload.get("errors")
    return errors if isinstance(errors, list) else []


def graphql_response_shape(ctx: CheckContext, response: Response, case: AnyCase) -> bool | None:
    payload = _payload(response)
    assert isinstance(payload, dict), f"the answer is not a JSON object: {payload!r:.500}"
    assert set(payload) <= {"data", "errors", "extensions"}, f"unknown entries: {set(payload)}"
    assert "data" in payload or "errors" in payload, "neither data nor errors"
    if "errors" in payload:
        errors = payload["errors"]
        assert isinstance(errors, list), f"errors must be a list: {errors!r}"
        assert errors, "errors must not be empty"
        for error in errors:
            _check_error(error)
    if "data" in payload:
        data = payload["data"]
        assert data is None or isinstance(data, dict), f"data must be an object: {data!r:.200}"
        if data is None:
            assert payload.get("errors"), "data is null without an error"
    if "extensions" in payload:
        assert isinstance(payload["extensions"], dict), "extensions must be an object"
    media_type = response.headers.get("content-type", [""])[0].split(";")[0].strip()
    assert media_type == GRAPHQL_RESPONSE, f"answered as {media_type!r}"
    if "data" in payload:
        assert 200 <= response.status_code < 300, f"{response.status_code} with data"
    else:
        assert 400 <= response.status_code < 500, f"{response.status_code} without data"
    return None


def _check_error(error: object) -> None:
    assert isinstance(error, dict), f"an error is not an object: {error!r}"
    assert isinstance(error.get("message"), str), f"an error without a message: {error!r}"
    for location in error.get("locations", []):
        assert isinstance(location, dict), f"a location is not an object: {error!r}"
        line, column = location.get("line"), location.get("column")
        assert isinstance(line, int), f"bad location: {error!r}"
        assert isinstance(column, int), f"bad location: {error!r}"
        assert min(line, column) >= 1, f"bad location: {error!r}"
    path = error.get("path", [])
    assert isinstance(path, list), f"path is not a list: {error!r}"
    assert all(isinstance(p, (str, int)) for p in path), f"bad path: {error!r}"
    assert isinstance(error.get("extensions", {}), dict), f"extensions not an object: {error!r}"


def graphql_errors_expected(ctx: CheckContext, response: Response, case: AnyCase) -> bool | None:
    payload = _payload(response)
    for error in _errors(payload if isinstance(payload, dict) else {}):
        extensions = error.get("extensions") or {}
        code = extensions.get("code") if isinstance(extensions, dict) else None
        assert code in EXPECTED_CODES, f"an error with code {code!r}: {error!r}"
    return None


def graphql_names_hidden(ctx: CheckContext, response: Response, case: AnyCase) -> bool | None:
    payload = _payload(response)
    written = set(NAME.findall(str(case.body)))
    names = schema_names()
    for error in _errors(payload if isinstance(payload, dict) else {}):
        for name in QUOTED.findall(str(error.get("message", ""))):
            assert name not in names or name in written, (
                f"the message names {name!r}, which the document does not: {error!r}"
            )
    return None


@cache
def schema_names() -> frozenset[str]:
    """The names introspection would show: types, fields, arguments, input fields."""
    schema = committed_schema()
    found: set[str] = set()
    for name, named in schema.type_map.items():
        if name.startswith("__") or name in graphql.specified_scalar_types:
            continue
        found.add(name)
        for field_name, field in getattr(named, "fields", {}).items():
            found.add(field_name)
            found.update(getattr(field, "args", {}))
    return frozenset(found)


def graphql_data_conforms(ctx: CheckContext, response: Response, case: AnyCase) -> bool | None:
    payload = _payload(response)
    if not isinstance(payload, dict) or payload.get("data") is None:
        return None
    document = graphql.parse(str(case.body))
    problems = list(DataShape(committed_schema(), document).problems(payload["data"]))
    assert not problems, "the data breaks the schema:\n" + "\n".join(problems[:20])
    return None


class DataShape:
    """Compares an answer's `data` with the types the document selects."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.operation = next(
            d for d in document.definitions if isinstance(d, OperationDefinitionNode)
        )
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def problems(self, data: object) -> Iterator[str]:
        root = self.schema.get_root_type(self.operation.operation)
        assert root is not None, self.operation.operation
        yield from self.object_problems(root, self.operation.selection_set, data, "data")

    def fields(
        self, runtime: GraphQLObjectType, selections: SelectionSetNode
    ) -> dict[str, list[FieldNode]]:
        """The response keys the selection gives an object of this type, with their nodes."""
        found: dict[str, list[FieldNode]] = {}
        for selection in selections.selections:
            if not _included(selection):
                continue
            if isinstance(selection, FieldNode):
                key = (selection.alias or selection.name).value
                found.setdefault(key, []).append(selection)
                continue
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                nested = selection.selection_set
            else:
                assert isinstance(selection, FragmentSpreadNode)
                fragment = self.fragments[selection.name.value]
                condition, nested = fragment.type_condition, fragment.selection_set
            if condition is None or self.applies(condition.name.value, runtime):
                for key, nodes in self.fields(runtime, nested).items():
                    found.setdefault(key, []).extend(nodes)
        return found

    def applies(self, condition: str, runtime: GraphQLObjectType) -> bool:
        named = self.schema.get_type(condition)
        if named is runtime:
            return True
        return isinstance(named, GraphQLAbstractType) and self.schema.is_sub_type(named, runtime)

    def object_problems(
        self, runtime: GraphQLObjectType, selections: SelectionSetNode, value: object, at: str
    ) -> Iterator[str]:
        if not isinstance(value, dict):
            yield f"{at}: {runtime.name} is not an object: {value!r:.100}"
            return
        expected = self.fields(runtime, selections)
        for key in value.keys() - expected.keys():
            yield f"{at}.{key}: not selected"
        for key, nodes in expected.items():
            if key not in value:
                yield f"{at}.{key}: missing"
                continue
            name = nodes[0].name.value
            if name == "__typename":
                if value[key] != runtime.name:
                    yield f"{at}.{key}: {value[key]!r} on a {runtime.name}"
                continue
            field = runtime.fields.get(name)
            if field is None:
                yield f"{at}.{key}: {runtime.name} has no field {name}"
                continue
            nested = _merged(nodes)
            yield from self.value_problems(field.type, nested, value[key], f"{at}.{key}")

    def value_problems(
        self,
        kind: GraphQLOutputType,
        selections: SelectionSetNode | None,
        value: object,
        at: str,
    ) -> Iterator[str]:
        if isinstance(kind, GraphQLNonNull):
            if value is None:
                yield f"{at}: null where {kind} is non-null"
                return
            yield from self.value_problems(kind.of_type, selections, value, at)
            return
        if value is None:
            return
        if isinstance(kind, GraphQLList):
            if not isinstance(value, list):
                yield f"{at}: {kind} is not a list: {value!r:.100}"
                return
            for index, item in enumerate(value):
                yield from self.value_problems(kind.of_type, selections, item, f"{at}[{index}]")
            return
        if isinstance(kind, GraphQLScalarType):
            if not _scalar_ok(kind.name, value):
                yield f"{at}: {value!r:.100} is not a {kind.name}"
            return
        if isinstance(kind, GraphQLEnumType):
            if value not in kind.values:
                yield f"{at}: {value!r:.100} is not a value of {kind.name}"
            return
        assert selections is not None, at
        if isinstance(kind, GraphQLObjectType):
            yield from self.object_problems(kind, selections, value, at)
            return
        assert isinstance(kind, GraphQLAbstractType)
        yield from self.abstract_problems(kind, selections, value, at)

    def abstract_problems(
        self, kind: GraphQLAbstractType, selections: SelectionSetNode, value: object, at: str
    ) -> Iterator[str]:
        """Fine when the value is one of the possible types (named by `__typename` when the
        document asks for it)."""
        possible = self.schema.get_possible_types(kind)
        named = value.get("__typename") if isinstance(value, dict) else None
        candidates = [t for t in possible if named is None or t.name == named]
        if not candidates:
            yield f"{at}: {named!r} is not a {kind.name}"
            return
        attempts = [list(self.object_problems(t, selections, value, at)) for t in candidates]
        if all(attempts):
            yield from min(attempts, key=len)


def _merged(nodes: list[FieldNode]) -> SelectionSetNode | None:
    sets = [n.selection_set for n in nodes if n.selection_set is not None]
    if not sets:
        return None
    return SelectionSetNode(selections=tuple(s for one in sets for s in one.selections))


def _included(selection: graphql.SelectionNode) -> bool:
    """@skip / @include with literal conditions (the fuzzer sends no variables)."""
    for directive in selection.directives or ():
        name = directive.name.value
        if name not in ("skip", "include"):
            continue
        argument = next((a for a in directive.arguments or () if a.name.value == "if"), None)
        if argument is None or not isinstance(argument.value, graphql.BooleanValueNode):
            continue
        if argument.value.value == (name == "skip"):
            return False
    return True


INT_RANGE = (-(2**31), 2**31 - 1)


def _scalar_ok(name: str, value: object) -> bool:
    if name == "Int":
        return (
            isinstance(value, int)
            and not isinstance(value, bool)
            and INT_RANGE[0] <= value <= INT_RANGE[1]
        )
    if name == "Float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if name == "Boolean":
        return isinstance(value, bool)
    if name in ("String", "ID"):
        return isinstance(value, str)
    if name == "DateTime":
        return isinstance(value, str) and _instant(value)
    if name == "Date":
        return isinstance(value, str) and _date(value)
    if name == "UUID":
        return isinstance(value, str) and _uuid(value)
    return True  # JSON, _Any: any JSON value


def _instant(value: str) -> bool:
    try:
        return datetime.datetime.fromisoformat(value).tzinfo is not None
    except ValueError:
        return False


def _date(value: str) -> bool:
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True
