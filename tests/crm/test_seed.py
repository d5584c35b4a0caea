"""The synthetic data: consistent, deterministic, and driven by the hidden traits."""

from datetime import date

import numpy as np
import pytest
from sqlalchemy import func, select, text

from crm_backend.orders.models import Order
from crm_backend.seed import generate, service
from crm_backend.seed.traits import draw_traits

AS_OF = date(2026, 6, 30)


def _chunk(seed=42, customers=4000, orders=40000):
    plan = generate.Plan(customers=customers, orders=orders, seed=seed, as_of=AS_OF)
    batches = generate.generate_chunk(plan, 0, 1, customers, generate.Counters())
    return plan, {b.table: b.columns for b in batches}


def test_same_seed_same_data_and_other_seed_other_data():
    _, a = _chunk(seed=7, customers=500, orders=4000)
    _, b = _chunk(seed=7, customers=500, orders=4000)
    _, c = _chunk(seed=8, customers=500, orders=4000)
    for table in a:
        for col in a[table]:
            same = np.asarray(a[table][col]).astype(str) == np.asarray(b[table][col]).astype(str)
            assert same.all(), (table, col)
    assert not np.array_equal(a["orders"]["total"], c["orders"]["total"])


def test_traits_drive_behaviour():
    plan, t = _chunk()
    traits = draw_traits(plan.seed, 0, plan.customers)
    ids = t["customers"]["id"]
    spend = np.bincount(t["orders"]["customer_id"] - 1, weights=t["orders"]["total"],
                        minlength=len(ids))
    q = np.quantile(traits.value, [0.25, 0.75])
    assert spend[traits.value >= q[1]].mean() > 2 * spend[traits.value <= q[0]].mean()

    last = np.full(len(ids), np.datetime64("NaT", "s"))
    np.maximum.at(last.view("int64"), t["orders"]["customer_id"] - 1,
                  t["orders"]["placed_at"].astype("int64"))
    recency = (plan.end - last).astype("timedelta64[D]").astype(float)
    buyers = ~np.isnat(last)
    churny = traits.churn >= np.quantile(traits.churn, 0.75)
    steady = traits.churn <= np.quantile(traits.churn, 0.25)
    assert np.median(recency[buyers & churny]) > 1.5 * np.median(recency[buyers & steady])

    tickets = np.bincount(t["tickets"]["customer_id"] - 1, minlength=len(ids))
    prone = traits.ticket_proneness >= np.quantile(traits.ticket_proneness, 0.75)
    calm = traits.ticket_proneness <= np.quantile(traits.ticket_proneness, 0.25)
    assert tickets[prone].mean() > 1.3 * tickets[calm].mean()

    contacts = t["campaign_contacts"]
    converted = ~np.isnat(contacts["converted_at"])
    control = contacts["is_control"]
    assert converted[~control].mean() > 1.5 * converted[control].mean()


def test_generated_statuses_and_times_are_consistent():
    plan, t = _chunk(customers=2000, orders=20000)
    o = t["orders"]
    assert (o["placed_at"] <= plan.end).all()
    for col in ("paid_at", "shipped_at", "delivered_at", "cancelled_at", "returned_at",
                "refunded_at"):
        values = o[col][~np.isnat(o[col])]
        assert (values <= plan.end).all(), col
    delivered = np.isin(o["status"], ["delivered", "return_requested", "returned", "refunded"])
    assert (~np.isnat(o["delivered_at"][delivered])).all()
    assert (o["shipped_at"][delivered] <= o["delivered_at"][delivered]).all()
    assert np.isnat(o["shipped_at"][o["status"] == "cancelled"]).all()
    assert np.isnat(o["shipped_at"][np.isin(o["status"], ["pending", "paid"])]).all()


def test_demo_seed_loads_consistent_rows(engine, session, agent, manager):
    plan = generate.Plan(customers=300, orders=2500, seed=42, as_of=AS_OF)
    counts = service.seed(engine, plan)
    assert counts["customers"] == 300 and counts["orders"] > 2000
    mismatched = session.execute(text(
        "SELECT count(*) FROM orders o JOIN (SELECT order_id, sum(unit_price * quantity) s "
        "FROM order_items GROUP BY order_id) i ON i.order_id = o.id "
        "WHERE abs(o.subtotal - i.s) > 0.005 OR abs(o.total - o.subtotal - o.shipping_cost) "
        "> 0.005")).scalar()
    assert mismatched == 0
    orphans = session.execute(text(
        "SELECT count(*) FROM order_items i LEFT JOIN orders o ON o.id = i.order_id "
        "WHERE o.id IS NULL")).scalar()
    assert orphans == 0
    # The API reads the seeded rows, and new rows get fresh ids after the bulk load.
    largest = session.scalar(select(func.max(Order.id)))
    cust = agent.get("/api/v1/customers", params={"page_size": 1}).json()["items"][0]
    prod = manager.get("/api/v1/products", params={"page_size": 1}).json()["items"][0]
    new = agent.post("/api/v1/orders", json={"customer_id": cust["id"],
                                             "items": [{"sku": prod["sku"], "quantity": 1}]})
    assert new.status_code == 201 and new.json()["id"] == largest + 1
    assert agent.get("/api/v1/tickets").json()["total"] == counts["tickets"]


@pytest.mark.parametrize("existing", [False, True])
def test_demo_users_are_created_once(engine, existing):
    if existing:
        service.ensure_demo_users(engine)
    created = service.ensure_demo_users(engine)
    assert (created == []) == existing
