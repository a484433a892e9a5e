"""Which GraphQL errors a partner may see as they are; the rest are masked."""

from __future__ import annotations

import logging
import uuid

from graphql import GraphQLError
from strawberry.relay.types import GlobalIDValueError

log = logging.getLogger("harborgraph.errors")
INTERNAL = "INTERNAL_SERVER_ERROR"
BAD_USER_INPUT = "BAD_USER_INPUT"


def _expected(original: BaseException | None) -> bool:
    return original is None or isinstance(original, GraphQLError)


def _request_code(error: GraphQLError) -> str:
    """Apollo's codes for errors raised before execution (so clients can branch on them)."""
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable '$"):
        return BAD_USER_INPUT
    return "GRAPHQL_VALIDATION_FAILED"


def _with_code(error: GraphQLError, code: str) -> GraphQLError:
    return GraphQLError(
        error.message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code},
    )


def masked(error: GraphQLError) -> GraphQLError:
    """The error as the partner sees it: unexpected causes become an opaque, logged id."""
    original = error.original_error
    if isinstance(original, GlobalIDValueError):
        return GraphQLError(
            f"`id` is not a valid node id: {original}",
            path=error.path,
            nodes=error.nodes,
            extensions={"code": BAD_USER_INPUT},
        )
    if _expected(original):
        if error.path is None and not (error.extensions or {}).get("code"):
            return _with_code(error, _request_code(error))
        return error
    incident = uuid.uuid4().hex[:12]
    log.error("unexpected error %s at %s", incident, error.path, exc_info=original)
    return GraphQLError(
        f"Internal server error (reference {incident})",
        path=error.path,
        nodes=error.nodes,
        extensions={"code": INTERNAL},
    )
