"""Finding 2 of the security review: GraphQL cost counted bytes, not work.

30 aliases of ``interviews(userId:)`` (500 documents each) cost 1 rate-limit unit and 30 aliased
``createInterview`` cost 3. Now the ``graphql`` tier is charged what the parsed operation may
return (``core.graphql_cost``), in one hit before anything runs, and one response holds at most
``interviewminds.graphql.max_items`` list items and ``max_response_bytes`` bytes (413 above).
"""
from __future__ import annotations

import re
import time
from typing import Optional

import pytest
import strawberry

from core.plugins import PluginError
from tests.plugins.interviews.helpers import create

PROBES = "tests.support.local_plugins.graphql_cost_probes"
# Wide tiers: each test reads what a request cost from the `graphql` tier's RateLimit header.
WIDE = {"ratelimit.limits": "general=100000/minute graphql=50000/minute"}
INTERVIEWS = 'query($u: String!) { interviews(userId: $u) { id } }'


def remaining(response) -> int:
    return int(re.search(r"remaining=(\d+)", response.headers["RateLimit"]).group(1))


def cost_of(app, body: dict, headers=None, status=200) -> int:
    """Units one request took from the graphql tier (the tier closest to exhaustion)."""
    before = remaining(app.post_json("/graphql", {"query": "{ me { userId } }"}, headers=headers))
    response = app.post_json("/graphql", body, headers=headers, status=status)
    return before - remaining(response)


def aliases(field: str, count: int) -> str:
    return " ".join(f"a{i}: {field}" for i in range(count))


@pytest.fixture
def app(make_app):
    return make_app(plugins=["interviews"], **WIDE)


# -- the review's requests ---------------------------------------------------------------------------------
def test_thirty_aliased_interviews_cost_thirty_times_one(app):
    alice = app.auth("alice", "interviewer")
    one = cost_of(app, {"query": INTERVIEWS, "variables": {"u": "alice"}}, alice)
    thirty = cost_of(app, {"query": "query($u: String!) { %s }" % aliases("interviews(userId: $u) { id }", 30),
                           "variables": {"u": "alice"}}, alice)
    trivial = cost_of(app, {"query": "{ me { userId } }"}, alice)
    assert trivial == 1
    assert one >= 5  # up to 500 interviews (graphql_max_interviews) at 100 objects per unit
    assert thirty >= 30 * one


def test_thirty_aliased_create_interview_cost_thirty_units(app):
    alice = app.auth("alice", "interviewer")
    field = 'createInterview(input: {title: "t", role: "r", difficulty: "easy"}) { id }'
    assert cost_of(app, {"query": "mutation { %s }" % aliases(field, 30)}, alice) >= 30


def test_a_request_over_the_whole_window_is_413_before_anything_runs(make_app):
    app = make_app(plugins=["interviews"], **{"ratelimit.limits": "general=1000/minute graphql=20/minute"})
    alice = app.auth("alice", "interviewer")
    field = 'createInterview(input: {title: "t", role: "r", difficulty: "easy"}) { id }'
    refused = app.post_json("/graphql", {"query": "mutation { %s }" % aliases(field, 30)}, headers=alice, status=413)
    assert refused.json["error"] == "this request costs 30, more than the graphql tier's 20 per 60s"
    assert refused.json["correlationId"] == refused.headers["X-Correlation-ID"]
    listed = app.post_json("/graphql", {"query": INTERVIEWS, "variables": {"u": "alice"}}, headers=alice).json
    assert listed == {"data": {"interviews": []}}  # none of the 30 ran
    query = "query($u: String!) { %s }" % aliases("interviews(userId: $u) { id }", 5)  # 5 x 5 units
    app.post_json("/graphql", {"query": query, "variables": {"u": "alice"}}, headers=alice, status=413)


def test_the_rate_limit_refuses_with_429_once_spent(make_app):
    app = make_app(plugins=["interviews"], **{"ratelimit.limits": "general=1000/minute graphql=12/minute"})
    alice = app.auth("alice", "interviewer")
    body = {"query": INTERVIEWS, "variables": {"u": "alice"}}
    app.post_json("/graphql", body, headers=alice)  # 5
    app.post_json("/graphql", body, headers=alice)  # 10
    denied = app.post_json("/graphql", body, headers=alice, status=429)
    assert denied.json["error"] == "rate limit exceeded for the graphql tier" and denied.headers["Retry-After"]


# -- the cost model over HTTP ----------------------------------------------------------------------------------
def test_sizes_come_from_the_argument_its_default_and_the_maximum(make_app):
    app = make_app(plugins=[PROBES], **WIDE, **{"graphql.objects_per_unit": "1"})  # units = objects
    assert cost_of(app, {"query": "{ probeItems { n } }"}) == 4  # the argument's default
    assert cost_of(app, {"query": "{ probeItems(first: 7) { n } }"}) == 7
    assert cost_of(app, {"query": "{ probeItems(first: 9999) { n } }"}) == 10  # never above the maximum
    assert cost_of(app, {"query": "query($f: Int) { probeItems(first: $f) { n } }", "variables": {"f": 2}}) == 2
    assert cost_of(app, {"query": "query($f: Int = 3) { probeItems(first: $f) { n } }"}) == 3
    # nested: each item is 1 plus its selection; an undeclared nested list counts default_list_size (1)
    assert cost_of(app, {"query": "{ probeItems(first: 5) { children { n } } }"}) == 5 * (1 + 1)
    # an undeclared root list may return everything a response may hold
    assert cost_of(app, {"query": "{ probeUndeclared { n } }"}) == 10000
    # fragments count where they are spread; root fragments count per field
    assert cost_of(app, {"query": "{ ...F ...F } fragment F on Query { probeItems(first: 2) { n } }"}) == 4
    # a mutation field costs at least mutation_cost, each alias
    assert cost_of(app, {"query": "mutation { a: probeTouch b: probeTouch c: probeTouch }"}) == 3


def test_default_list_size_and_objects_per_unit_are_settings(make_app):
    app = make_app(plugins=[PROBES], **WIDE, **{"graphql.objects_per_unit": "5", "graphql.default_list_size": "3"})
    assert cost_of(app, {"query": "{ probeItems(first: 10) { children { n } } }"}) == 8  # 10 x (1 + 3) = 40
    assert cost_of(app, {"query": "{ probeItems(first: 1) { n } }"}) == 1  # at least 1 per root field


def test_a_request_the_view_refuses_costs_one(make_app):
    app = make_app(plugins=[PROBES], **WIDE)
    assert cost_of(app, {"query": "{ probeItems(first: 10) { n "}, status=200) == 1  # syntax error
    assert cost_of(app, {"query": "{ probeItems { n } }", "operationName": "Nope"}, status=400) == 1


# -- caps on one response ------------------------------------------------------------------------------------------
def test_one_request_returns_no_more_than_max_items(make_app):
    app = make_app(plugins=["interviews", PROBES], **WIDE, **{"graphql.max_items": "5"})
    for _ in range(3):
        create(app, "alice")
    alice = app.auth("alice")
    body = app.post_json("/graphql", {"query": INTERVIEWS, "variables": {"u": "alice"}}, headers=alice).json
    assert len(body["data"]["interviews"]) == 3
    query = "query($u: String!) { a: interviews(userId: $u) { id } b: interviews(userId: $u) { id } }"
    refused = app.post_json("/graphql", {"query": query, "variables": {"u": "alice"}}, headers=alice, status=413)
    assert refused.json == {"error": "the response would hold more than 5 list items: ask for fewer fields, "
                                     "aliases or items", "correlationId": refused.headers["X-Correlation-ID"]}
    # A resolver that hands back a generator is counted too, and read no further than the cap.
    app.post_json("/graphql", {"query": "{ probeGenerated }"}, status=413)


def test_one_request_returns_no_more_than_max_response_bytes(make_app):
    app = make_app(plugins=["interviews"], **WIDE, **{"graphql.max_response_bytes": "4096"})
    create(app, "alice", metadata={"notes": "x" * 3000})
    alice = app.auth("alice")
    one = app.post_json("/graphql", {"query": "query($u: String!) { interviews(userId: $u) { metadata } }",
                                     "variables": {"u": "alice"}}, headers=alice)
    assert len(one.body) < 4096
    query = "query($u: String!) { a: interviews(userId: $u) { metadata } b: interviews(userId: $u) { metadata } }"
    refused = app.post_json("/graphql", {"query": query, "variables": {"u": "alice"}}, headers=alice, status=413)
    assert refused.json["error"] == ("the response would be larger than 4096 bytes: ask for fewer fields, "
                                     "aliases or items")


# -- the estimator alone -----------------------------------------------------------------------------------------
SETTINGS = {"interviewminds.graphql.objects_per_unit": 1, "interviewminds.graphql.default_list_size": 1,
            "interviewminds.graphql.mutation_cost": 1, "interviewminds.graphql.max_items": 10000,
            "interviewminds.graphql.max_tokens": 2000, "interviewminds.graphql.max_depth": 10,
            "interviewminds.test.page": 40}


@strawberry.type
class Leaf:
    name: str

    @strawberry.field
    def next(self) -> Optional["Leaf"]:
        return None

    @strawberry.field
    def many(self) -> list["Leaf"]:
        return []


def query_type():
    from core.graphql_cost import list_cost

    @strawberry.type
    class Query:
        @strawberry.field(metadata=list_cost(argument="page_size", maximum="interviewminds.test.page"))
        def pages(self, page_size: int = 5) -> list[Leaf]:
            return []

        @strawberry.field
        def one(self) -> Leaf:
            return Leaf(name="x")

    return Query


def estimator(root=None, **settings):
    from core.graphql_cost import CostEstimator

    return CostEstimator(strawberry.Schema(query=root or query_type()), {**SETTINGS, **settings})


def test_python_argument_names_and_settings_maximum():
    cost = estimator()
    assert cost.units("{ pages { name } }") == 5
    assert cost.units("{ pages(pageSize: 100) { name } }") == 40
    assert cost.units("{ pages(pageSize: 100) { name } }") == 40
    assert cost.units("{ one { name } }") == 1
    assert cost.units("{ one { many { name } } }") == 2
    assert cost.units("{ __schema { types { name } } }") == 1  # introspection: flat
    assert cost.units("{ __typename }") == 1


def test_fragment_fan_out_is_counted_without_walking_it_exponentially():
    cost = estimator()
    fragments = "".join(f"fragment F{i} on Leaf {{ ...F{i + 1} ...F{i + 1} }} " for i in range(40))
    query = "{ pages(pageSize: 1) { ...F0 } } " + fragments + "fragment F40 on Leaf { name }"
    started = time.perf_counter()
    assert cost.units(query) == 1
    assert time.perf_counter() - started < 1.0
    # cycles (invalid, refused by validation) end the walk instead of recursing forever
    assert cost.units("{ pages { ...A } } fragment A on Leaf { ...B } fragment B on Leaf { ...A }") == 5


def test_deep_documents_stop_at_the_depth_limit():
    cost = estimator(**{"interviewminds.graphql.max_depth": 3})
    deep = "{ pages(pageSize: 2) { " + "many { " * 100 + "name" + " }" * 100 + " } }"
    assert cost.units(deep) >= 2


@pytest.mark.parametrize("declaration,reason", [
    ({"maximum": "interviewminds.test.nope"}, "list_cost maximum: 'interviewminds.test.nope'"),
    ({"maximum": 5, "argument": "limit"}, "names the argument 'limit', which the field does not take"),
    ({"maximum": -1}, "maximum must be a non-negative integer"),
])
def test_bad_declarations_stop_startup_naming_the_field(declaration, reason):
    from core.graphql_cost import list_cost

    @strawberry.type
    class Bad:
        @strawberry.field(metadata=list_cost(**declaration))
        def things(self) -> list[Leaf]:
            return []

    with pytest.raises(PluginError, match="GraphQL field Bad.things: .*" + re.escape(reason)):
        estimator(Bad)


def test_list_cost_on_a_field_that_is_not_a_list_stops_startup():
    from core.graphql_cost import list_cost

    @strawberry.type
    class Bad:
        @strawberry.field(metadata=list_cost(maximum=5))
        def thing(self) -> Leaf:
            return Leaf(name="x")

    with pytest.raises(PluginError, match="GraphQL field Bad.thing: list_cost is declared on a field that is not"):
        estimator(Bad)
