"""Contributes a Mutation field and a recursive query type, to test mutations and depth limits."""
from __future__ import annotations

import strawberry

from core import GraphQLContribution, hookimpl


@strawberry.type
class Node:
    name: str

    @strawberry.field
    def child(self) -> Node:
        return Node(name=self.name + "+")


@strawberry.type
class TreeQuery:
    @strawberry.field
    def tree(self) -> Node:
        return Node(name="root")


@strawberry.type
class BumpMutation:
    @strawberry.mutation
    def bump(self) -> int:
        return 1


@hookimpl
def interviewminds_graphql(settings):
    return GraphQLContribution(query=(TreeQuery,), mutation=(BumpMutation,))
