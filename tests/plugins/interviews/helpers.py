"""Shared helpers for the interviews plugin tests."""
from __future__ import annotations

PLUGINS = ["interviews", "tests.plugins.interviews.event_log"]
NO_RATE_LIMIT = {"ratelimit.enabled": "false"}


def create(app, user: str, as_role: str = "candidate", expect: int = 201, **fields) -> dict:
    """POST /api/interview as ``user`` (with role ``as_role``) and return the body."""
    body = {"title": "Backend screen", "role": "Backend Engineer", "difficulty": "medium"}
    body.update(fields)
    return app.post_json("/api/interview", body, headers=app.auth(user, as_role), status=expect).json


def put(app, interview: dict, user: str, as_role: str = "candidate", expect: int = 200, **changes) -> dict:
    """PUT /api/interview/{id} with If-Match set to the interview's version; ``expect`` is the status."""
    headers = dict(app.auth(user, as_role))
    headers["If-Match"] = f'"{interview["version"]}"'
    return app.put_json(f"/api/interview/{interview['id']}", changes, headers=headers, status=expect).json


def gql(app, query: str, variables: dict | None = None, user: str | None = None, role: str = "candidate") -> dict:
    """POST /graphql and return the JSON body."""
    headers = app.auth(user, role) if user else {}
    return app.post_json("/graphql", {"query": query, "variables": variables or {}}, headers=headers).json


def db_name(app) -> str:
    return app.registry.settings["interviewminds.mongo.uri"].rsplit("/", 1)[-1].split("?")[0]
