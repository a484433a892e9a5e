"""GraphQL over WebSocket on /graphql, in the `graphql-transport-ws` protocol (issue 11).

The token travels in `connection_init`'s payload (`{"Authorization": "Bearer ..."}`) and is
checked as HTTP checks it: a refused one closes the socket with 4403, and the socket closes
with 4401 when the token expires. Each operation runs through the same schema (limits, page
budget, field and row rules) with its own context; a partner holds at most
`HARBORGRAPH_MAX_SUBSCRIPTIONS` operations at once, all replicas together (graph.operations).
Queries run too (one `next`, then `complete`); mutations are sent with POST.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from enum import IntEnum
from typing import Any

import orjson
from graphql import ExecutionResult as GraphQLResult
from graphql import GraphQLError
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.types.graphql import OperationType

from graph.auth import InvalidToken
from graph.errors import masked
from graph.state import AppState
from graph.throttle import quota
from graph.view import audit_request, result_payload
from resolvers.principal import Principal
from schema.context import Context, new_context

PROTOCOL = "graphql-transport-ws"
INIT_TIMEOUT_SECONDS = 10.0
MAX_ID_LENGTH = 128
SERVED = (OperationType.QUERY, OperationType.SUBSCRIPTION)


class Close(IntEnum):
    """The protocol's close codes."""

    BAD_REQUEST = 4400
    UNAUTHORIZED = 4401
    FORBIDDEN = 4403
    SUBPROTOCOL_NOT_ACCEPTABLE = 4406
    INIT_TIMEOUT = 4408
    SUBSCRIBER_EXISTS = 4409
    TOO_MANY_INIT = 4429
    TRY_AGAIN_LATER = 1013  # RFC 6455: over the partner's rate limit


class Closing(Exception):
    """Ends the session: the socket closes with this code and reason."""

    def __init__(self, code: Close, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def request_error(message: str, code: str) -> list[dict[str, Any]]:
    return [{"message": message, "extensions": {"code": code}}]


class Session:
    """One socket: its partner, its operations by id."""

    def __init__(self, websocket: WebSocket, state: AppState) -> None:
        self.websocket = websocket
        self.state = state
        self.counts = state.operations
        self.principal: Principal | None = None
        self.holder = ""
        self.operations: dict[str, asyncio.Task[None]] = {}
        self.expiry: asyncio.Task[None] | None = None

    # --- Messages ---------------------------------------------------------------------

    async def receive(self) -> dict[str, Any]:
        message = await self.websocket.receive()
        if message["type"] == "websocket.disconnect":
            raise WebSocketDisconnect(message.get("code", 1000))
        try:
            parsed = orjson.loads(message.get("text") or message.get("bytes") or b"")
        except orjson.JSONDecodeError:
            raise Closing(Close.BAD_REQUEST, "Invalid message received") from None
        if not isinstance(parsed, dict) or not isinstance(parsed.get("type"), str):
            raise Closing(Close.BAD_REQUEST, "Invalid message received")
        return parsed

    async def send(self, message: dict[str, Any] | bytes) -> None:
        body = message if isinstance(message, bytes) else orjson.dumps(message)
        if self.websocket.application_state is WebSocketState.CONNECTED:
            await self.websocket.send_text(body.decode())

    # --- The session ------------------------------------------------------------------

    async def run(self) -> None:
        try:
            async with asyncio.timeout(INIT_TIMEOUT_SECONDS):
                first = await self.receive()
        except TimeoutError:
            raise Closing(Close.INIT_TIMEOUT, "Connection initialisation timeout") from None
        if first["type"] != "connection_init":
            raise Closing(Close.UNAUTHORIZED, "Unauthorized")
        expires_at = await self.authenticate(first.get("payload"))
        await self.send({"type": "connection_ack"})
        if expires_at is not None:
            self.expiry = asyncio.create_task(self.expire(expires_at))
        while True:
            await self.handle(await self.receive())

    async def authenticate(self, payload: object) -> int | None:
        authorization = payload.get("Authorization") if isinstance(payload, dict) else None
        if authorization is not None and not isinstance(authorization, str):
            raise Closing(Close.FORBIDDEN, "Forbidden: Authorization must be a string")
        try:
            principal, expires_at = await self.state.authenticate_until(authorization)
        except InvalidToken as error:
            raise Closing(Close.FORBIDDEN, f"Forbidden: {error.description}"[:120]) from None
        self.principal = principal
        client = self.websocket.client.host if self.websocket.client else "unknown"
        self.holder = principal.organization_code or f"anonymous@{client}"
        decision = self.state.rate_limiter.check(*await quota(self.state, principal, client))
        if not decision.allowed:
            raise Closing(Close.TRY_AGAIN_LATER, decision.message)
        return expires_at

    async def expire(self, expires_at: int) -> None:
        await asyncio.sleep(max(0.0, expires_at - time.time()))
        await self.close(Close.UNAUTHORIZED, "Unauthorized: the token expired")

    async def handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "ping":
            await self.send({"type": "pong"})
        elif kind == "pong":
            return
        elif kind == "connection_init":
            raise Closing(Close.TOO_MANY_INIT, "Too many initialisation requests")
        elif kind == "subscribe":
            await self.subscribe(message)
        elif kind == "complete":
            self.complete(message.get("id"))
        else:
            raise Closing(Close.BAD_REQUEST, f"Invalid message type {kind[:40]!r}")

    def complete(self, operation_id: object) -> None:
        task = self.operations.get(operation_id) if isinstance(operation_id, str) else None
        if task is not None:
            task.cancel()  # its done callback gives its place back

    async def close(self, code: Close, reason: str) -> None:
        if self.websocket.application_state is WebSocketState.CONNECTED:
            await self.websocket.close(code, reason)

    def stop(self) -> None:
        for task in [*self.operations.values(), self.expiry]:
            if task is not None:
                task.cancel()

    # --- Operations -------------------------------------------------------------------

    async def subscribe(self, message: dict[str, Any]) -> None:
        operation_id, payload = message.get("id"), message.get("payload")
        if not isinstance(operation_id, str) or not 0 < len(operation_id) <= MAX_ID_LENGTH:
            raise Closing(Close.BAD_REQUEST, "Invalid message received: a subscribe needs an id")
        if not isinstance(payload, dict):
            raise Closing(
                Close.BAD_REQUEST, "Invalid message received: a subscribe needs a payload"
            )
        if operation_id in self.operations:
            raise Closing(Close.SUBSCRIBER_EXISTS, f"Subscriber for {operation_id} already exists")
        refused = self.state.documents.socket_refusal(payload)  # APQ, trusted documents
        if refused is not None:
            await self.error(operation_id, refused)
            return
        problem = payload_problem(payload)
        if problem is not None:
            await self.error(operation_id, request_error(problem, "BAD_REQUEST"))
            return
        if not await self.counts.take(self.holder):
            limit = self.counts.limit
            message_text = f"at most {limit} operations at once per partner: complete one first"
            await self.error(operation_id, request_error(message_text, "TOO_MANY_SUBSCRIPTIONS"))
            return
        task = asyncio.create_task(self.serve(operation_id, payload))
        self.operations[operation_id] = task
        # Not in `serve`'s finally: a task cancelled before it starts never runs it.
        task.add_done_callback(lambda _: self.finished(operation_id, task))

    def finished(self, operation_id: str, task: asyncio.Task[None]) -> None:
        self.counts.give_back(self.holder)
        if self.operations.get(operation_id) is task:
            del self.operations[operation_id]

    async def serve(self, operation_id: str, payload: dict[str, Any]) -> None:
        context = self.context(payload.get("operationName"))
        try:
            results = await self.state.schema.stream(
                payload["query"],
                variable_values=payload.get("variables"),
                context_value=context,
                operation_name=payload.get("operationName"),
                allowed_operation_types=SERVED,
            )
            if await self.relay(operation_id, results, context, payload["query"]):
                await self.send({"type": "complete", "id": operation_id})
        except (WebSocketDisconnect, RuntimeError):
            return  # the client went away mid-send: nothing is left to tell it
        finally:
            context.close()
            audit_request(self.state, context)

    async def relay(
        self,
        operation_id: str,
        results: AsyncGenerator[Any, None],
        context: Context,
        written: str,
    ) -> bool:
        """Each result as `next` (an error before execution as `error`); False on `error`."""
        development = self.state.settings.development
        async with aclosing(results):
            async for result in results:
                if isinstance(result, PreExecutionError):
                    errors = result.errors or []
                    await self.error(operation_id, refusal(errors, development, written))
                    return False
                if isinstance(result, ExecutionResult):
                    plain = GraphQLResult(data=result.data, errors=result.errors)
                    body = result_payload(plain, context, development, written)
                    await self.send(next_message(operation_id, body))
        return True

    async def error(self, operation_id: str, errors: list[Any]) -> None:
        await self.send({"type": "error", "id": operation_id, "payload": errors})

    def context(self, operation_name: object) -> Context:
        assert self.principal is not None
        context = new_context(
            self.principal,
            self.state.pools,
            max_page_size=self.state.settings.max_page_size,
            port_locode=self.state.settings.port_locode,
            audit=self.state.audit.submit,
            changes=self.state.changes,
        )
        context.operation_name = operation_name if isinstance(operation_name, str) else None
        return context


def payload_problem(payload: dict[str, Any]) -> str | None:
    if not isinstance(payload.get("query"), str):
        return "`query` must be a string"
    if not isinstance(payload.get("variables") or {}, dict):
        return "`variables` must be an object"
    if not isinstance(payload.get("operationName") or "", str):
        return "`operationName` must be a string"
    return None


def refusal(errors: list[GraphQLError], development: bool, written: str) -> list[Any]:
    """What an operation that never ran is told (a mutation: send it with POST)."""
    if any(isinstance(e.original_error, InvalidOperationTypeError) for e in errors):
        return request_error("mutations must be sent with POST", "METHOD_NOT_ALLOWED")
    return [masked(e, not development, written).formatted for e in errors]


def next_message(operation_id: str, payload: bytes) -> bytes:
    return b'{"type":"next","id":' + orjson.dumps(operation_id) + b',"payload":' + payload + b"}"


async def subscriptions_endpoint(websocket: WebSocket) -> None:
    state: AppState = websocket.app.state.harborgraph
    if PROTOCOL not in websocket.scope.get("subprotocols", []):
        await websocket.close(Close.SUBPROTOCOL_NOT_ACCEPTABLE, "Subprotocol not acceptable")
        return
    await websocket.accept(subprotocol=PROTOCOL)
    session = Session(websocket, state)
    try:
        await session.run()
    except Closing as closing:
        await session.close(closing.code, closing.reason)
    except WebSocketDisconnect:
        pass
    finally:
        session.stop()
