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


SHIPPED = {"to": "shipped", "carrier": "DHL", "tracking_number": "00340434161234567890",
           "expected_delivery": "2099-01-15"}


def new_customer(staff, name: str) -> dict:
    """A customer with a unique email and an address to ship to."""
    email = f"{name.split()[0].lower()}.{uuid.uuid4().hex[:6]}@example.com"
    return staff.post("/customers", json={"name": name, "email": email, "address": {
        "line1": "Hauptstrasse 5", "city": "Berlin", "postal_code": "10115",
        "country": "DE"}}).json()


def new_product(staff, name: str, price: str) -> dict:
    return staff.post("/products", json={"sku": f"P-{uuid.uuid4().hex[:8]}", "name": name,
                                         "category": "coffee", "price": price}).json()


def place_order(staff, customer: dict, *skus: str, steps: tuple[dict, ...] = ()) -> dict:
    """An order of one of each product, taken through the given status changes."""
    created = staff.post("/orders", json={"customer_id": customer["id"], "items": [
        {"sku": sku, "quantity": 1} for sku in skus]}).json()
    for step in steps:
        resp = staff.post(f"/orders/{created['id']}/transitions", json=step)
        assert resp.status_code == 200, resp.text
    return staff.get(f"/orders/{created['id']}").json()


@pytest.fixture(scope="session")
def shop(staff):
    """A customer with orders in the states the tests need."""
    customer = new_customer(staff, "Jane Doe")
    sku = new_product(staff, "Burr coffee grinder", "129.00")["sku"]
    return {"customer": customer, "sku": sku,
            "paid": place_order(staff, customer, sku, steps=({"to": "paid"},)),
            "shipped": place_order(staff, customer, sku, steps=({"to": "paid"}, SHIPPED)),
            "delivered": place_order(staff, customer, sku,
                                     steps=({"to": "paid"}, SHIPPED, {"to": "delivered"})),
            "cancellable": place_order(staff, customer, sku, steps=({"to": "paid"},))}
