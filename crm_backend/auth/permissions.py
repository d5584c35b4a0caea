"""The permission matrix: which role may do what. API keys carry the same permissions as scopes.

docs/permissions.md is generated from this module (`crm docs permissions`); a test keeps
the two equal.
"""

from enum import StrEnum

from crm_backend.auth.models import Role


class Permission(StrEnum):
    customers_read = "customers:read"
    customers_write = "customers:write"
    products_read = "products:read"
    products_write = "products:write"
    orders_read = "orders:read"
    orders_write = "orders:write"
    tickets_read = "tickets:read"
    tickets_write = "tickets:write"
    campaigns_read = "campaigns:read"
    campaigns_write = "campaigns:write"
    conversations_read = "conversations:read"
    conversations_write = "conversations:write"
    reports_read = "reports:read"
    models_train = "models:train"
    data_import = "data:import"
    data_export = "data:export"
    identity_verify = "identity:verify"
    identity_issue = "identity:issue"
    offers_show = "offers:show"
    gdpr = "gdpr"
    audit_read = "audit:read"
    users_admin = "users:admin"


P = Permission
_READ_ALL = {P.customers_read, P.products_read, P.orders_read, P.tickets_read,
             P.campaigns_read, P.conversations_read}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.admin: frozenset(Permission),
    Role.manager: frozenset(set(Permission) - {P.users_admin}),
    Role.agent: frozenset(_READ_ALL | {P.customers_write, P.orders_write, P.tickets_write,
                                       P.conversations_write}),
    Role.analyst: frozenset(_READ_ALL | {P.reports_read, P.data_export}),
}

DESCRIPTIONS: dict[Permission, str] = {
    P.customers_read: "List, search and read customers",
    P.customers_write: "Create and edit customers and their tags and consent",
    P.products_read: "List and read products",
    P.products_write: "Create and edit products",
    P.orders_read: "List and read orders",
    P.orders_write: "Create orders and move them through their statuses",
    P.tickets_read: "List and read tickets and their messages",
    P.tickets_write: "Create, assign, answer and resolve tickets",
    P.campaigns_read: "List and read campaigns and their contacts",
    P.campaigns_write: "Create campaigns, enrol audiences, record contact events",
    P.conversations_read: "Read channel conversations",
    P.conversations_write: "Record conversations and link them to customers",
    P.reports_read: "Sales, ticket and campaign reports; scoring models, segments, figures",
    P.models_train: "Train scoring models, batch-score customers, roll a model back",
    P.data_import: "CSV import of customers, products and orders",
    P.data_export: "CSV export of customers, products and orders",
    P.identity_verify: "Check that a chat customer is who they claim (email and order "
                         "number, or a signed customer token)",
    P.identity_issue: "Sign customer tokens for the shop's logged-in customers",
    P.offers_show: "Pick the offers to show a customer in chat and record the impressions",
    P.gdpr: "Export everything about a customer; erase a customer",
    P.audit_read: "Read the audit log",
    P.users_admin: "Manage staff users and service API keys",
}


PUBLIC, SIGNED_IN = "public", "signed-in"


def route_permissions(app) -> list[tuple[str, str, Permission | str]]:
    """(method, path, permission) for every route, read from the OpenAPI security entries.

    Routes without a security entry are public; with one but no scope, any signed-in caller.
    """
    out = []
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            security = op.get("security")
            scopes = {s for req in security or [] for v in req.values() for s in v}
            perm = Permission(scopes.pop()) if scopes else SIGNED_IN if security else PUBLIC
            out.append((method.upper(), path, perm))
    return sorted(out, key=lambda r: (r[1], r[0]))


def permission_matrix_markdown(app) -> str:
    roles = list(Role)
    lines = [
        "# Permission matrix",
        "",
        "Generated from `crm_backend/auth/permissions.py` by `crm docs permissions`; a test "
        "fails when this file and the code disagree. Every route except `GET /health` needs "
        "a bearer token (staff, from `POST /api/v1/auth/token`) or an `X-API-Key` (services). "
        "API keys hold any of these permissions as scopes.",
        "",
        "## Roles",
        "",
        "| permission | what it allows | " + " | ".join(roles) + " |",
        "|---|---|" + "---|" * len(roles),
    ]
    for perm in Permission:
        marks = ["yes" if perm in ROLE_PERMISSIONS[r] else "" for r in roles]
        lines.append(f"| `{perm}` | {DESCRIPTIONS[perm]} | " + " | ".join(marks) + " |")
    lines += ["", "## Routes", "", "| method | path | permission | roles |", "|---|---|---|---|"]
    for method, path, perm in route_permissions(app):
        if perm in (PUBLIC, SIGNED_IN):
            who, shown = ("anyone" if perm == PUBLIC else "any signed-in caller"), perm
        else:
            who = ", ".join(r for r in roles if perm in ROLE_PERMISSIONS[r])
            shown = f"`{perm}`"
        lines.append(f"| {method} | `{path}` | {shown} | {who} |")
    return "\n".join(lines) + "\n"
