"""Fixtures of the assistant's integration tests: the real stack (tests/assistant/stack.py),
a staff client, a chatting customer and a shop with orders in known states."""

import os
import uuid

import pytest

# Importing the actions package starts the outbox worker; unit tests need no worker.
os.environ.setdefault("OUTBOX_WORKER", "0")

from tests.assistant.stack import Chat, running_stack  # noqa: E402


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("assistant")) as s:
        yield s


@pytest.fixture(scope="session")
def staff(stack):
    with stack.staff() as client:
        yield client


@pytest.fixture
def chat(stack):
    return Chat(stack)


@pytest.fixture(scope="session")
def shop(staff):
    """A customer with orders in the states the tests need."""
    n = uuid.uuid4().hex[:6]
    customer = staff.post("/customers", json={
        "name": "Jane Doe", "email": f"jane.{n}@example.com", "address": {
            "line1": "Hauptstrasse 5", "city": "Berlin", "postal_code": "10115",
            "country": "DE"}}).json()
    product = staff.post("/products", json={"sku": f"T-{n}", "name": "Burr coffee grinder",
                                            "category": "coffee", "price": "129.00"}).json()

    def order(*steps: dict) -> dict:
        created = staff.post("/orders", json={"customer_id": customer["id"], "items": [
            {"sku": product["sku"], "quantity": 1}]}).json()
        for step in steps:
            resp = staff.post(f"/orders/{created['id']}/transitions", json=step)
            assert resp.status_code == 200, resp.text
        return staff.get(f"/orders/{created['id']}").json()

    shipped = {"to": "shipped", "carrier": "DHL", "tracking_number": "00340434161234567890",
               "expected_delivery": "2099-01-15"}
    return {"customer": customer,
            "paid": order({"to": "paid"}),
            "shipped": order({"to": "paid"}, shipped),
            "delivered": order({"to": "paid"}, shipped, {"to": "delivered"}),
            "cancellable": order({"to": "paid"})}
