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

from resolvers.paging import Page

T = TypeVar("T")

First = Annotated[
    int | None,
    strawberry.argument(description="Page size: at most the server's maximum (default 20)."),
]
After = Annotated[
    str | None,
    strawberry.argument(description="Return items after this cursor (a previous `endCursor`)."),
]
R = TypeVar("R")

DEFAULT_PAGE_SIZE = 20
BAD_CURSOR = "BAD_USER_INPUT"


@strawberry.type(description="Where a page sits in its list.")
class PageInfo:
    has_next_page: bool = strawberry.field(description="More items follow this page.")
    has_previous_page: bool = strawberry.field(
        description="Items precede this page (true whenever `after` was given)."
    )
    start_cursor: str | None = strawberry.field(description="Cursor of the first item.")
    end_cursor: str | None = strawberry.field(
        description="Cursor of the last item: pass it as `after` for the next page."
    )


@strawberry.type(description="An item of a page and its cursor.")
class Edge(Generic[T]):
    cursor: str = strawberry.field(description="Opaque position of this item.")
    node: T = strawberry.field(description="The item.")


@strawberry.type(description="A page of a list, Relay-style.")
class Connection(Generic[T]):
    edges: list[Edge[T]] = strawberry.field(description="The items with their cursors.")
    page_info: PageInfo = strawberry.field(description="Where this page sits in the list.")

    @strawberry.field(description="The items, without cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int, argument: str = "after") -> list[Any] | None:
    """The key a cursor holds, or a GraphQL error naming the argument."""
    if cursor is None:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != arity:
        raise GraphQLError(
            f"`{argument}` is not a cursor from this list", extensions={"code": BAD_CURSOR}
        )
    return key


def bad_cursor(argument: str = "after") -> GraphQLError:
    return GraphQLError(
        f"`{argument}` is not a cursor from this list", extensions={"code": BAD_CURSOR}
    )


def page_size(first: int | None, maximum: int, argument: str = "first") -> int:
    if first is None:
        return min(DEFAULT_PAGE_SIZE, maximum)
    if not 0 <= first <= maximum:
        raise GraphQLError(
            f"`{argument}` must be between 0 and {maximum}, got {first}",
            extensions={"code": BAD_CURSOR},
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
    edges = [Edge(cursor=encode_cursor(key), node=to_node(row)) for row, key in page.items]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next,
            has_previous_page=after_given,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
    )
