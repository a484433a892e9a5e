"""DCSA T&T 2.2 event subscriptions (webhooks, issue 11): the spec's `/v2/event-subscriptions`
endpoints, and the dispatcher that delivers each subscription's events to its callback.

A partner manages its own subscriptions with a `cargo:read` token (another's read as 404).
Deliveries come from the change log, under the subscriber's row rules and filters (those of
`GET /v2/events`), signed as the spec says (`Notification-Signature: sha256=<HMAC-SHA256 of
the body with the shared secret>`), at least once: the position moves only on a 2xx, and a
failure waits 2^attempts seconds (at most `HARBORGRAPH_WEBHOOK_MAX_BACKOFF_SECONDS`). Each
delivery runs on its own, so a slow or failing receiver delays no one else.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import datetime
import hashlib
import hmac
import json
import logging
import uuid
from collections.abc import Mapping
from typing import Any

import httpx
import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from graph.callbacks import CallbackRefused, check_destination, checked_url
from graph.dcsa import (
    API_VERSION,
    DcsaError,
    answered,
    commercial_read,
    criteria,
    dcsa_response,
    limit,
    principal_with,
)
from graph.http import read_json
from graph.state import AppState
from resolvers import dcsa
from resolvers import webhooks as store
from resolvers.cargo import EventCriteria
from resolvers.changes import LAST, ChangeFeed, event_reader, row_position
from resolvers.community import AuditRecord
from resolvers.principal import Principal
from resolvers.sources import OUT_OF_REACH, SourcePools
from resolvers.webhooks import EventSubscription, NewSubscription
from schema.loaders import Loaders
from schema.scopes import Scope

log = logging.getLogger("harborgraph.webhooks")

SUBSCRIPTIONS_PATH = "/dcsa/tnt/v2/event-subscriptions"
DELIVERY_BATCH = 100  # events per notification
DELIVERY_TIMEOUT_SECONDS = 10.0
LEASES_AT_ONCE = 20
IDLE_SECONDS = 1.0  # how often due retries are looked for when nothing is published
MIN_SECRET_BYTES = 32

# Subscription body field -> the GET /v2/events parameter whose parser validates it.
BODY_FILTERS: Mapping[str, str] = {
    "eventType": "eventType",
    "shipmentEventTypeCode": "shipmentEventTypeCode",
    "carrierBookingReference": "carrierBookingReference",
    "bookingReference": "bookingReference",
    "transportDocumentReference": "transportDocumentReference",
    "transportEventTypeCode": "transportEventTypeCode",
    "transportCallID": "transportCallID",
    "vesselIMONumber": "vesselIMONumber",
    "equipmentEventTypeCode": "equipmentEventTypeCode",
    "equipmentReference": "equipmentReference",
}
LISTS = ("eventType", "shipmentEventTypeCode", "transportEventTypeCode", "equipmentEventTypeCode")
# In the spec, but naming data this source does not hold: refused, never silently ignored.
UNSUPPORTED = (
    "transportDocumentID",
    "transportDocumentTypeCode",
    "carrierVoyageNumber",
    "carrierServiceCode",
    "scheduleID",
)
NOT_FILTERS = ("callbackUrl", "secret", "subscriptionID")


# --- The subscription body ---------------------------------------------------------------


def as_parameter(name: str, value: object) -> str:
    """A filter's value as GET /v2/events takes it (a list comma-separated)."""
    if name in LISTS:
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise DcsaError(400, "must be a non-empty array of codes", name)
        return ",".join(value)
    if not isinstance(value, str):
        raise DcsaError(400, "must be a string", name)
    return value


def body_filters(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body's filters, validated as GET /v2/events validates its parameters."""
    found: dict[str, Any] = {}
    for name, value in body.items():
        if name in NOT_FILTERS:
            continue
        if name in UNSUPPORTED:
            raise DcsaError(400, f"{name} is not supported by this server", name)
        if name not in BODY_FILTERS:
            raise DcsaError(400, f"{name[:40]} is not a property of a subscription", name[:40])
        as_parameter(name, value)
        found[name] = value
    filters_criteria(found)
    return found


def filters_criteria(filters: Mapping[str, Any]) -> EventCriteria:
    return criteria({BODY_FILTERS[n]: as_parameter(n, v) for n, v in filters.items()})


def shared_secret(value: object) -> bytes:
    if not isinstance(value, str):
        raise DcsaError(400, "a Base64 secret is required", "secret")
    try:
        secret = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise DcsaError(400, "is not Base64", "secret") from None
    if not MIN_SECRET_BYTES <= len(secret) <= 1024:
        raise DcsaError(400, f"must hold {MIN_SECRET_BYTES} to 1,024 bytes", "secret")
    return secret


async def callback(body: Mapping[str, Any], development: bool) -> str:
    try:
        url = checked_url(body.get("callbackUrl"), development)
        await check_destination(url, development)
    except CallbackRefused as error:
        raise DcsaError(400, f"callbackUrl {error}", "callbackUrl") from None
    return url


def subscription_json(subscription: EventSubscription) -> dict[str, Any]:
    return {
        "subscriptionID": str(subscription.id),
        "callbackUrl": subscription.callback_url,
        **subscription.filters,
    }


async def object_body(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise DcsaError(400, "the body must be a JSON object")
    return body


def subscription_id(request: Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.path_params["subscription_id"])
    except ValueError:
        raise DcsaError(404, "no such subscription", "subscriptionID") from None


NOT_FOUND = DcsaError(404, "no such subscription", "subscriptionID")


# --- Endpoints -----------------------------------------------------------------------------


def audited(state: AppState, principal: Principal, request: Request, what: dict[str, Any]) -> None:
    state.audit.submit(
        AuditRecord(
            occurred_at=datetime.datetime.now(datetime.UTC),
            organization_code=principal.organization_code,
            subject=principal.subject,
            operation_name=f"{request.method} {SUBSCRIPTIONS_PATH}",
            fields=[],
            rows_counted=0,
            denials="{}",
            writes=json.dumps(what, separators=(",", ":")),
        )
    )


async def create(request: Request, state: AppState, principal: Principal) -> Response:
    body = await object_body(request)
    secret = shared_secret(body.get("secret"))
    filters = body_filters(body)
    url = await callback(body, state.settings.development)
    owner = principal.organization_code or ""
    new = NewSubscription(owner, principal.subject, principal.scopes, url, secret, filters)
    made = await store.create(state.pools["cargo"], new)
    if made is None:
        message = f"at most {store.MAX_PER_PARTNER} subscriptions per partner"
        raise DcsaError(409, message)
    audited(state, principal, request, {"subscriptionID": str(made.id), "created": True})
    return dcsa_response(subscription_json(made), 201)


async def listed(request: Request, state: AppState, principal: Principal) -> Response:
    size = limit(request.query_params, state.settings.max_page_size)
    after = list_cursor(request.query_params.get("cursor"))
    found = await store.page(state.pools["cargo"], principal.organization_code or "", after, size)
    # The spec's paging headers: Current-Page (required) and First-Page, Next-Page unless last.
    headers = {"Current-Page": page_cursor(after), "First-Page": page_cursor(None)}
    if len(found) > size:
        last, created = found[size - 1]
        headers["Next-Page"] = page_cursor((created, last.id))
    body = [subscription_json(s) for s, _ in found[:size]]
    return dcsa_response(body, 200, **headers)


def page_cursor(after: tuple[datetime.datetime, uuid.UUID] | None) -> str:
    """The cursor of the page after `after` (None: the first page)."""
    position = [] if after is None else [after[0].isoformat(), str(after[1])]
    raw = json.dumps(position).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def list_cursor(cursor: str | None) -> tuple[datetime.datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(cursor[:256] + "=" * (-len(cursor) % 4)))
        if position == []:
            return None
        at, last = position
        return datetime.datetime.fromisoformat(at), uuid.UUID(last)
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise DcsaError(400, "the cursor is not one this server gave", "cursor") from None


async def one(request: Request, state: AppState, principal: Principal) -> Response:
    found = await store.find(
        state.pools["cargo"], subscription_id(request), principal.organization_code or ""
    )
    if found is None:
        raise NOT_FOUND
    return dcsa_response(subscription_json(found), 200)


async def altered(request: Request, state: AppState, principal: Principal) -> Response:
    wanted = subscription_id(request)
    body = await object_body(request)
    if "secret" in body:
        raise DcsaError(400, f"the secret is changed with PUT {SUBSCRIPTIONS_PATH}/{{id}}/secret")
    given = body.get("subscriptionID")
    if given is not None and given != str(wanted):
        raise DcsaError(400, "does not match the subscription in the path", "subscriptionID")
    filters = body_filters(body)
    url = await callback(body, state.settings.development)
    owner = principal.organization_code or ""
    changed = await store.update(state.pools["cargo"], wanted, owner, url, filters)
    if changed is None:
        raise NOT_FOUND
    audited(state, principal, request, {"subscriptionID": str(wanted), "altered": True})
    return dcsa_response(subscription_json(changed), 200)


async def deleted(request: Request, state: AppState, principal: Principal) -> Response:
    wanted = subscription_id(request)
    if not await store.delete(state.pools["cargo"], wanted, principal.organization_code or ""):
        raise NOT_FOUND
    audited(state, principal, request, {"subscriptionID": str(wanted), "deleted": True})
    return Response(status_code=204, headers={"API-Version": API_VERSION})


async def secret_replaced(request: Request, state: AppState, principal: Principal) -> Response:
    wanted = subscription_id(request)
    secret = shared_secret((await object_body(request)).get("secret"))
    owner = principal.organization_code or ""
    if not await store.replace_secret(state.pools["cargo"], wanted, owner, secret):
        raise NOT_FOUND
    audited(state, principal, request, {"subscriptionID": str(wanted), "secret": "replaced"})
    return Response(status_code=204, headers={"API-Version": API_VERSION})


HANDLERS = {
    ("collection", "GET"): listed,
    ("collection", "POST"): create,
    ("one", "GET"): one,
    ("one", "PUT"): altered,
    ("one", "DELETE"): deleted,
    ("secret", "PUT"): secret_replaced,
}


async def handle(request: Request, kind: str) -> Response:
    return await answered(request, handled(request, kind))


async def handled(request: Request, kind: str) -> Response:
    state: AppState = request.app.state.harborgraph
    principal = await principal_with(request, state, Scope.CARGO_READ)
    return await HANDLERS[(kind, request.method)](request, state, principal)


async def collection_endpoint(request: Request) -> Response:
    return await handle(request, "collection")


async def subscription_endpoint(request: Request) -> Response:
    return await handle(request, "one")


async def secret_endpoint(request: Request) -> Response:
    return await handle(request, "secret")


ROUTES = [
    Route(SUBSCRIPTIONS_PATH, collection_endpoint, methods=["GET", "POST"]),
    Route(
        SUBSCRIPTIONS_PATH + "/{subscription_id}",
        subscription_endpoint,
        methods=["GET", "PUT", "DELETE"],
    ),
    Route(SUBSCRIPTIONS_PATH + "/{subscription_id}/secret", secret_endpoint, methods=["PUT"]),
]


# --- Deliveries ----------------------------------------------------------------------------


def signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


class WebhookDispatcher:
    """Leases due subscriptions (any replica may) and delivers each on its own task."""

    def __init__(self, state: AppState, feed: ChangeFeed, client: httpx.AsyncClient) -> None:
        self.state = state
        self.feed = feed
        self.client = client
        self._task: asyncio.Task[None] | None = None
        self._deliveries: set[asyncio.Task[None]] = set()

    @property
    def pools(self) -> SourcePools:
        return self.state.pools

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="harborgraph webhooks")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._deliveries) if t is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await self._lease()
            except OUT_OF_REACH as error:  # the database is away: tried again shortly
                log.warning("webhooks: leasing due subscriptions failed (%r)", error)
            except Exception:  # a database hiccup: logged, and tried again shortly
                log.exception("webhooks: leasing due subscriptions failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(IDLE_SECONDS):
                    await self.feed.moved("cargo")

    async def _lease(self) -> None:
        free = LEASES_AT_ONCE - len(self._deliveries)
        if free <= 0:
            return
        head = self.feed.heads["cargo"]
        for subscription in await store.lease_due(self.pools["cargo"], head, free):
            task = asyncio.create_task(self._deliver(subscription, head))
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def _deliver(self, subscription: EventSubscription, head: int) -> None:
        try:
            await self.deliver(subscription, head)
        except Exception as error:  # never lose the lease silently: record the failure
            log.exception("webhooks: delivery of %s failed", subscription.id)
            with contextlib.suppress(Exception):
                await self.failed(subscription, f"internal error: {type(error).__name__}")

    async def deliver(self, subscription: EventSubscription, head: int) -> None:
        principal = await self.principal(subscription)
        if principal is None:
            await self.failed(subscription, "the subscribing organization is not known")
            return
        rows = await self.read(subscription, principal, head)
        if not rows:
            await store.delivered(self.pools["cargo"], subscription, (head, LAST))
            return
        failure = await self.post(subscription, self.notification(rows, principal))
        if failure is not None:
            await self.failed(subscription, failure)
            return
        full = len(rows) == DELIVERY_BATCH
        to = row_position(rows[-1]) if full else (head, LAST)
        await store.delivered(self.pools["cargo"], subscription, to)

    def notification(self, rows: list[Any], principal: Principal) -> bytes:
        """The events as T&T 2.2 JSON, under the same field rules (and audit) as GET."""
        events = [dcsa.event_json(dict(row), json.loads(row["extra"])) for row in rows]
        commercial_read(self.state, principal, events, f"POST callback ({SUBSCRIPTIONS_PATH})")
        return orjson.dumps(events)

    async def principal(self, subscription: EventSubscription) -> Principal | None:
        organization = await self.state.organizations(subscription.organization_code)
        if organization is None:
            return None
        return Principal(
            subject=subscription.subject,
            organization_code=organization.code,
            kind=organization.kind,
            scopes=subscription.scopes,
            scac=organization.scac,
            terminal_unlocode=organization.terminal_unlocode,
            terminal_smdg_code=organization.terminal_smdg_code,
        )

    async def read(
        self, subscription: EventSubscription, principal: Principal, head: int
    ) -> list[Any]:
        loaders = Loaders(self.pools, principal)
        try:
            where = filters_criteria(subscription.filters)
            read = event_reader(self.pools["cargo"], loaders.cargo_rule, where, DELIVERY_BATCH)
            return await read(subscription.position, head)
        finally:
            loaders.close()

    async def post(self, subscription: EventSubscription, body: bytes) -> str | None:
        """None when the callback took the notification (2xx), else why not."""
        development = self.state.settings.development
        try:
            await check_destination(subscription.callback_url, development)
            response = await self.client.post(
                subscription.callback_url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    "Notification-Signature": signature(subscription.secret, body),
                    "Subscription-ID": str(subscription.id),
                    "API-Version": API_VERSION,
                },
            )
        except CallbackRefused as error:
            return f"callbackUrl {error}"
        except httpx.HTTPError as error:
            return f"{type(error).__name__}: {error}"[:300]
        if 200 <= response.status_code < 300:
            return None
        return f"the callback answered {response.status_code}"

    async def failed(self, subscription: EventSubscription, why: str) -> None:
        limit = float(self.state.settings.webhook_max_backoff_seconds)
        await store.failed(self.pools["cargo"], subscription, why, limit)


def delivery_client() -> httpx.AsyncClient:
    # No redirects: a callback may not send Harborgraph's requests somewhere else.
    return httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS, follow_redirects=False)
