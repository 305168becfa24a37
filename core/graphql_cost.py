"""What a GraphQL request costs, and the caps on what one response may hold.

**Cost** (charged to the ``graphql`` rate-limit tier by the rate-limit tween, in one hit,
before anything executes), counted in *objects* over the parsed operation:

- a leaf field (scalar, enum, or a list of them) and ``__typename`` cost 0;
- an object field costs 1 plus its selection;
- a list field costs *size* x (1 + its selection). The size is what the field declares with
  :func:`list_cost`: the value of its bounding argument (``limit``, ``first``; the argument's
  default when absent), never more than its maximum, or the maximum itself when the field has
  no such argument. A nested list that declares nothing counts
  ``interviewminds.graphql.default_list_size`` items (it is part of an object its parent already
  paid for); a *root* list that declares nothing counts ``interviewminds.graphql.max_items``,
  everything a response may hold, and is logged at startup;
- fragments and inline fragments are expanded where they are spread; ``@skip``/``@include``
  are ignored (the cost is an upper bound).

Each root field (every alias, fields of root fragments included) costs
``ceil(objects / objects_per_unit)`` units, at least 1 for a query field and at least
``interviewminds.graphql.mutation_cost`` for a mutation field; the request costs their sum.
So 30 aliases of a field cost 30 times that field, and 30 aliased mutations at least 30 units.

**Caps** (``interviewminds.graphql.max_items`` and ``max_response_bytes``): the extension
:class:`ResultCaps` counts the length of every list a resolver returns and stops the request at
the cap (later fields are not resolved); the view refuses a response body larger than the byte
cap. Either answers 413 with the documented error body (``core.graphql``).

Plugins declare their list fields' sizes without core knowing them::

    @strawberry.field(metadata=list_cost(argument="limit", maximum=50))
    def recent(self, info, limit: int = 10) -> list[Thing]: ...

    @strawberry.field(metadata=list_cost(maximum="interviewminds.things.graphql_max"))
    def things(self, info) -> list[Thing]: ...
"""
from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Union

from graphql import (FieldNode, FragmentDefinitionNode, FragmentSpreadNode, GraphQLError, GraphQLList,
                     GraphQLNonNull, GraphQLObjectType, InlineFragmentNode, OperationType, get_named_type,
                     get_operation_ast, is_leaf_type, is_list_type, parse, value_from_ast_untyped)
from graphql.pyutils import Undefined
from strawberry.extensions import SchemaExtension
from strawberry.utils.str_converters import to_camel_case

log = logging.getLogger(__name__)

COST_KEY = "interviewminds.list_cost"  # the key of a list_cost declaration in strawberry field metadata
INTROSPECTION_OBJECTS = 1  # `__schema` / `__type`: bounded by the schema, counted as one object
RECURSION_MARGIN = 5  # levels walked beyond max_depth (deeper documents are refused by the depth limiter)

Maximum = Union[int, str, Callable[[Mapping[str, Any]], int]]


@dataclass(frozen=True)
class ListCost:
    """How many items a list field may return: ``maximum`` (an int, a settings key such as
    ``interviewminds.interviews.graphql_max_interviews``, or ``settings -> int``), and the name of
    the argument that bounds it (Python or GraphQL spelling), if the field takes one."""

    maximum: Maximum
    argument: Optional[str] = None

    def resolve_maximum(self, settings: Mapping[str, Any]) -> int:
        value = self.maximum
        if isinstance(value, str):
            value = settings[value]
        elif callable(value):
            value = value(settings)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"maximum must be a non-negative integer, got {value!r}")
        return value


def list_cost(maximum: Maximum, argument: Optional[str] = None) -> dict:
    """Field metadata declaring a list field's size for the GraphQL cost:
    ``@strawberry.field(metadata=list_cost(argument="limit", maximum=50))``."""
    return {COST_KEY: ListCost(maximum, argument)}


@dataclass(frozen=True)
class _Size:
    maximum: int
    argument: Optional[str]  # GraphQL name
    default: Optional[int]   # the argument's schema default


def _declared_default(field, argument: Optional[str]) -> Optional[int]:
    arg = field.args.get(argument) if argument else None
    value = getattr(arg, "default_value", Undefined)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class CostEstimator:
    """Counts a GraphQL operation's cost in rate-limit units (see the module docstring)."""

    def __init__(self, schema, settings: Mapping[str, Any]) -> None:
        from core.plugins import PluginError

        self.schema = schema._schema  # graphql-core's schema behind strawberry's
        self.per_unit = settings["interviewminds.graphql.objects_per_unit"]
        self.default_size = settings["interviewminds.graphql.default_list_size"]
        self.mutation_cost = settings["interviewminds.graphql.mutation_cost"]
        self.max_items = settings["interviewminds.graphql.max_items"]
        self.max_tokens = settings["interviewminds.graphql.max_tokens"]
        self.max_levels = settings["interviewminds.graphql.max_depth"] + RECURSION_MARGIN
        self.sizes: dict[tuple[str, str], _Size] = {}
        roots = {t.name for t in (self.schema.query_type, self.schema.mutation_type) if t is not None}
        for type_name, gql_type in self.schema.type_map.items():
            if type_name.startswith("__") or not isinstance(gql_type, GraphQLObjectType):
                continue
            for name, field in gql_type.fields.items():
                declared = (getattr((field.extensions or {}).get("strawberry-definition"), "metadata", None)
                            or {}).get(COST_KEY)
                where = f"GraphQL field {type_name}.{name}"
                if declared is None:
                    if type_name in roots and is_list_type(_nullable(field.type)):
                        log.warning("%s declares no list_cost: it is counted as %d items "
                                    "(interviewminds.graphql.max_items)", where, self.max_items)
                        self.sizes[(type_name, name)] = _Size(self.max_items, None, None)
                    continue
                if not is_list_type(_nullable(field.type)):
                    raise PluginError(f"{where}: list_cost is declared on a field that is not a list")
                argument = None
                if declared.argument is not None:
                    argument = next((a for a in (declared.argument, to_camel_case(declared.argument))
                                     if a in field.args), None)
                    if argument is None:
                        raise PluginError(f"{where}: list_cost names the argument {declared.argument!r}, "
                                          "which the field does not take")
                try:
                    maximum = declared.resolve_maximum(settings)
                except (KeyError, ValueError, TypeError) as exc:
                    raise PluginError(f"{where}: list_cost maximum: {exc}") from None
                self.sizes[(type_name, name)] = _Size(maximum, argument, _declared_default(field, argument))

    # -- requests -------------------------------------------------------------------------------------------
    def units(self, query: Optional[str], variables: Optional[Mapping[str, Any]] = None,
              operation_name: Optional[str] = None) -> int:
        """The units one GraphQL request costs; 1 when it cannot run (nothing to parse, a syntax
        error, no such operation): the view refuses it without executing anything."""
        if not isinstance(query, str) or not query.strip():
            return 1
        try:
            document = parse(query, max_tokens=self.max_tokens)
        except (GraphQLError, RecursionError):
            return 1
        operation = get_operation_ast(document, operation_name if isinstance(operation_name, str) else None)
        if operation is None:
            return 1
        mutation = operation.operation == OperationType.MUTATION
        root = self.schema.mutation_type if mutation else (
            self.schema.query_type if operation.operation == OperationType.QUERY else None)
        if root is None:
            return 1
        walk = _Walk(self, document, operation, variables)
        floor = self.mutation_cost if mutation else 1
        total = 0
        for field_node in walk.root_fields(root, operation.selection_set):
            objects = walk.field(root, field_node, 0)
            total += max(floor, math.ceil(objects / self.per_unit))
        return max(1, total)

    def size(self, parent: str, field: str, node: FieldNode, variables: Mapping[str, Any]) -> Optional[int]:
        declared = self.sizes.get((parent, field))
        if declared is None:
            return None
        value: Any = declared.default
        if declared.argument is not None:
            for arg in node.arguments or ():
                if arg.name.value == declared.argument:
                    try:
                        value = value_from_ast_untyped(arg.value, dict(variables))
                    except Exception:  # a malformed value: execution will refuse it
                        value = None
        if isinstance(value, bool) or not isinstance(value, int):
            return declared.maximum
        return max(0, min(value, declared.maximum))


def _nullable(gql_type):
    return gql_type.of_type if isinstance(gql_type, GraphQLNonNull) else gql_type


class _Walk:
    """One operation's walk: fragments by name, variables (with the operation's defaults)."""

    def __init__(self, estimator: CostEstimator, document, operation, variables) -> None:
        self.estimator = estimator
        self.fragments = {d.name.value: d for d in document.definitions
                          if isinstance(d, FragmentDefinitionNode)}
        values: dict[str, Any] = {}
        for definition in operation.variable_definitions or ():
            if definition.default_value is not None:
                try:
                    values[definition.variable.name.value] = value_from_ast_untyped(definition.default_value)
                except Exception:
                    pass
        if isinstance(variables, Mapping):
            values.update(variables)
        self.variables = values
        self.memo: dict[tuple, int] = {}  # (fragment, type, level) -> objects: a fragment spread many times

    def _type(self, condition, fallback):
        if condition is None:
            return fallback
        found = self.estimator.schema.get_type(condition.name.value)
        return found if found is not None else fallback

    def root_fields(self, root, selection_set, seen=frozenset()):
        """The root fields, each alias separately, with root fragments expanded."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from self.root_fields(root, selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is not None and name not in seen:
                    yield from self.root_fields(root, fragment.selection_set, seen | {name})

    def selection(self, parent, selection_set, level: int, seen=frozenset()) -> int:
        if selection_set is None or level > self.estimator.max_levels:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(parent, selection, level)
            elif isinstance(selection, InlineFragmentNode):
                total += self.selection(self._type(selection.type_condition, parent), selection.selection_set,
                                        level, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                target = self._type(fragment.type_condition, parent)
                key = (name, getattr(target, "name", None), level)
                if key not in self.memo:
                    self.memo[key] = self.selection(target, fragment.selection_set, level, seen | {name})
                total += self.memo[key]
        return total

    def field(self, parent, node: FieldNode, level: int) -> int:
        name = node.name.value
        if name.startswith("__"):
            return 0 if name == "__typename" else INTROSPECTION_OBJECTS
        field = getattr(parent, "fields", {}).get(name)
        if field is None:
            return 0  # not in the schema: validation refuses the document
        named = get_named_type(field.type)
        if is_leaf_type(named):
            return 0
        objects = 1 + self.selection(named, node.selection_set, level + 1)
        gql_type = _nullable(field.type)
        first = True
        while isinstance(gql_type, GraphQLList):
            size = self.estimator.size(parent.name, name, node, self.variables) if first else None
            objects *= self.estimator.default_size if size is None else size
            first = False
            gql_type = _nullable(gql_type.of_type)
        return objects


# -- caps on what a response holds ----------------------------------------------------------------------------
class ResultTooLarge(Exception):
    """A request's response would exceed ``interviewminds.graphql.max_items`` or ``max_response_bytes``."""


class ResultCaps(SchemaExtension):
    """Counts every list a resolver returns; past ``max_items`` the request stops (413)."""

    def __init__(self, *, max_items: int) -> None:
        self.max_items = max_items
        self.items = 0

    def _refuse(self) -> ResultTooLarge:
        return ResultTooLarge(f"the response would hold more than {self.max_items} list items: "
                              "ask for fewer fields, aliases or items")

    def resolve(self, _next, root, info, *args, **kwargs):
        if self.items > self.max_items:
            raise self._refuse()  # stop resolving the rest of an oversized request
        result = _next(root, info, *args, **kwargs)
        if result is None or isinstance(result, (str, bytes, Mapping)):
            return result
        if not isinstance(result, (list, tuple)):
            if not is_list_type(_nullable(info.return_type)):
                return result
            # Any iterable a resolver gives a list field: read no more than the cap allows.
            result = list(itertools.islice(result, self.max_items - self.items + 1))
        self.items += len(result)
        if self.items > self.max_items:
            raise self._refuse()
        return result
