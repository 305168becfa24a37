"""Admin routes: users and roles, and the audit log. Admin permissions only."""
from __future__ import annotations

import marshmallow
from marshmallow import fields, validate

from core.audit import AuditEntry
from core.auth.users import ROLES, User, set_role
from core.errors import Forbidden
from core.http.service import Service
from core.http.validation import StrictSchema, UtcDateTime, querystring_validator

MAX_PAGE_SIZE = 200


class PageSchema(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100000))
    pageSize = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))


class UsersQuery(PageSchema):
    role = fields.String(validate=validate.OneOf(ROLES))


class RoleAssignment(StrictSchema):
    userId = fields.String(required=True, validate=validate.Length(min=1, max=200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class AuditQuery(PageSchema):
    userId = fields.String(validate=validate.Length(max=200))
    action = fields.String(validate=validate.Length(max=300))
    resource = fields.String(validate=validate.Length(max=500))
    status = fields.String(validate=validate.OneOf(("success", "failure", "denied")))
    start = UtcDateTime(data_key="from")
    end = UtcDateTime(data_key="to")

    @marshmallow.validates_schema
    def range_is_ordered(self, data, **kwargs):
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            raise marshmallow.ValidationError("'from' must not be after 'to'", "from")


def page_of(queryset, page: int, size: int, to_json) -> dict:
    total = queryset.count()
    items = [to_json(doc) for doc in queryset.skip((page - 1) * size).limit(size)]
    return {"items": items, "page": page, "pageSize": size, "total": total}


users = Service(name="core.admin.users", path="/api/admin/users", description="Users and roles")
roles = Service(name="core.admin.roles", path="/api/admin/roles", description="Assign a role")
audit_logs = Service(name="core.admin.audit", path="/api/admin/audit-logs", description="The audit log")


@users.get(permission="admin:users", schema=UsersQuery, validators=(querystring_validator,))
def list_users(request):
    q = request.validated
    queryset = User.objects(role=q["role"]) if q.get("role") else User.objects
    return page_of(queryset.order_by("user_id"), q["page"], q["pageSize"], User.to_json)


@roles.post(permission="admin:roles", schema=RoleAssignment)
def assign_role(request):
    data = request.validated
    if data["userId"] == request.identity.user_id:
        # Nobody changes their own role through the API: no self-promotion, no lock-out.
        raise Forbidden("you cannot change your own role")
    request.audit_resource = f"user:{data['userId']}"
    user = set_role(data["userId"], data["role"], by=request.identity.user_id)
    return user.to_json()


@audit_logs.get(permission="audit:read", schema=AuditQuery, validators=(querystring_validator,))
def list_audit(request):
    q = request.validated
    filters = {key: q[param] for key, param in (("user_id", "userId"), ("action", "action"),
                                                 ("resource", "resource"), ("status", "status")) if q.get(param)}
    if q.get("start"):
        filters["time__gte"] = q["start"]
    if q.get("end"):
        filters["time__lte"] = q["end"]
    return page_of(AuditEntry.objects(**filters).order_by("-time"), q["page"], q["pageSize"], AuditEntry.to_json)


def includeme(config):
    for service in (users, roles, audit_logs):
        config.add_cornice_service(service)
