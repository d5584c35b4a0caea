"""The audience language against real rows, one field at a time, and its validation."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm_backend.campaigns.audience import audience_condition, compile_audience, normalize
from crm_backend.core.errors import Unprocessable
from crm_backend.customers.models import Customer, CustomerScore, CustomerTag
from crm_backend.orders.models import Order

NOW = datetime.now(UTC)


@pytest.fixture
def people(session):
    """ann: consenting German VIP champion, 2 orders (150.00) + 1 cancelled, last 10 days ago.
    bob: French, high churn risk, 1 order 300 days ago. cid: consenting, nothing else.
    dee: consenting, address without a country, VIP, at risk, score without a value,
    1 refunded order (refunds still count as orders) 30 days ago."""
    def person(name, **kw):
        c = Customer(name=name, email=f"{name}@a.example", custom_attributes={}, **kw)
        session.add(c)
        session.flush()
        return c

    def order(who, days_ago, total, status):
        session.add(Order(customer_id=who.id, subtotal=Decimal(total), total=Decimal(total),
                          status=status, placed_at=NOW - timedelta(days=days_ago)))

    ann = person("ann", marketing_consent=True, address={"city": "Berlin", "country": "DE"},
                 created_at=NOW - timedelta(days=400))
    bob = person("bob", address={"city": "Paris", "country": "FR"})
    person("cid", marketing_consent=True)
    dee = person("dee", marketing_consent=True, address={"city": "Vienna"})
    session.add_all([
        CustomerTag(customer_id=ann.id, tag="vip"), CustomerTag(customer_id=dee.id, tag="vip"),
        CustomerScore(customer_id=ann.id, name="segment", label="champions", model_version="t"),
        CustomerScore(customer_id=dee.id, name="segment", label="at_risk", model_version="t"),
        CustomerScore(customer_id=ann.id, name="churn_risk", value=0.1, model_version="t"),
        CustomerScore(customer_id=bob.id, name="churn_risk", value=0.8, model_version="t"),
        CustomerScore(customer_id=dee.id, name="churn_risk", value=None, model_version="t"),
    ])
    order(ann, 10, "120.00", "delivered")
    order(ann, 200, "30.00", "delivered")
    order(ann, 5, "500.00", "cancelled")
    order(bob, 300, "10.00", "delivered")
    order(dee, 30, "40.00", "refunded")
    session.commit()


def _names(session, definition, needs_consent=False):
    return list(session.scalars(select(Customer.name).where(
        audience_condition(definition, needs_consent=needs_consent)).order_by(Customer.name)))


def leaf(field, op, value):
    return {"field": field, "op": op, "value": value}


@pytest.mark.parametrize("definition,expected", [
    ({}, ["ann", "bob", "cid", "dee"]),
    (leaf("marketing_consent", "eq", True), ["ann", "cid", "dee"]),
    (leaf("marketing_consent", "eq", False), ["bob"]),
    (leaf("created_at", "before", (NOW - timedelta(days=100)).isoformat()), ["ann"]),
    (leaf("created_at", "after", (NOW - timedelta(days=100)).isoformat()), ["bob", "cid", "dee"]),
    (leaf("country", "in", ["de", "AT"]), ["ann"]),
    # No address, or no country in it, is simply "not DE".
    ({"not": leaf("country", "eq", "DE")}, ["bob", "cid", "dee"]),
    (leaf("city", "eq", "Paris"), ["bob"]),
    (leaf("tag", "has", " VIP "), ["ann", "dee"]),
    (leaf("tag", "has_not", "vip"), ["bob", "cid"]),
    (leaf("segment", "eq", "champions"), ["ann"]),
    (leaf("segment", "in", ["champions", "at_risk"]), ["ann", "dee"]),
    (leaf("score.churn_risk", "gte", 0.5), ["bob"]),
    (leaf("score.churn_risk", "lt", 0.5), ["ann"]),
    ({"not": leaf("score.churn_risk", "lt", 0.5)}, ["bob", "cid", "dee"]),
    (leaf("orders_count", "gt", 1), ["ann"]),
    (leaf("orders_count", "gte", 1), ["ann", "bob", "dee"]),
    (leaf("orders_count", "lt", 1), ["cid"]),
    (leaf("total_spent", "gt", 100), ["ann"]),
    (leaf("total_spent", "lte", 40), ["bob", "cid", "dee"]),
    (leaf("days_since_last_order", "gt", 100), ["bob", "cid"]),
    (leaf("days_since_last_order", "gte", 20), ["bob", "cid", "dee"]),
    (leaf("days_since_last_order", "lt", 20), ["ann"]),
    (leaf("days_since_last_order", "lte", 100), ["ann", "dee"]),
    ({"not": leaf("days_since_last_order", "lt", 20)}, ["bob", "cid", "dee"]),
    ({"any": [leaf("city", "eq", "Paris"), leaf("tag", "has", "vip")]}, ["ann", "bob", "dee"]),
    ({"all": [leaf("marketing_consent", "eq", True),
              {"any": [leaf("segment", "eq", "at_risk"), leaf("orders_count", "lt", 1)]}]},
     ["cid", "dee"]),
    ({"not": {"all": [leaf("tag", "has", "vip"), {"not": leaf("country", "eq", "DE")}]}},
     ["ann", "bob", "cid"]),
])
def test_each_field(session, people, definition, expected):
    assert _names(session, definition) == expected


def test_consent_and_erasure_are_always_applied(session, people):
    assert _names(session, {}, needs_consent=True) == ["ann", "cid", "dee"]
    erased = session.scalar(select(Customer).where(Customer.name == "cid"))
    erased.erased_at = NOW
    session.commit()
    assert _names(session, {}, needs_consent=True) == ["ann", "dee"]
    assert _names(session, leaf("orders_count", "lt", 1)) == []


def test_definitions_are_stored_normalized():
    definition = {"all": [leaf("tag", "has", " VIP "), {"not": leaf("country", "in", ["de"])},
                          leaf("created_at", "after", "2026-01-01T00:00:00+01:00")]}
    assert normalize(definition) == {"all": [
        leaf("tag", "has", "vip"), {"not": leaf("country", "in", ["DE"])},
        leaf("created_at", "after", "2026-01-01T00:00:00+01:00")]}


@pytest.mark.parametrize("definition,message", [
    ({"all": []}, "audience.all: List should have at least 1 item"),
    (leaf("tag", "gt", "vip"), "audience.op: Input should be 'has' or 'has_not'"),
    (leaf("orders_count", "gt", "many"), "audience.value: Input should be a valid number"),
    (leaf("orders_count", "gt", True), "audience.value: Input should be a valid number"),
    (leaf("marketing_consent", "eq", "yes"), "audience.value: Input should be a valid boolean"),
    (leaf("created_at", "after", "2026-01-01T00:00:00"), "Input should have timezone info"),
    (leaf("segment", "in", "champions"), "'in' a list of 1 to 1000"),
    (leaf("country", "eq", "Germany"), "two-letter ISO 3166-1 codes"),
    (leaf("score.", "gt", 1), "audience.field: String should match pattern"),
    (leaf("days_since_last_order", "gt", 10**9), "less than or equal to 36500"),
    ({"all": [leaf("tag", "has", "a"), leaf("shoe_size", "eq", 3)]},
     "audience.all[1]: unknown field 'shoe_size'; the fields are marketing_consent"),
    ({"not": {"field": "tag", "op": "has", "value": "a", "extra": 1}},
     "audience.not.extra: Extra inputs are not permitted"),
    ({"any": [{"all": [{"field": "tag"}]}]},
     "audience.any[0].all[0].op: Field required; audience.any[0].all[0].value: Field required"),
    ({"foo": 1}, 'audience: expected {"all": [...]}'),
    ([leaf("tag", "has", "a")], 'audience: expected {"all": [...]}'),
    ({"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {"not": {}}}}}}}}}}},
     "nested deeper than 10 levels"),
    ({"any": [leaf("tag", "has", "a")] * 201}, "more than 200 nodes"),
])
def test_bad_definitions_name_the_problem(definition, message):
    with pytest.raises(Unprocessable) as caught:
        compile_audience(definition)
    assert message in caught.value.message
