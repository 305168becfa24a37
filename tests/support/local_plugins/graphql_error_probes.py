"""GraphQL fields that fail the ways a real resolver can (tests/security/test_error_masking.py):
a driver error, a GraphQLError around driver text (with extensions of its own), an Int that does
not fit GraphQL's 32 bits, bson's OverflowError, and a domain error.
"""
from __future__ import annotations

from typing import Optional

import pymongo.errors
import strawberry
from graphql import GraphQLError

from core import GraphQLContribution, NotFound, hookimpl

DRIVER_TEXT = "E11000 duplicate key error collection: interviewminds.users index: secret_1 dup key"
OVERFLOW_TEXT = "MongoDB can only handle up to 8-byte ints"


@strawberry.type
class ErrorProbeQuery:
    @strawberry.field
    def probe_driver_error(self) -> Optional[str]:
        raise pymongo.errors.OperationFailure(DRIVER_TEXT, code=11000, details={"errmsg": DRIVER_TEXT})

    @strawberry.field
    def probe_wrapped_error(self) -> Optional[str]:
        raise GraphQLError(DRIVER_TEXT, extensions={"errmsg": DRIVER_TEXT})

    @strawberry.field
    def probe_huge_int(self) -> Optional[int]:
        return 2 ** 40

    @strawberry.field
    def probe_overflow(self) -> Optional[str]:
        raise OverflowError(OVERFLOW_TEXT)

    @strawberry.field
    def probe_not_found(self) -> Optional[str]:
        raise NotFound("probe not found")

    @strawberry.field
    def probe_echo(self, n: int) -> int:
        return n


@hookimpl
def interviewminds_graphql(settings):
    return GraphQLContribution(query=(ErrorProbeQuery,))
