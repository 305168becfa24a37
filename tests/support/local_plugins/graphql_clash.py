"""Contributes a GraphQL field the sample plugin contributes too."""
import strawberry

from core import GraphQLContribution, hookimpl


@strawberry.type
class ClashQuery:
    @strawberry.field
    def sample_greeting(self) -> str:
        return "clash"


@hookimpl
def interviewminds_graphql(settings):
    return GraphQLContribution(query=(ClashQuery,))
