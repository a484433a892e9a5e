"""A page budget: refuse, before execution, a query whose nested pages could return too much.

Each field with a `first` argument is a page; what it may return is its `first` (20 when
absent, the server maximum when a variable) times the pages around it. The sum over the
document must stay under the budget: `portCalls(first: 100) { containers(first: 100) {
events(first: 100) } }` could answer a million objects and is refused, the carrier query
(25 x 20 x 3) is not.
"""

from __future__ import annotations

from collections.abc import Mapping

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    IntValueNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
)

MAX_OBJECTS = 50_000
# A mutation answers one result per item it takes: it counts as a page of that many.
MUTATION_PAGES = {"publishEvents": 1_000}
DEFAULT_PAGE = 20
VARIABLE_PAGE = 100  # a variable may ask for the server's maximum page

Composite = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType


def _page(node: FieldNode) -> int:
    for argument in node.arguments or ():
        if argument.name.value == "first":
            value = argument.value
            return int(value.value) if isinstance(value, IntValueNode) else VARIABLE_PAGE
    return DEFAULT_PAGE


class PageCost:
    """Counts what the pages under a selection set could return (fragments followed once)."""

    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]):
        self.schema = schema
        self.fragments = fragments

    def _type(self, name: str | None, fallback: Composite) -> Composite:
        found = self.schema.get_type(name) if name else None
        return found if isinstance(found, Composite) else fallback

    def _field_cost(
        self, node: FieldNode, parent: Composite, outer: int, seen: frozenset[str]
    ) -> int:
        fields = getattr(parent, "fields", {})  # a union has none of its own
        definition = fields.get(node.name.value)
        if definition is None or node.selection_set is None:
            return 0
        size = self._page_size(node, parent, definition)
        within = outer if size is None else outer * size
        returned = get_named_type(definition.type)
        inner = (
            self.cost(node.selection_set, returned, within, seen)
            if isinstance(returned, Composite)
            else 0
        )
        return (0 if size is None else within) + inner

    def _page_size(
        self, node: FieldNode, parent: Composite, definition: GraphQLField
    ) -> int | None:
        """What one call of the field may return, or None when it is no page."""
        if "first" in definition.args:
            return _page(node)
        if parent is self.schema.mutation_type:
            return MUTATION_PAGES.get(node.name.value)
        return None

    def _spread_cost(self, name: str, parent: Composite, outer: int, seen: frozenset[str]) -> int:
        fragment = self.fragments.get(name)
        if fragment is None or name in seen:
            return 0
        fragment_type = self._type(fragment.type_condition.name.value, parent)
        return self.cost(fragment.selection_set, fragment_type, outer, seen | {name})

    def cost(
        self,
        selections: SelectionSetNode,
        parent: Composite,
        outer: int = 1,
        seen: frozenset[str] = frozenset(),
    ) -> int:
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field_cost(selection, parent, outer, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    selection.type_condition.name.value if selection.type_condition else None
                )
                total += self.cost(
                    selection.selection_set, self._type(condition, parent), outer, seen
                )
            elif isinstance(selection, FragmentSpreadNode):
                total += self._spread_cost(selection.name.value, parent, outer, seen)
        return total


def over_budget(cost: int, node: Node | None = None) -> GraphQLError:
    return GraphQLError(
        f"the query's pages could return {cost:,} objects, more than {MAX_OBJECTS:,}: "
        "ask for smaller pages",
        node,
        extensions={"code": "BAD_USER_INPUT"},
    )


class PageBudget(ValidationRule):
    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        fragments = {
            f.name.value: f
            for f in context.document.definitions
            if isinstance(f, FragmentDefinitionNode)
        }
        self.pages = PageCost(context.schema, fragments)

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: object) -> None:
        schema = self.context.schema
        roots = {"query": schema.query_type, "mutation": schema.mutation_type}
        root = roots.get(node.operation.value)
        if root is None:
            return
        cost = self.pages.cost(node.selection_set, root)
        if cost > MAX_OBJECTS:
            self.report_error(over_budget(cost, node))
