"""A request's objects go by reference counting: none is left for the cyclic collector."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from aiodataloader import DataLoader

from schema.context import Context
from schema.execution import AcyclicExecutionContext
from schema.loaders import Loaders
from tests.conftest import Api, Tokens

QUERY = """
query Calls {
  portCalls(first: 3) { edges { node { id vessel { imo name } terminal { smdgCode }
    containers(first: 2) { edges { node { number events(first: 1) { edges { node {
      eventType } } } } } } } } }
}
"""
REQUEST_TYPES = (AcyclicExecutionContext, Context, Loaders, DataLoader)


@contextmanager
def cyclic_garbage() -> Iterator[list[object]]:
    """What the block leaves only the cyclic collector could free (collector off meanwhile)."""
    gc.collect()
    gc.disable()
    found: list[object] = []
    try:
        yield found
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        found.extend(o for o in gc.garbage if isinstance(o, REQUEST_TYPES))
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()


@pytest.mark.parametrize("path", ["compiled", "resolvers"])
async def test_a_request_leaves_no_cycles(
    api: Api, resolver_api: Api, tokens: Tokens, path: str
) -> None:
    client = api if path == "compiled" else resolver_api
    _, token = tokens.partner("CARRIER")
    await client.post(QUERY, token=token)  # first use: caches, prepared statements
    with cyclic_garbage() as left:
        for _ in range(3):
            answer = await client.post(QUERY, token=token)
            assert answer.status_code == 200
            assert answer.json()["data"]["portCalls"]["edges"]
    assert [type(o).__name__ for o in left] == []
