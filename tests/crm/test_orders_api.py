from datetime import timedelta

from sqlalchemy import func, select

from crm_backend.core.db import utcnow
from crm_backend.idempotency.models import IdempotencyRecord
from crm_backend.orders.models import Order
from tests.crm import factories


def _setup(manager, agent):
    cust = factories.customer(agent)
    a = factories.product(manager, price="10.00")
    b = factories.product(manager, price="2.50")
    return cust, a, b


def test_create_computes_totals_and_number(manager, agent):
    cust, a, b = _setup(manager, agent)
    order = factories.order(agent, cust["id"], [{"sku": a["sku"], "quantity": 2},
                                                {"product_id": b["id"], "quantity": 3}],
                            shipping_cost="4.90")
    assert order["number"] == f"ORD-{order['id']:06d}"
    assert order["subtotal"] == "27.50" and order["total"] == "32.40"
    assert [i["line_total"] for i in order["items"]] == ["20.00", "7.50"]
    assert order["status"] == "pending"
    assert order["allowed_transitions"] == ["paid", "cancelled"]
    assert order["shipping_address"]["city"] == "Berlin"  # copied from the customer


def test_create_rejects_unknown_or_inactive_products_and_customers(manager, agent):
    cust, a, _ = _setup(manager, agent)
    manager.patch(f"/api/v1/products/{a['id']}", json={"active": False})
    resp = agent.post("/api/v1/orders", json={"customer_id": cust["id"], "items": [
        {"sku": a["sku"], "quantity": 1}, {"sku": "NOPE", "quantity": 1}]})
    assert resp.status_code == 422
    errors = resp.json()["error"]["details"]["items"]
    assert [e["item"] for e in errors] == [0, 1]
    assert agent.post("/api/v1/orders", json={"customer_id": 999999, "items": [
        {"sku": a["sku"], "quantity": 1}]}).status_code == 422
    assert agent.post("/api/v1/orders", json={"customer_id": cust["id"], "items": []}
                      ).status_code == 422


def test_idempotent_retry_creates_one_order(manager, agent, session):
    cust, a, _ = _setup(manager, agent)
    body = {"customer_id": cust["id"], "items": [{"sku": a["sku"], "quantity": 1}]}
    headers = {"Idempotency-Key": "order-attempt-1"}
    first = agent.post("/api/v1/orders", json=body, headers=headers)
    again = agent.post("/api/v1/orders", json=body, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert session.scalar(select(func.count()).select_from(Order)) == 1
    other = agent.post("/api/v1/orders", json={**body, "shipping_cost": "1.00"}, headers=headers)
    assert other.status_code == 422
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) == 1


def test_full_lifecycle_and_illegal_transition(manager, agent):
    cust, a, _ = _setup(manager, agent)
    oid = factories.order(agent, cust["id"], [{"sku": a["sku"], "quantity": 1}])["id"]
    url = f"/api/v1/orders/{oid}/transitions"
    assert agent.post(url, json={"to": "paid"}).status_code == 200
    assert agent.post(url, json={"to": "shipped"}).status_code == 422  # needs carrier+tracking
    shipped = agent.post(url, json={"to": "shipped", "carrier": "DHL",
                                    "tracking_number": "JJD000390007", "expected_delivery":
                                    "2030-01-02"})
    assert shipped.status_code == 200 and shipped.json()["shipped_at"]
    cancel = agent.post(url, json={"to": "cancelled"})
    assert cancel.status_code == 409
    err = cancel.json()["error"]
    assert err["code"] == "invalid_transition"
    assert err["details"] == {"from": "shipped", "to": "cancelled", "allowed": ["delivered"]}
    assert agent.post(url, json={"to": "delivered"}).json()["return_deadline"]
    assert agent.post(url, json={"to": "return_requested"}).status_code == 422  # needs reason
    for step in ({"to": "return_requested", "reason": "too small"}, {"to": "returned"},
                 {"to": "refunded"}):
        resp = agent.post(url, json=step)
        assert resp.status_code == 200, resp.text
    final = agent.get(f"/api/v1/orders/{oid}").json()
    assert final["status"] == "refunded" and final["allowed_transitions"] == []
    assert final["return_reason"] == "too small"


def test_return_refused_after_the_window(manager, agent, session):
    cust, a, _ = _setup(manager, agent)
    oid = factories.order(agent, cust["id"], [{"sku": a["sku"], "quantity": 1}])["id"]
    order = session.get(Order, oid)
    order.status, order.delivered_at = "delivered", utcnow() - timedelta(days=31)
    session.commit()
    resp = agent.post(f"/api/v1/orders/{oid}/transitions",
                      json={"to": "return_requested", "reason": "late"})
    assert resp.status_code == 409
    assert resp.json()["error"]["code"] == "return_window_closed"
    assert agent.get(f"/api/v1/orders/{oid}").json()["status"] == "delivered"


def test_address_change_only_before_shipping(manager, agent):
    cust, a, _ = _setup(manager, agent)
    oid = factories.order(agent, cust["id"], [{"sku": a["sku"], "quantity": 1}])["id"]
    new = {**factories.ADDRESS, "line1": "2 Other Road"}
    ok = agent.patch(f"/api/v1/orders/{oid}", json={"shipping_address": new})
    assert ok.status_code == 200 and ok.json()["shipping_address"]["line1"] == "2 Other Road"
    agent.post(f"/api/v1/orders/{oid}/transitions", json={"to": "paid"})
    agent.post(f"/api/v1/orders/{oid}/transitions",
               json={"to": "shipped", "carrier": "UPS", "tracking_number": "1Z999"})
    late = agent.patch(f"/api/v1/orders/{oid}", json={"shipping_address": factories.ADDRESS})
    assert late.status_code == 409


def test_list_filters_by_number_customer_and_status(manager, agent):
    cust, a, _ = _setup(manager, agent)
    other = factories.customer(agent)
    first = factories.order(agent, cust["id"], [{"sku": a["sku"], "quantity": 1}])
    factories.order(agent, other["id"], [{"sku": a["sku"], "quantity": 1}])
    agent.post(f"/api/v1/orders/{first['id']}/transitions", json={"to": "paid"})
    by_number = agent.get("/api/v1/orders", params={"number": first["number"].lower()}).json()
    assert [o["id"] for o in by_number["items"]] == [first["id"]]
    assert agent.get("/api/v1/orders", params={"customer_id": other["id"]}).json()["total"] == 1
    assert agent.get("/api/v1/orders", params=[("status", "paid"), ("status", "shipped")]
                     ).json()["total"] == 1
    assert agent.get("/api/v1/orders", params={"number": "banana"}).status_code == 422
    # Customers are found by their order numbers too.
    found = agent.get("/api/v1/customers", params={"q": first["number"]}).json()
    assert [c["id"] for c in found["items"]] == [cust["id"]]


def test_analyst_reads_but_cannot_write(manager, agent, analyst):
    cust, a, _ = _setup(manager, agent)
    oid = factories.order(agent, cust["id"], [{"sku": a["sku"], "quantity": 1}])["id"]
    assert analyst.get(f"/api/v1/orders/{oid}").status_code == 200
    assert analyst.post(f"/api/v1/orders/{oid}/transitions", json={"to": "paid"}
                        ).status_code == 403
