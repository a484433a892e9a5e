"""DCSA Track & Trace 2.2 over HTTP, for partners whose systems already speak it.

`POST /dcsa/tnt/v2/events` takes a JSON array of T&T 2.2 events and answers each event's
outcome (the same code as the `publishEvents` mutation); `GET /dcsa/tnt/v2/events` is the
spec's `GET /v2/events`: its query parameters, its cursor headers, the same row rules as
the GraphQL `events` feed. Same bearer tokens; errors in DCSA's error shape.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import asyncpg
import orjson
from starlette.requests import Request
from starlette.responses import Response

from graph.auth import InvalidToken, www_authenticate
from graph.errors import incident_logged, internal_message
from graph.http import BadRequest, authorization, read_json
from graph.state import AppState
from resolvers import dcsa, identifiers
from resolvers.cargo import EventCriteria
from resolvers.cargo_writes import Publication, TooManyEvents, publish_events
from resolvers.community import AuditRecord
from resolvers.paging import Page
from resolvers.principal import Principal
from resolvers.sources import DATABASE_UNAVAILABLE, INPUT_VALUE_ERRORS
from resolvers.writes import Outcome, Refusal
from schema.loaders import Loaders
from schema.scopes import Scope

API_VERSION = "2.2.0"
EVENTS_PATH = "/dcsa/tnt/v2/events"
DEFAULT_LIMIT = 100
MAX_CURSOR = 4_096
STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    429: "Too Many Requests",
    503: "Service Unavailable",
    500: "Internal Server Error",
}
UNSTORABLE = "a value cannot be stored or compared (out of range or invalid characters)"
BOOKING = re.compile(r"[A-Z0-9]{4,35}")
DOCUMENT = re.compile(r"[A-Z0-9]{4,20}")


class DcsaError(Exception):
    """A refused request: its status, what is wrong, and (when it is one) the property."""

    def __init__(
        self, status: int, message: str, prop: str | None = None, challenge: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.prop = prop
        self.headers = {} if challenge is None else {"WWW-Authenticate": challenge}


def dcsa_response(body: object, status: int, **headers: str) -> Response:
    try:
        content = orjson.dumps(body)
    except orjson.JSONEncodeError:  # a lone surrogate the caller sent (JSON allows it), echoed
        content = json.dumps(body, separators=(",", ":")).encode()  # as an escape
    return Response(
        content,
        status_code=status,
        media_type="application/json",
        headers={"API-Version": API_VERSION, "Cache-Control": "no-store", **headers},
    )


def error_body(request: Request, status: int, errors: list[dict[str, Any]]) -> dict[str, Any]:
    """DCSA's error response (as JIT 2.0 writes it)."""
    return {
        "httpMethod": request.method,
        "requestUri": request.url.path,
        "statusCode": status,
        "statusCodeText": STATUS_TEXT.get(status, "Error"),
        "statusCodeMessage": errors[0]["errorCodeMessage"] if errors else "",
        "providerCorrelationReference": str(uuid.uuid4()),
        "errorDateTime": datetime.datetime.now(datetime.UTC).isoformat(),
        "errors": errors,
    }


def refused(request: Request, error: DcsaError) -> Response:
    detail: dict[str, Any] = {"errorCodeText": STATUS_TEXT.get(error.status, "Error")}
    if error.prop is not None:
        detail["property"] = error.prop
    detail["errorCodeMessage"] = error.message
    return dcsa_response(error_body(request, error.status, [detail]), error.status, **error.headers)


async def principal_with(request: Request, state: AppState, scope: Scope) -> Principal:
    """The caller, who must hold `scope` (RFC 6750: 401 without a token, 403 without it)."""
    try:
        principal = await state.authenticate(authorization(request))
    except InvalidToken as error:
        raise DcsaError(401, error.description, challenge=www_authenticate(error)) from None
    if principal.anonymous:
        raise DcsaError(401, "a bearer token is needed", challenge="Bearer")
    if scope.value not in principal.scopes:
        challenge = f'Bearer error="insufficient_scope", scope="{scope.value}"'
        raise DcsaError(403, f"the token lacks the {scope.value} scope", challenge=challenge)
    return principal


# --- POST: publish -------------------------------------------------------------------------


def item_json(item: Any) -> dict[str, Any]:
    found = {
        "index": item.index,
        "eventID": item.event_id,
        "outcome": item.outcome.value,
        "code": None if item.code is None else item.code.value,
        "property": item.field,
        "reason": item.reason,
    }
    return {k: v for k, v in found.items() if v is not None}


def refusal_status(publication: Publication) -> int:
    codes = {i.code for i in publication.items if i.outcome is Outcome.REJECTED}
    if Refusal.INVALID in codes:
        return 400
    return 409 if Refusal.CONFLICT in codes else 404


def publication_response(request: Request, publication: Publication) -> Response:
    summary = {
        "stored": publication.stored,
        "accepted": publication.count(Outcome.ACCEPTED),
        "duplicates": publication.count(Outcome.DUPLICATE),
        "rejected": publication.count(Outcome.REJECTED),
        "results": [item_json(i) for i in publication.items],
    }
    if publication.stored:
        return dcsa_response(summary, 201 if summary["accepted"] else 200)
    status = refusal_status(publication)
    errors = [
        {
            "property": f"[{i.index}].{i.field}",
            "errorCodeText": i.code.value if i.code else "",
            "errorCodeMessage": i.reason or "",
        }
        for i in publication.items
        if i.outcome is Outcome.REJECTED
    ]
    return dcsa_response({**error_body(request, status, errors[:100]), **summary}, status)


async def post_events(request: Request, state: AppState) -> Response:
    principal = await principal_with(request, state, Scope.EVENTS_WRITE)
    body = await read_json(request)
    if not isinstance(body, list):
        raise DcsaError(400, "the body must be a JSON array of DCSA T&T 2.2 events")
    try:
        publication = await publish_events(
            state.pools,
            principal,
            body,
            operation=f"POST {EVENTS_PATH}",
            audit=state.audit.submit,
        )
    except TooManyEvents as error:
        raise DcsaError(400, str(error)) from None
    return publication_response(request, publication)


# --- GET: the spec's GET /v2/events --------------------------------------------------------

Parse = Callable[[str, str], Any]


def one_of(choices: Mapping[str, str]) -> Parse:
    """A comma-separated list of codes (OR), T&T 3.0 words accepted."""

    def parse(value: str, name: str) -> tuple[str, ...]:
        codes = [part.strip() for part in value.split(",")]
        wrong = [c for c in codes if c not in choices]
        if wrong:
            raise DcsaError(400, f"{wrong[0][:40]!r} is not a {name} value", name)
        return tuple(sorted({choices[c] for c in codes}))

    return parse


def checked(check: Callable[[str, str], str]) -> Parse:
    def parse(value: str, name: str) -> str:
        try:
            return check(value, name)
        except identifiers.IdentifierError as error:
            raise DcsaError(400, error.message, name) from None

    return parse


def pattern(regex: re.Pattern[str], what: str) -> Parse:
    def parse(value: str, name: str) -> str:
        if regex.fullmatch(value) is None:
            raise DcsaError(400, f"{value[:40]!r} is not {what}", name)
        return value

    return parse


def a_uuid(value: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise DcsaError(400, f"{value[:40]!r} is not a UUID", name) from None


def an_instant(value: str, name: str) -> datetime.datetime:
    # An unencoded '+' of the offset arrives as a space.
    written = value.replace(" ", "+")
    try:
        parsed = datetime.datetime.fromisoformat(written)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise DcsaError(400, f"{value[:40]!r} is not an ISO 8601 date-time with offset", name)
    try:
        parsed.astimezone(datetime.UTC)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+14:00: before year 1 in UTC
        message = f"{value[:40]!r} is out of range once converted to UTC"
        raise DcsaError(400, message, name) from None
    return parsed


def imo_number(value: str, field: str) -> str:
    return identifiers.imo(value, field).value


# Query parameter -> (EventCriteria field, parser). Deprecated aliases read as their names.
FILTERS: Mapping[str, tuple[str, Parse]] = {
    "eventType": ("event_types", one_of(dcsa.EVENT_TYPES)),
    "shipmentEventTypeCode": ("shipment_event_type_codes", one_of(dcsa.SHIPMENT_CODES)),
    "documentTypeCode": ("document_type_codes", one_of(dcsa.DOCUMENT_TYPES)),
    "carrierBookingReference": ("carrier_booking_reference", pattern(BOOKING, "a booking")),
    "bookingReference": ("carrier_booking_reference", pattern(BOOKING, "a booking")),
    "transportDocumentReference": (
        "transport_document_reference",
        pattern(DOCUMENT, "a transport document reference"),
    ),
    "transportDocumentID": (
        "transport_document_reference",
        pattern(DOCUMENT, "a transport document reference"),
    ),
    "transportEventTypeCode": ("transport_event_type_codes", one_of(dcsa.TRANSPORT_CODES)),
    "transportCallID": ("port_call_id", a_uuid),
    "vesselIMONumber": ("vessel_imo", checked(imo_number)),
    "UNLocationCode": ("unlocode", checked(identifiers.unlocode)),
    "equipmentEventTypeCode": ("equipment_event_type_codes", one_of(dcsa.EQUIPMENT_CODES)),
    "equipmentReference": ("equipment_reference", checked(identifiers.container_number)),
    "eventCreatedDateTime": ("created_at", an_instant),
    "eventCreatedDateTime:eq": ("created_at", an_instant),
    "eventCreatedDateTime:gte": ("created_at_least", an_instant),
    "eventCreatedDateTime:gt": ("created_after", an_instant),
    "eventCreatedDateTime:lte": ("created_at_most", an_instant),
    "eventCreatedDateTime:lt": ("created_before", an_instant),
}
# In the spec, but naming data this source does not hold (voyages and services are the
# vessel source's): refused rather than ignored, so no one reads a wrong answer as filtered.
UNSUPPORTED = ("scheduleID", "carrierVoyageNumber", "exportVoyageNumber", "carrierServiceCode")
PAGING = ("limit", "cursor", "sort")


def criteria(filters: Mapping[str, str]) -> EventCriteria:
    values: dict[str, Any] = {}
    for name, raw in filters.items():
        if name in UNSUPPORTED:
            raise DcsaError(400, f"{name} is not supported by this server", name)
        if name not in FILTERS:
            raise DcsaError(400, f"{name[:40]} is not a query parameter of GET /v2/events", name)
        field, parse = FILTERS[name]
        if field in values:
            raise DcsaError(400, "the same filter is given twice", name)
        values[field] = parse(raw, name)
    return EventCriteria(**values)


def encode_cursor(filters: Mapping[str, str], key: tuple[Any, ...] | None) -> str:
    written = (
        None
        if key is None
        else [v.isoformat() if isinstance(v, datetime.datetime) else str(v) for v in key]
    )
    raw = json.dumps({"f": dict(filters), "k": written})
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[dict[str, str], tuple[datetime.datetime, uuid.UUID] | None]:
    bad = DcsaError(400, "the cursor is not one this server gave", "cursor")
    if len(cursor) > MAX_CURSOR:
        raise bad
    try:
        state = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        filters, key = state["f"], state["k"]
        if not isinstance(filters, dict) or not all(isinstance(v, str) for v in filters.values()):
            raise bad
        after = (
            None if key is None else (datetime.datetime.fromisoformat(key[0]), uuid.UUID(key[1]))
        )
    except (ValueError, TypeError, KeyError, IndexError, binascii.Error, RecursionError):
        raise bad from None
    return filters, after


def limit(params: Mapping[str, str], maximum: int) -> int:
    raw = params.get("limit")
    if raw is None:
        return min(DEFAULT_LIMIT, maximum)
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise DcsaError(400, f"limit must be a whole number from 1 to {maximum}", "limit")
    return int(raw)


def query_parameters(request: Request) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if name in params:
            raise DcsaError(400, "give each parameter once (lists are comma-separated)", name)
        params[name] = value
    sort = params.get("sort")
    if sort is not None and sort not in ("eventCreatedDateTime", "eventCreatedDateTime:ASC"):
        raise DcsaError(400, "events are sorted by eventCreatedDateTime:ASC only", "sort")
    return params


def page_headers(
    filters: Mapping[str, str], after: tuple[Any, ...] | None, page: Page[Any]
) -> dict[str, str]:
    headers = {
        "Current-Page": encode_cursor(filters, after),
        "First-Page": encode_cursor(filters, None),
    }
    if page.has_next:
        headers["Next-Page"] = encode_cursor(filters, page.items[-1][1])
    return headers


async def get_events(request: Request, state: AppState) -> Response:
    principal = await principal_with(request, state, Scope.CARGO_READ)
    params = query_parameters(request)
    size = limit(params, state.settings.max_page_size)
    filters = {k: v for k, v in params.items() if k not in PAGING}
    after = None
    if "cursor" in params:
        if filters:
            raise DcsaError(400, "send either a cursor or filters, not both", "cursor")
        filters, after = decode_cursor(params["cursor"])
    where = criteria(filters)
    loaders = Loaders(state.reads, principal)  # a query: from the replicas
    try:
        page = await loaders.cargo.dcsa_event_page(where, size, after)
    finally:
        loaders.close()
    body = [dcsa.event_json(dict(row), json.loads(row["extra"])) for row, _ in page.items]
    commercial_read(state, principal, body)
    return dcsa_response(body, 200, **page_headers(filters, after, page))


# What GraphQL shows only with cargo:commercial (Container.seals and the shipment's
# references): left out for other callers, and its reading audited as GraphQL's is.
COMMERCIAL = ("seals", "references")


def commercial_read(
    state: AppState,
    principal: Principal,
    events: list[dict[str, Any]],
    operation: str = f"GET {EVENTS_PATH}",
) -> None:
    """Leave out what needs cargo:commercial for a caller without it; audit it for the others."""
    if Scope.CARGO_COMMERCIAL.value not in principal.scopes:
        for event in events:
            for name in COMMERCIAL:
                event.pop(name, None)
        return
    read = {name: sum(1 for e in events if name in e) for name in COMMERCIAL}
    if any(read.values()):
        state.audit.submit(
            AuditRecord(
                occurred_at=datetime.datetime.now(datetime.UTC),
                organization_code=principal.organization_code,
                subject=principal.subject,
                operation_name=operation,
                fields=[f"DcsaEvent.{name}" for name, count in read.items() if count],
                rows_counted=sum(read.values()),
                denials="{}",
            )
        )


async def events_endpoint(request: Request) -> Response:
    state: AppState = request.app.state.harborgraph
    if request.method == "POST":
        return await answered(request, post_events(request, state))
    return await answered(request, get_events(request, state))


def try_again(request: Request, why: str) -> Response:
    response = refused(request, DcsaError(503, f"{why}; nothing was stored: try again"))
    response.headers["Retry-After"] = "1"
    return response


async def answered(request: Request, answer: Awaitable[Response]) -> Response:
    """The answer, or the DCSA error that stands for what went wrong (never a stack trace)."""
    try:
        return await answer
    except DcsaError as error:
        return refused(request, error)
    except asyncpg.QueryCanceledError:  # past the statement timeout: nothing was stored
        return try_again(request, "the database took too long to answer")
    except DATABASE_UNAVAILABLE:  # restarting or out of reach: nothing was stored
        return try_again(request, "the database is unavailable for a moment")
    except BadRequest as error:
        return refused(request, DcsaError(error.status, error.message))
    except INPUT_VALUE_ERRORS:  # a value the database cannot take (as GraphQL's BAD_USER_INPUT)
        return refused(request, DcsaError(400, UNSTORABLE))
    except Exception:  # the last line of defence: a DCSA 500 with a logged reference
        message = internal_message(incident_logged(request.url.path))
        return refused(request, DcsaError(500, message))
