"""GraphQL over HTTP: parsing and checking a request before any GraphQL runs."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from graph.documents import Documents

JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"
MAX_BODY_BYTES = 2 * 1024 * 1024  # room for a batch of 1,000 published events


class BadRequest(Exception):
    """A request that is not a GraphQL request: a 4xx with a message naming the problem."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True, slots=True)
class GraphQLRequest:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    extensions: dict[str, Any] | None = None
    by_hash: bool = False  # a persisted query named by its hash alone (graph.documents)


def response_media_type(accept: str | None) -> str:
    """graphql-response+json when the client accepts it (spec), else application/json."""
    if accept is None:
        return JSON
    types = [part.split(";")[0].strip().lower() for part in accept.split(",")]
    if GRAPHQL_RESPONSE in types:
        return GRAPHQL_RESPONSE
    if JSON in types or "*/*" in types or "application/*" in types:
        return JSON
    raise BadRequest(406, f"Accept must allow {GRAPHQL_RESPONSE} or {JSON}")


def _optional(body: dict[str, Any], name: str, kind: type, label: str) -> Any:
    value = body.get(name)
    if value is not None and not isinstance(value, kind):
        raise BadRequest(400, f"`{name}` must be {label}")
    return value


def graphql_request(body: object, documents: Documents) -> GraphQLRequest:
    """The request; its document from `query` or, by hash, from `documents` (which raises
    graph.documents.Refused for one it will not run)."""
    if not isinstance(body, dict):
        raise BadRequest(400, "the request body must be a JSON object")
    variables = _optional(body, "variables", dict, "an object")
    operation_name = _optional(body, "operationName", str, "a string")
    extensions = _optional(body, "extensions", dict, "an object")
    document = documents.resolve(body.get("query"), extensions)
    return GraphQLRequest(document.text, variables, operation_name, extensions, document.by_hash)


def _check_content_type(header: str) -> None:
    media_type, _, parameters = header.partition(";")
    if media_type.strip().lower() != JSON:
        # JSON only: no simple-request content types, so no CSRF through a browser form.
        raise BadRequest(415, f"Content-Type must be {JSON}")
    charset = parameters.strip().lower().removeprefix("charset=").strip('"')
    if parameters.strip() and charset not in ("utf-8", "utf8"):
        raise BadRequest(415, "the request body must be UTF-8 JSON")


def authorization(request: Request) -> str | None:
    """The one Authorization header; two would leave who is asking to a proxy's whim."""
    values = request.headers.getlist("authorization")
    if len(values) > 1:
        raise BadRequest(400, "send a single Authorization header")
    return values[0] if values else None


async def read_json(request: Request, limit: int = MAX_BODY_BYTES) -> object:
    """The body of a JSON POST: 415 for another type, 413 past `limit`, 400 if not JSON."""
    content_types = request.headers.getlist("content-type")
    if len(content_types) > 1:
        raise BadRequest(400, "send a single Content-Type header")
    _check_content_type(content_types[0] if content_types else "")
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BadRequest(413, f"the request body is larger than {limit} bytes")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise BadRequest(413, f"the request body is larger than {limit} bytes")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        pass  # orjson refuses some JSON the standard parser reads (huge numbers, depth)
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(400, "the request body is not valid JSON") from None
    except RecursionError:
        raise BadRequest(400, "the request body is nested too deeply") from None


async def read_post(request: Request, documents: Documents) -> GraphQLRequest:
    return graphql_request(await read_json(request), documents)


def _json_parameter(params: Mapping[str, str], name: str) -> object:
    if name not in params:
        return None
    try:
        return json.loads(params[name])
    except (ValueError, RecursionError):
        raise BadRequest(400, f"`{name}` is not valid JSON") from None


def read_get(request: Request, documents: Documents) -> GraphQLRequest:
    params = request.query_params
    return graphql_request(
        {
            "query": params.get("query"),
            "variables": _json_parameter(params, "variables"),
            "operationName": params.get("operationName"),
            "extensions": _json_parameter(params, "extensions"),
        },
        documents,
    )
