"""Which GraphQL errors a partner may see as they are; the rest are masked."""

from __future__ import annotations

import logging
import re
import uuid

from graphql import GraphQLError
from strawberry.relay.types import GlobalIDValueError

from resolvers.sources import DATABASE_UNAVAILABLE, INPUT_VALUE_ERRORS

log = logging.getLogger("harborgraph.errors")
INTERNAL = "INTERNAL_SERVER_ERROR"
UNAVAILABLE = "SERVICE_UNAVAILABLE"
UNAVAILABLE_MESSAGE = "the database is unavailable for a moment: send the request again"
BAD_USER_INPUT = "BAD_USER_INPUT"
SUGGESTION = re.compile(r"\s*Did you mean .*$", re.DOTALL)
QUOTED = re.compile(r"'([^'\s]{1,200})'")
NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]*")
# Named in any GraphQL schema: no secret of this one.
BUILT_IN = frozenset(
    {"String", "Int", "Float", "Boolean", "ID", "Query", "Mutation", "Subscription"}
)


def _expected(original: BaseException | None) -> bool:
    return original is None or isinstance(original, GraphQLError)


def _request_code(error: GraphQLError) -> str:
    """Apollo's codes for errors raised before execution (so clients can branch on them)."""
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable '$"):
        return BAD_USER_INPUT
    return "GRAPHQL_VALIDATION_FAILED"


# Raised by what a caller sent, or by a database away: not the server's fault.
KNOWN: tuple[type[BaseException], ...] = (
    GlobalIDValueError,
    *DATABASE_UNAVAILABLE,
    *INPUT_VALUE_ERRORS,
)


def unexpected(error: GraphQLError) -> bool:
    """Whether the error is the server's own fault, shown as an INTERNAL_SERVER_ERROR."""
    original = error.original_error
    if _expected(original) or isinstance(original, KNOWN):
        return False
    return not (isinstance(original, ValueError) and error.path is None)


def _rebuilt(error: GraphQLError, message: str, code: str) -> GraphQLError:
    return GraphQLError(
        message,
        nodes=error.nodes,
        source=error.source,
        positions=error.positions,
        path=error.path,
        extensions={**(error.extensions or {}), "code": code},
    )


def incident_logged(path: object, cause: BaseException | bool = True) -> str:
    """Log an unexpected error (by default the one being handled) under a fresh reference."""
    incident = uuid.uuid4().hex[:12]
    log.error("unexpected error %s at %s", incident, path, exc_info=cause)
    return incident


def internal_message(incident: str) -> str:
    return f"Internal server error (reference {incident})"


def _internal(error: GraphQLError) -> GraphQLError:
    incident = incident_logged(error.path, error.original_error or error)
    return GraphQLError(
        internal_message(incident),
        path=error.path,
        nodes=error.nodes,
        extensions={"code": INTERNAL},
    )


def _classified(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, GlobalIDValueError):
        return _rebuilt(error, f"`id` is not a valid node id: {original}", BAD_USER_INPUT)
    if isinstance(original, DATABASE_UNAVAILABLE):
        log.warning("database unavailable at %s: %s", error.path, type(original).__name__)
        return _rebuilt(error, UNAVAILABLE_MESSAGE, UNAVAILABLE)
    if isinstance(original, INPUT_VALUE_ERRORS):
        message = "an argument holds a value that cannot be stored or compared (out of range or invalid characters)"
        return _rebuilt(error, message, BAD_USER_INPUT)
    if isinstance(original, ValueError) and error.path is None:
        # e.g. an Int literal of 5,000 digits; Python's own message speaks of its internals
        return _rebuilt(
            error, "the document holds a literal that cannot be read", "GRAPHQL_VALIDATION_FAILED"
        )
    if unexpected(error):
        return _internal(error)
    if error.path is None and not (error.extensions or {}).get("code"):
        return _rebuilt(error, error.message, _request_code(error))
    return error


def unwritten_names_hidden(message: str, written: str) -> str:
    """Each quoted name the caller did not write (a type, a field, an argument) as '…'."""
    words = set(NAME.findall(written)) | BUILT_IN

    def shown(match: re.Match[str]) -> str:
        names = NAME.findall(match.group(1))
        return match.group(0) if all(n in words for n in names) else "'…'"

    return QUOTED.sub(shown, message)


def masked(
    error: GraphQLError, hide_suggestions: bool = False, written: str | None = None
) -> GraphQLError:
    """The error as the partner sees it: unexpected causes become an opaque, logged reference;
    outside development no "Did you mean …", and no name the caller did not write (the
    document `written`), that would spell out the schema introspection hides."""
    shown = _classified(error)
    if hide_suggestions and "Did you mean" in shown.message:
        shown.message = SUGGESTION.sub("", shown.message)
    if hide_suggestions and written is not None:
        shown.message = unwritten_names_hidden(shown.message, written)
    return shown
