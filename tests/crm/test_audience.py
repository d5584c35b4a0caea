"""The audience language against real rows, one field at a time."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm_backend.campaigns.audience import audience_condition, compile_audience
from crm_backend.core.errors import Unprocessable
from crm_backend.customers.models import Customer, CustomerScore, CustomerTag
from crm_backend.orders.models import Order

NOW = datetime.now(UTC)


@pytest.fixture
def people(session):
    def person(name, **kw):
        c = Customer(name=name, email=f"{name}@a.example", custom_attributes={}, **kw)
        session.add(c)
        session.flush()
        return c

    ann = person("ann", marketing_consent=True, address={"city": "Berlin", "country": "DE"},
                 created_at=NOW - timedelta(days=400))
    bob = person("bob", address={"city": "Paris", "country": "FR"})
    cid = person("cid", marketing_consent=True)
    session.add_all([CustomerTag(customer_id=ann.id, tag="vip"),
                     CustomerScore(customer_id=ann.id, name="segment", label="champions",
                                   model_version="t"),
                     CustomerScore(customer_id=bob.id, name="churn_risk", value=0.8,
                                   model_version="t")])
    for days, total, status in ((10, "120.00", "delivered"), (200, "30.00", "delivered"),
                                (5, "500.00", "cancelled")):
        session.add(Order(customer_id=ann.id, subtotal=Decimal(total), total=Decimal(total),
                          status=status, placed_at=NOW - timedelta(days=days)))
    session.add(Order(customer_id=bob.id, subtotal=Decimal("10"), total=Decimal("10"),
                      placed_at=NOW - timedelta(days=300), status="delivered"))
    session.commit()
    return {"ann": ann.id, "bob": bob.id, "cid": cid.id}


def _names(session, definition, needs_consent=False):
    ids = session.scalars(select(Customer.name).where(
        audience_condition(definition, needs_consent=needs_consent)).order_by(Customer.name))
    return list(ids)


@pytest.mark.parametrize("definition,expected", [
    ({}, ["ann", "bob", "cid"]),
    ({"field": "marketing_consent", "op": "eq", "value": True}, ["ann", "cid"]),
    ({"field": "country", "op": "in", "value": ["DE", "AT"]}, ["ann"]),
    ({"field": "city", "op": "eq", "value": "Paris"}, ["bob"]),
    ({"field": "tag", "op": "has_not", "value": "VIP"}, ["bob", "cid"]),
    ({"field": "segment", "op": "eq", "value": "champions"}, ["ann"]),
    ({"field": "score.churn_risk", "op": "gte", "value": 0.5}, ["bob"]),
    ({"field": "orders_count", "op": "eq", "value": 2}, ["ann"]),
    ({"field": "total_spent", "op": "gt", "value": 100}, ["ann"]),
    ({"field": "days_since_last_order", "op": "gt", "value": 100}, ["bob", "cid"]),
    ({"field": "days_since_last_order", "op": "lt", "value": 30}, ["ann"]),
    ({"field": "created_at", "op": "before", "value": (NOW - timedelta(days=100)).isoformat()},
     ["ann"]),
    ({"any": [{"field": "city", "op": "eq", "value": "Paris"},
              {"field": "tag", "op": "has", "value": "vip"}]}, ["ann", "bob"]),
    ({"not": {"field": "marketing_consent", "op": "eq", "value": True}}, ["bob"]),
])
def test_each_field(session, people, definition, expected):
    assert _names(session, definition) == expected


def test_consent_and_erasure_are_always_applied(session, people):
    assert _names(session, {}, needs_consent=True) == ["ann", "cid"]
    session.get(Customer, people["cid"]).erased_at = NOW
    session.commit()
    assert _names(session, {}, needs_consent=True) == ["ann"]


@pytest.mark.parametrize("definition,message", [
    ({"all": []}, "non-empty list"),
    ({"field": "tag", "op": "gt", "value": 1}, "takes op"),
    ({"field": "orders_count", "op": "gt", "value": "many"}, "must be a number"),
    ({"field": "created_at", "op": "after", "value": "yesterday"}, "ISO date-time"),
    ({"all": [{"field": "x", "op": "eq", "value": 1}]}, "audience.all[0]: unknown field"),
    ({"foo": 1}, "expected one of"),
])
def test_bad_definitions_name_the_problem(definition, message):
    with pytest.raises(Unprocessable, match=message.replace("[", r"\[").replace("]", r"\]")):
        compile_audience(definition)
