"""GraphQL lists sized for the cost tests (tests/security/test_graphql_cost.py): one declared
with an argument, one undeclared (a root list is then counted as ``max_items``), one whose
resolver returns a generator, and a mutation.
"""
from __future__ import annotations

import strawberry

from core import GraphQLContribution, hookimpl
from core.graphql_cost import list_cost

GENERATED = 50


@strawberry.type
class ProbeItem:
    n: int

    @strawberry.field
    def children(self) -> list["ProbeItem"]:
        return [ProbeItem(n=self.n * 10 + i) for i in range(2)]


@strawberry.type
class CostProbeQuery:
    @strawberry.field(metadata=list_cost(argument="first", maximum=10))
    def probe_items(self, first: int = 4) -> list[ProbeItem]:
        return [ProbeItem(n=i) for i in range(min(first, 10))]

    @strawberry.field
    def probe_undeclared(self) -> list[ProbeItem]:
        return [ProbeItem(n=1)]

    @strawberry.field(metadata=list_cost(maximum=GENERATED))
    def probe_generated(self) -> list[int]:
        return (i for i in range(GENERATED))  # type: ignore[return-value]


@strawberry.type
class CostProbeMutation:
    @strawberry.mutation
    def probe_touch(self) -> int:
        return 1


@hookimpl
def interviewminds_graphql(settings):
    return GraphQLContribution(query=(CostProbeQuery,), mutation=(CostProbeMutation,))
