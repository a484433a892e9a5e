"""Relay connections over keyset pagination, with opaque cursors."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError

from resolvers.paging import Page, make_page
from schema.inputs import BAD_USER_INPUT, bad_cursor

T = TypeVar("T")
R = TypeVar("R")

First = Annotated[
    int | None,
    strawberry.argument(
        description="Page size: from 0 to the server's maximum page size; 20 when omitted."
    ),
]
After = Annotated[
    str | None,
    strawberry.argument(description="Return the items after this cursor (`pageInfo.endCursor`)."),
]

DEFAULT_PAGE_SIZE = 20
MAX_CURSOR_LENGTH = 512


# Cursors are encoded only when asked for: most partner queries select nodes, not cursors.
@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="Items precede this page (true whenever `after` was given)."
    )
    first_key: strawberry.Private[tuple[Any, ...] | None]
    last_key: strawberry.Private[tuple[Any, ...] | None]

    @strawberry.field(description="Cursor of the first item.")
    def start_cursor(self) -> str | None:
        return None if self.first_key is None else encode_cursor(self.first_key)

    @strawberry.field(description="Cursor of the last item: pass it as `after` for the next page.")
    def end_cursor(self) -> str | None:
        return None if self.last_key is None else encode_cursor(self.last_key)


@strawberry.type(description="An item of a page and its cursor.")
class Edge(Generic[T]):
    @strawberry.field(description="Opaque position of this item.")
    def cursor(self) -> str:
        return encode_cursor(self.key)

    node: T = strawberry.field(description="The item.")
    key: strawberry.Private[tuple[Any, ...]]


@strawberry.type(description="A page of a list, Relay-style.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items with their cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")

    @strawberry.field(description="The items, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def encode_cursor(key: Sequence[Any]) -> str:
    # Not ASCII-escaped: the compiled path writes the same cursor in SQL (to_json).
    raw = json.dumps(list(key), separators=(",", ":"), default=str, ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int, argument: str = "after") -> list[Any] | None:
    """The key a cursor holds, or a GraphQL error naming the argument."""
    if cursor is None:
        return None
    if len(cursor) > MAX_CURSOR_LENGTH:  # ours are short: a long one is forged
        raise bad_cursor(argument)
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        key = None
    if not isinstance(key, list) or len(key) != arity:
        raise bad_cursor(argument)
    return key


def page_size(first: int | None, maximum: int, argument: str = "first") -> int:
    if first is None:
        return min(DEFAULT_PAGE_SIZE, maximum)
    if not 0 <= first <= maximum:
        raise GraphQLError(
            f"`{argument}` must be between 0 and {maximum}, got {first}",
            extensions={"code": BAD_USER_INPUT},
        )
    return first


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Validated paging arguments: size and the decoded `after` key."""

    size: int
    after: list[Any] | None


def page_request(first: int | None, after: str | None, arity: int, maximum: int) -> PageRequest:
    return PageRequest(page_size(first, maximum), decode_cursor(after, arity))


def connection(page: Page[R], to_node: Callable[[R], T], after_given: bool) -> Connection[T]:
    """Build a connection from a fetched page (rows fetched with one extra to see the next)."""
    edges = [Edge(node=to_node(row), key=key) for row, key in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=after_given,
            first_key=edges[0].key if edges else None,
            last_key=edges[-1].key if edges else None,
        ),
    )


def rows_connection(
    rows: Sequence[R],
    request: PageRequest,
    key: Callable[[R], tuple[Any, ...]],
    to_node: Callable[[R], T],
) -> Connection[T]:
    """A connection from rows fetched with LIMIT size + 1, `key` giving each row's cursor."""
    page = make_page(rows, request.size, key)
    return connection(page, to_node, request.after is not None)
