"""The execution context every query runs in: graphql-core's, without its reference cycle.

graphql-core's context keeps its own bound methods (`async_helpers`), so it is always cyclic
garbage, and with it the request's Context, loaders and variables: they wait for the cyclic
collector, whose generation-0 runs then take tens of milliseconds under load and make the
latency's tail. The helpers here reach the context through a weak reference, so a request's
objects go by reference counting the moment it ends.
"""

from __future__ import annotations

import weakref
from functools import partial
from typing import Any

from graphql import GraphQLResolveInfoHelpers
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class AcyclicExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Resolvers call the helpers only while the execution (and so the context) lives.
        me = weakref.proxy(self)
        kind = type(self)
        self.async_helpers = GraphQLResolveInfoHelpers(
            gather=partial(kind.gather_async_work, me), track=partial(kind.track_async_work, me)
        )
