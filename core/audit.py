"""The audit log: one entry for every mutating request and every permission denial.

Entries are written by a tween once the response exists; a failing write never fails the
request and is counted in ``interviewminds_audit_write_failures_total``. Retention is a
periodic purge job (``core.audit_purge``), since FerretDB has no TTL indexes.
"""
from __future__ import annotations

import datetime as dt
import logging

import mongoengine as me
from core.clock import utcnow

log = logging.getLogger(__name__)

MUTATING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class AuditEntry(me.Document):
    user_id = me.StringField(max_length=200)
    role = me.StringField(max_length=40)
    action = me.StringField(required=True, max_length=300)
    resource = me.StringField(max_length=500)
    status = me.StringField(required=True, choices=("success", "failure", "denied"))
    status_code = me.IntField(required=True)
    ip = me.StringField(max_length=64)
    user_agent = me.StringField(max_length=400)
    correlation_id = me.StringField(max_length=64)
    time = me.DateTimeField(required=True, default=utcnow)
    day = me.StringField(max_length=10)  # stored for reports that group by day

    meta = {
        "collection": "core_audit",
        "indexes": ["-time", ("user_id", "-time"), ("action", "-time"), ("status", "-time"), ("resource", "-time")],
        "auto_create_index": False,
    }

    def to_json(self) -> dict:
        return {
            "id": str(self.id), "userId": self.user_id, "role": self.role, "action": self.action,
            "resource": self.resource, "status": self.status, "statusCode": self.status_code, "ip": self.ip,
            "userAgent": self.user_agent, "correlationId": self.correlation_id, "time": self.time,
        }


def status_of(code: int) -> str:
    if code in (401, 403):
        return "denied"
    return "success" if code < 400 else "failure"


def entry_for(request, response) -> AuditEntry | None:
    """The entry this request deserves, or None (safe requests that were not denied)."""
    code = response.status_int
    if request.method not in MUTATING and code not in (401, 403):
        return None
    try:
        identity = request.identity
    except Exception:  # the store that holds roles may be the thing that is down
        identity = None
    route = request.matched_route
    action = f"{request.method} {route.pattern if route is not None else request.path}"
    now = utcnow()
    return AuditEntry(
        user_id=identity.user_id if identity else None,
        role=identity.role if identity else None,
        action=action[:300],
        resource=str(getattr(request, "audit_resource", None) or request.path)[:500],
        status=status_of(code),
        status_code=code,
        ip=(request.client_addr or "")[:64],
        user_agent=(request.user_agent or "")[:400],
        correlation_id=getattr(request, "correlation_id", None),
        time=now,
        day=now.strftime("%Y-%m-%d"),
    )


def audit_tween_factory(handler, registry):
    from core.lookup import METRICS, find_service

    failures = find_service(registry, METRICS).audit_failures

    def audit_tween(request):
        response = handler(request)
        try:
            entry = entry_for(request, response)
            if entry is not None:
                entry.save()
        except Exception as exc:  # auditing must never fail the request
            failures.inc()
            log.warning("audit write failed (%s): %s", type(exc).__name__, exc)
        return response

    return audit_tween


def purge_audit(ctx) -> int:
    """Job: delete entries older than ``interviewminds.audit.retention_days``."""
    cutoff = utcnow() - dt.timedelta(days=ctx.settings["interviewminds.audit.retention_days"])
    return AuditEntry.objects(time__lt=cutoff).delete()


def includeme(config):
    # Under the metrics tween and over the exception views, so it sees every final status.
    config.add_tween("core.audit.audit_tween_factory", under="core.http.tweens.metrics_tween_factory",
                     over="core.http.tweens.body_and_cors_tween_factory")
