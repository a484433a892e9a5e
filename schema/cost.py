"""A page budget: refuse, before execution, a query whose nested pages could return too much.

Each field with a `first` argument is a page; what it may return is its `first` (20 when
absent, the server maximum when a variable) times the pages around it. The sum over the
document must stay under the budget: `portCalls(first: 100) { containers(first: 100) {
events(first: 100) } }` could answer a million objects and is refused, the carrier query
(25 x 20 x 3) is not.
"""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLObjectType,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
    get_named_type,
)

MAX_OBJECTS = 50_000
DEFAULT_PAGE = 20
VARIABLE_PAGE = 100  # a variable may ask for the server's maximum page

Composite = GraphQLObjectType | GraphQLInterfaceType


def _page(node: FieldNode) -> int:
    for argument in node.arguments or ():
        if argument.name.value == "first":
            value = argument.value
            return int(value.value) if isinstance(value, IntValueNode) else VARIABLE_PAGE
    return DEFAULT_PAGE


class PageBudget(ValidationRule):
    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.fragments = {
            f.name.value: f
            for f in context.document.definitions
            if isinstance(f, FragmentDefinitionNode)
        }

    def _type(self, name: str | None, fallback: Composite) -> Composite:
        found = self.context.schema.get_type(name) if name else None
        return found if isinstance(found, Composite) else fallback

    def _field_cost(
        self, node: FieldNode, parent: Composite, outer: int, seen: frozenset[str]
    ) -> int:
        definition = parent.fields.get(node.name.value)
        if definition is None or node.selection_set is None:
            return 0
        paged = "first" in definition.args
        within = outer * _page(node) if paged else outer
        returned = get_named_type(definition.type)
        inner = (
            self._cost(node.selection_set, returned, within, seen)
            if isinstance(returned, Composite)
            else 0
        )
        return (within if paged else 0) + inner

    def _cost(
        self, selections: SelectionSetNode, parent: Composite, outer: int, seen: frozenset[str]
    ) -> int:
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += self._field_cost(selection, parent, outer, seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = (
                    selection.type_condition.name.value if selection.type_condition else None
                )
                total += self._cost(
                    selection.selection_set, self._type(condition, parent), outer, seen
                )
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in seen:
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    fragment_type = self._type(fragment.type_condition.name.value, parent)
                    total += self._cost(
                        fragment.selection_set, fragment_type, outer, seen | {selection.name.value}
                    )
        return total

    def enter_operation_definition(self, node: OperationDefinitionNode, *_args: object) -> None:
        root = self.context.schema.query_type
        if root is None or node.operation.value != "query":
            return
        cost = self._cost(node.selection_set, root, 1, frozenset())
        if cost > MAX_OBJECTS:
            self.report_error(
                GraphQLError(
                    f"the query's pages could return {cost:,} objects, more than {MAX_OBJECTS:,}: "
                    "ask for smaller pages",
                    node,
                    extensions={"code": "BAD_USER_INPUT"},
                )
            )
