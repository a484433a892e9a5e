"""The /graphql endpoint: GraphQL over HTTP with authentication, masking and audit."""

from __future__ import annotations

import json
from typing import Any

import orjson
from graphql import ExecutionResult, GraphQLError, OperationDefinitionNode
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types.graphql import OperationType

from graph.audit import audit_record
from graph.auth import InvalidToken, www_authenticate
from graph.documents import Documents, Refused
from graph.errors import (
    INTERNAL,
    UNAVAILABLE,
    UNAVAILABLE_MESSAGE,
    incident_logged,
    internal_message,
    masked,
    unexpected,
)
from graph.graphiql import GRAPHIQL_HTML
from graph.http import (
    GRAPHQL_RESPONSE,
    JSON,
    BadRequest,
    GraphQLRequest,
    authorization,
    read_get,
    read_post,
    response_media_type,
)
from graph.observation import current
from graph.state import AppState
from graph.tracing import operation_span
from resolvers.principal import Principal
from resolvers.sources import DATABASE_UNAVAILABLE
from schema import parse_document
from schema.compiled.executor import RawData
from schema.context import Context, new_context

RETRY = {"Retry-After": "1"}  # seconds: a restarting database is back within a few
PUBLIC_MAX_AGE = 30  # seconds a CDN may keep an anonymous answer to a persisted GET


def _json(
    payload: dict[str, Any] | bytes, status: int, media_type: str, **headers: str
) -> Response:
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload, default=str)
    return Response(
        body,
        status_code=status,
        media_type=media_type,
        headers={"Cache-Control": "no-store", **headers},
    )


def _request_error(
    message: str, status: int, code: str, media_type: str, **headers: str
) -> Response:
    payload = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return _json(payload, status, media_type, **headers)


def dumps(value: object) -> bytes:
    """JSON of an answer. orjson refuses a lone surrogate (UTF-8 cannot hold it), which a
    caller's own value may carry back (an eventID echoed): the standard encoder escapes it."""
    try:
        return orjson.dumps(value, default=str)
    except orjson.JSONEncodeError:
        return json.dumps(value, separators=(",", ":"), default=str).encode()


def result_payload(
    result: ExecutionResult, context: Context, development: bool, written: str | None = None
) -> bytes:
    """The answer's JSON; `written` is the caller's document (what its errors may name)."""
    parts: list[bytes] = []
    if result.errors:
        errors = [masked(e, not development, written).formatted for e in result.errors]
        parts.append(b'"errors":' + dumps(errors))
    data = result.data
    if executed(result):  # a request that never ran (parse, validation) has no `data` entry
        # A compiled answer's data is JSON already (PostgreSQL built it): sent as it is.
        parts.append(b'"data":' + (data.json if isinstance(data, RawData) else dumps(data)))
    warnings = context.memo.get("warnings")
    if warnings:
        # e.g. an IMO whose check digit fails: many real ships have one, so it is no error.
        parts.append(b'"extensions":' + dumps({"warnings": warnings}))
    return b"{" + b",".join(parts) + b"}"


def executed(result: ExecutionResult) -> bool:
    """Whether execution began: data, or an error raised at a field's path."""
    if result.data is not None or not result.errors:
        return True
    return any(error.path is not None for error in result.errors)


def _status(result: ExecutionResult, media_type: str) -> int:
    # graphql-response+json: a request that never executed is the caller's fault (parse,
    # validation, variables: 400) or the server's (a failure before any field: 500).
    if media_type == GRAPHQL_RESPONSE and not executed(result):
        return 500 if any(unexpected(error) for error in result.errors or []) else 400
    return 200


def _wants_graphiql(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    params = request.query_params
    asks = "query" in params or "extensions" in params  # a persisted query names no `query`
    return request.method == "GET" and "text/html" in accept and not asks


def _operation_names(query: str) -> list[str | None]:
    """The document's operations by name (None for an anonymous one)."""
    try:
        document = parse_document(query)
    except GraphQLError:
        return [None]  # execution reports the syntax error itself
    return [
        d.name.value if d.name else None
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    ]


def _chosen_operation(gql: GraphQLRequest) -> str | None:
    """The operation that runs: named in the request, or the document's only one."""
    names = _operation_names(gql.query)
    if gql.operation_name is not None:
        return gql.operation_name
    if len(names) > 1:
        # The spec requires `operationName` here; strawberry would silently run the first.
        raise CannotGetOperationTypeError(None)
    return names[0] if names else None


def _operation_type(query: str, name: str | None) -> str | None:
    """The chosen operation's type, None when there is none (from the parse cache)."""
    try:
        document = parse_document(query)
    except GraphQLError:
        return None
    for d in document.definitions:
        if isinstance(d, OperationDefinitionNode) and (d.name.value if d.name else None) == name:
            return d.operation.value
    return None


async def _read(request: Request, documents: Documents) -> GraphQLRequest:
    if request.method == "GET":
        return read_get(request, documents)
    return await read_post(request, documents)


def _caching(request: Request, gql: GraphQLRequest, anonymous: bool, clean: bool) -> dict[str, str]:
    """A persisted query over GET (its URL names the whole request) answered without a token
    and without an error may be kept by a CDN for everyone without a token. Every other answer
    depends on its caller's token (row and field rules): `no-store`."""
    if request.method != "GET" or not gql.by_hash:
        return {}
    vary = {"Vary": "Accept, Authorization"}  # the media type follows Accept
    if anonymous and clean:
        return {**vary, "Cache-Control": f"public, max-age={PUBLIC_MAX_AGE}"}
    return vary


async def _execute(
    state: AppState, gql: GraphQLRequest, context: Context, get: bool
) -> ExecutionResult:
    # Over GET only queries: a mutation must be a POST (CSRF, caches, logs).
    allowed = {OperationType.QUERY} if get else {OperationType.QUERY, OperationType.MUTATION}
    result = await state.schema.execute(
        gql.query,
        variable_values=gql.variables,
        context_value=context,
        operation_name=gql.operation_name,
        allowed_operation_types=allowed,
    )
    return ExecutionResult(data=result.data, errors=result.errors, extensions=result.extensions)


def _unauthenticated(error: InvalidToken, media_type: str) -> Response:
    challenge = {"WWW-Authenticate": www_authenticate(error)}
    return _request_error(error.description, 401, "UNAUTHENTICATED", media_type, **challenge)


def _operation_not_served(error: InvalidOperationTypeError, media_type: str) -> Response:
    if error.operation_type is OperationType.SUBSCRIPTION:
        message = "subscriptions are not served over HTTP"
        return _request_error(message, 400, "BAD_REQUEST", media_type)
    message = "mutations must be sent with POST"
    return _request_error(message, 405, "METHOD_NOT_ALLOWED", media_type, Allow="POST")


def _no_operation(name: str | None) -> str:
    if name is None:
        return "the document holds several operations: name one in `operationName`"
    return f"`operationName` {name[:64]!r} names no operation of the document"


def _graphiql(state: AppState) -> Response:
    if state.settings.development:
        return HTMLResponse(GRAPHIQL_HTML)
    return _request_error("GraphiQL is off in production", 404, "NOT_FOUND", JSON)


def _context(state: AppState, principal: Principal, gql: GraphQLRequest) -> Context:
    name = _chosen_operation(gql)
    # A query reads from the replicas; a mutation, its own answer included, on the primary.
    query = _operation_type(gql.query, name) == OperationType.QUERY.value
    pools = state.reads if query else state.pools
    context = new_context(
        principal,
        pools,
        max_page_size=state.settings.max_page_size,
        port_locode=state.settings.port_locode,
        audit=state.audit.submit,
    )
    context.operation_name = name  # for the audit trail
    return context


def audit_request(state: AppState, context: Context) -> None:
    record = audit_record(context.access, context.operation_name)
    if record is not None:
        state.audit.submit(record)


def noted(context: Context, result: ExecutionResult) -> None:
    """What the request log and the metrics say of this request beyond its status."""
    record = current()
    if record is None:
        return
    record.operation = context.operation_name
    record.fallback = context.memo.get("execution", "").startswith("resolvers:")
    if context.access.denied:
        record.outcome = "denied"
    elif result.errors:
        record.outcome = "error"


def unanswered(result: ExecutionResult) -> bool:
    """Whether no root field was answered: each is null, with an error at its path."""
    if result.data is None:
        return True
    if isinstance(result.data, RawData):  # the compiled path answers whole or not at all
        return False
    failed = {error.path[0] for error in result.errors or [] if error.path}
    return all(value is None and key in failed for key, value in result.data.items())


async def _serve(request: Request, state: AppState, media_type: str) -> Response:
    gql = await _read(request, state.documents)
    record = current()
    if record is not None:  # named by the request: known even when the token is refused
        record.operation = gql.operation_name
    bearer = authorization(request)
    principal = await state.authenticate(bearer)
    context = _context(state, principal, gql)
    kind = _operation_type(gql.query, context.operation_name)
    try:
        with operation_span(state.tracer, kind, context.operation_name):
            result = await _execute(state, gql, context, get=request.method == "GET")
    finally:
        context.close()
    noted(context, result)
    audit_request(state, context)
    payload = result_payload(result, context, state.settings.development, gql.query)
    away = any(isinstance(e.original_error, DATABASE_UNAVAILABLE) for e in result.errors or [])
    if away and unanswered(result):
        return _json(payload, 503, media_type, **RETRY)
    status = _status(result, media_type)
    anonymous = bearer is None and principal.anonymous
    caching = _caching(request, gql, anonymous, status == 200 and not result.errors)
    # A source away took only its own fields: the rest is answered, with a hint when to ask again.
    return _json(payload, status, media_type, **caching, **(RETRY if away else {}))


async def graphql_endpoint(request: Request) -> Response:
    state: AppState = request.app.state.harborgraph
    if _wants_graphiql(request):
        return _graphiql(state)
    try:
        media_type = response_media_type(request.headers.get("accept"))
    except BadRequest as error:
        return _request_error(error.message, error.status, "BAD_REQUEST", JSON)
    try:
        return await _serve(request, state, media_type)
    except BadRequest as error:
        return _request_error(error.message, error.status, "BAD_REQUEST", media_type)
    except Refused as refused:  # persisted documents (graph.documents)
        return _request_error(refused.message, refused.status, refused.code, media_type)
    except InvalidToken as error:
        return _unauthenticated(error, media_type)
    except InvalidOperationTypeError as error:
        return _operation_not_served(error, media_type)
    except CannotGetOperationTypeError as error:
        return _request_error(_no_operation(error.operation_name), 400, "BAD_REQUEST", media_type)
    except DATABASE_UNAVAILABLE:  # e.g. the token's organization could not be looked up
        return _request_error(UNAVAILABLE_MESSAGE, 503, UNAVAILABLE, media_type, **RETRY)
    except Exception:  # the last line of defence: a JSON 500 with a logged reference
        message = internal_message(incident_logged(None))
        return _request_error(message, 500, INTERNAL, media_type)
