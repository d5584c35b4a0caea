"""Small builders for test data, through the real API."""

from itertools import count

_n = count(1)

ADDRESS = {"line1": "1 Test Street", "city": "Berlin", "postal_code": "10115", "country": "DE"}


def customer(client, **over) -> dict:
    n = next(_n)
    body = {"name": f"Customer {n}", "email": f"customer{n}@example.com", "address": ADDRESS}
    body.update(over)
    resp = client.post("/api/v1/customers", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def product(client, **over) -> dict:
    n = next(_n)
    body = {"sku": f"SKU-{n}", "name": f"Product {n}", "category": "audio", "price": "19.90"}
    body.update(over)
    resp = client.post("/api/v1/products", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def order(client, customer_id: int, items: list[dict], **over) -> dict:
    body = {"customer_id": customer_id, "items": items}
    body.update(over)
    resp = client.post("/api/v1/orders", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()
