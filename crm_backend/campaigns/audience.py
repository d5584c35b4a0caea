"""The audience language: a JSON tree of filters compiled to one SQL condition on customers.

    {"all": [node, ...]}  {"any": [node, ...]}  {"not": node}  {}  (everyone)
    {"field": "tag", "op": "has", "value": "vip"}

Fields and their operators:
    marketing_consent           eq
    created_at                  before, after            (ISO date-time)
    country, city               eq, in                   (from the customer's address)
    tag                         has, has_not
    segment                     eq, in                   (the customer's RFM segment)
    score.<name>                gt, gte, lt, lte         (e.g. score.churn_risk)
    orders_count, total_spent,
    days_since_last_order       gt, gte, lt, lte, eq     (cancelled orders do not count)

Erased customers never match.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select, true

from crm_backend.core.db import utcnow
from crm_backend.core.errors import Unprocessable
from crm_backend.customers.models import Customer, CustomerScore, CustomerTag
from crm_backend.orders.models import Order, OrderStatus

COMPARE = {"gt": "__gt__", "gte": "__ge__", "lt": "__lt__", "lte": "__le__", "eq": "__eq__"}
_COUNTED = Order.status != OrderStatus.cancelled


def _number(value, path):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Unprocessable(f"{path}: value must be a number", path=path)
    return value


def _compare(expr, op, value, path):
    return getattr(expr, COMPARE[op])(_number(value, path))


def _address(key: str):
    return Customer.address[key].as_string()


def _leaf(node: dict, path: str) -> ColumnElement:
    field, op, value = node.get("field"), node.get("op"), node.get("value")
    if not isinstance(field, str) or not isinstance(op, str):
        raise Unprocessable(f"{path}: a filter needs 'field', 'op' and 'value'", path=path)

    def need(*ops):
        if op not in ops:
            raise Unprocessable(f"{path}: field {field!r} takes op {' / '.join(ops)}, not {op!r}",
                                path=path)

    if field == "marketing_consent":
        need("eq")
        if not isinstance(value, bool):
            raise Unprocessable(f"{path}: value must be true or false", path=path)
        return Customer.marketing_consent.is_(value)
    if field == "created_at":
        need("before", "after")
        try:
            moment = datetime.fromisoformat(str(value))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        except ValueError:
            raise Unprocessable(f"{path}: value must be an ISO date-time", path=path) from None
        return Customer.created_at < moment if op == "before" else Customer.created_at >= moment
    if field in ("country", "city"):
        need("eq", "in")
        values = value if op == "in" else [value]
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise Unprocessable(f"{path}: value must be text (a list of text for 'in')",
                                path=path)
        return _address(field).in_(values)
    if field == "tag":
        need("has", "has_not")
        has = exists().where(CustomerTag.customer_id == Customer.id,
                             CustomerTag.tag == str(value).lower())
        return has if op == "has" else not_(has)
    if field == "segment":
        need("eq", "in")
        values = value if op == "in" else [value]
        return exists().where(CustomerScore.customer_id == Customer.id,
                              CustomerScore.name == "segment", CustomerScore.label.in_(values))
    if field.startswith("score."):
        need(*[o for o in COMPARE if o != "eq"])
        return exists().where(CustomerScore.customer_id == Customer.id,
                              CustomerScore.name == field.removeprefix("score."),
                              _compare(CustomerScore.value, op, value, path))
    if field in ("orders_count", "total_spent"):
        need(*COMPARE)
        agg = func.count(Order.id) if field == "orders_count" else func.coalesce(
            func.sum(Order.total), 0)
        sub = select(agg).where(Order.customer_id == Customer.id, _COUNTED).scalar_subquery()
        return _compare(sub, op, value, path)
    if field == "days_since_last_order":
        need(*COMPARE)
        days = _number(value, path)
        last = select(func.max(Order.placed_at)).where(Order.customer_id == Customer.id,
                                                       _COUNTED).scalar_subquery()
        cutoff = utcnow() - timedelta(days=days)
        never = last.is_(None)
        # "more days since" means an earlier last order; customers who never ordered count as
        # infinitely long ago.
        return {"gt": or_(never, last < cutoff), "gte": or_(never, last <= cutoff),
                "lt": last > cutoff, "lte": last >= cutoff,
                "eq": func.date(last) == func.date(cutoff)}[op]
    raise Unprocessable(f"{path}: unknown field {field!r}", path=path)


def compile_audience(definition: dict[str, Any], path: str = "audience") -> ColumnElement:
    if not isinstance(definition, dict):
        raise Unprocessable(f"{path}: must be an object", path=path)
    if not definition:
        return true()
    keys = set(definition)
    if keys == {"all"} or keys == {"any"}:
        (key, children), = definition.items()
        if not isinstance(children, list) or not children:
            raise Unprocessable(f"{path}.{key}: must be a non-empty list", path=path)
        parts = [compile_audience(c, f"{path}.{key}[{i}]") for i, c in enumerate(children)]
        return and_(*parts) if key == "all" else or_(*parts)
    if keys == {"not"}:
        return not_(compile_audience(definition["not"], f"{path}.not"))
    if keys == {"field", "op", "value"}:
        return _leaf(definition, path)
    raise Unprocessable(f"{path}: expected one of all / any / not or a field filter",
                        path=path, keys=sorted(keys))


def audience_condition(definition: dict, *, needs_consent: bool) -> ColumnElement:
    condition = and_(compile_audience(definition), Customer.erased_at.is_(None))
    if needs_consent:
        condition = and_(condition, Customer.marketing_consent.is_(True))
    return condition
