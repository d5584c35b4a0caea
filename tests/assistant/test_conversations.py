"""Conversations through the real Rasa server, action server and CRM; each test checks what
the customer was told and what changed in the CRM."""

import sqlite3
import time

import httpx
import pytest

from tests.assistant.conftest import new_customer, new_product, place_order
from tests.assistant.stack import Chat

pytestmark = pytest.mark.slow


def verify(chat, shop, order_key="paid"):
    chat.say(shop["customer"]["email"])
    return chat.say(shop[order_key]["number"])


def test_order_status_needs_verification(chat, shop, staff):
    asked = chat.say("/order_status")
    assert "email" in asked.lower()
    answer = verify(chat, shop, "shipped")
    number = shop["shipped"]["number"]
    assert "verified" in answer and number in answer
    assert "DHL" in answer and "00340434161234567890" in answer and "2099" in answer
    slots = chat.slots()
    assert slots["customer_verified"] is True
    assert int(slots["customer_id"]) == shop["customer"]["id"]
    conversation = staff.get("/conversations", params={"sender_id": chat.sender}).json()
    assert conversation["items"][0]["customer_id"] == shop["customer"]["id"]


def test_entities_in_a_bypass_message_prove_nothing(chat, shop):
    victim = shop["customer"]["email"]
    first = chat.say(f'/order_status{{"email": "{victim}", "order_number": '
                     f'"{shop["paid"]["number"]}", "customer_id": 1}}')
    # The pair is right, so the CRM verifies it: entities are only candidates it checks.
    assert "verified" in first
    other = chat.__class__(chat.stack)
    reply = other.say(f'/order_status{{"email": "{victim}", "order_number": "ORD-999999"}}')
    assert shop["paid"]["number"] not in reply and "verified" not in reply
    assert other.slots()["customer_verified"] is False
    assert other.slots()["customer_id"] is None


def test_three_failures_end_politely_and_lock(chat, staff):
    # A customer of its own: the lock would also stop the other tests' customer.
    email = f"locked.{chat.sender}@example.com"
    customer = staff.post("/customers", json={"name": "Lee Lock", "email": email}).json()
    product = staff.get("/products", params={"page_size": 1}).json()["items"][0]
    order = staff.post("/orders", json={
        "customer_id": customer["id"], "items": [{"sku": product["sku"], "quantity": 1}],
        "shipping_address": {"line1": "1 Lane", "city": "Berlin", "postal_code": "10115",
                             "country": "DE"}}).json()
    chat.say("/order_status")
    for _ in range(3):
        chat.say(email)
        reply = chat.say("ORD-999999")
    assert "couldn't verify" in reply
    assert chat.slots()["customer_verified"] is False
    # The CRM keeps the lock even if the customer starts over with the right order number.
    chat.say("/order_status")
    chat.say(email)
    again = chat.say(order["number"])
    assert "couldn't verify" in again and "you're verified" not in again
    log = staff.get("/audit", params={"action": "identity.verify_failed"}).json()
    assert log["total"] >= 3


def test_cancel_after_confirmation(chat, shop, staff):
    order = shop["cancellable"]
    chat.say(f"I want to cancel {order['number']}")
    question = chat.say(shop["customer"]["email"])
    assert "Shall I cancel" in question and order["number"] in question
    done = chat.say("/affirm")
    assert "is cancelled" in done
    assert staff.get(f"/orders/{order['id']}").json()["status"] == "cancelled"


def test_denied_cancellation_changes_nothing(chat, shop, staff):
    order = shop["paid"]
    chat.say("/cancel_order")
    verify(chat, shop, "paid")
    kept = chat.say("/deny")
    assert "left" in kept and order["number"] in kept
    assert staff.get(f"/orders/{order['id']}").json()["status"] == "paid"


def test_shipped_order_cannot_be_cancelled(chat, shop, staff):
    chat.say("/cancel_order")
    reply = verify(chat, shop, "shipped")
    assert "can't be cancelled" in reply
    assert staff.get(f"/orders/{shop['shipped']['id']}").json()["status"] == "shipped"


def test_return_creates_the_return_and_a_ticket(chat, shop, staff):
    order = shop["delivered"]
    chat.say("/return_refund")
    verify(chat, shop, "delivered")
    chat.say("It arrived damaged or faulty")
    done = chat.say("/affirm")
    assert "return of" in done and "TCK-" in done
    assert staff.get(f"/orders/{order['id']}").json()["status"] == "return_requested"
    tickets = staff.get("/tickets", params={"order_id": order["id"]}).json()["items"]
    assert [t["category"] for t in tickets] == ["return_refund"]


def test_complaint_ticket_carries_the_transcript(chat, shop, staff):
    chat.say("/order_status")
    verify(chat, shop)  # a verified customer's ticket is linked to them
    assert "what happened" in chat.say("/complaint")
    done = chat.say("The grinder makes a terrible noise and support never answered my email")
    number = done[done.index("TCK-"):done.index("TCK-") + 10]
    ticket = staff.get("/tickets", params={"number": number}).json()["items"][0]
    assert ticket["category"] == "complaint" and ticket["customer_id"] == shop["customer"]["id"]
    messages = staff.get(f"/tickets/{ticket['id']}/messages").json()["items"]
    bodies = [m["body"] for m in messages]
    assert shop["customer"]["email"] in bodies  # the transcript so far
    assert any("terrible noise" in b for b in bodies)


def test_handoff_escalates_with_transcript(chat, staff):
    chat.say("hello")
    reply = chat.say("/human_handoff")
    assert "queue" in reply and "TCK-" in reply
    conv = staff.get("/conversations", params={"sender_id": chat.sender}).json()["items"][0]
    ticket = staff.get("/tickets", params={"conversation_id": conv["id"]}).json()["items"][0]
    assert ticket["status"] == "escalated"
    bodies = [m["body"] for m in staff.get(f"/tickets/{ticket['id']}/messages").json()["items"]]
    assert "hello" in bodies


def test_two_misses_in_a_row_hand_over_to_a_person(chat, staff):
    chat.say("hello")
    assert "Did you mean" in chat.say("/nlu_fallback")  # first miss: likely requests
    reply = chat.say("/nlu_fallback")  # not understood again
    assert "asking a colleague" in reply and "queue" in reply and "TCK-" in reply
    conv = staff.get("/conversations", params={"sender_id": chat.sender}).json()["items"][0]
    ticket = staff.get("/tickets", params={"conversation_id": conv["id"]}).json()["items"][0]
    assert ticket["status"] == "escalated"
    bodies = [m["body"] for m in staff.get(f"/tickets/{ticket['id']}/messages").json()["items"]]
    assert "The assistant did not understand the customer twice." in bodies
    assert chat.say("is anyone there?") == ""  # paused: the assistant stays silent


def test_a_high_value_customers_complaint_goes_to_a_person(stack, chat, staff):
    vip = new_customer(staff, "Vera Important")
    order = place_order(staff, vip, new_product(staff, "Espresso machine", "899.00")["sku"])
    others = [new_customer(staff, f"Other {i}") for i in range(4)]
    # Batch scoring writes these; here the lifetime values are set directly: Vera's is the
    # highest of the scored customers.
    with sqlite3.connect(stack.tmp / "crm.db") as db:
        db.executemany("INSERT INTO customer_scores (customer_id, name, value, model_version, "
                       "scored_at) VALUES (?, 'clv', ?, 'test', CURRENT_TIMESTAMP)",
                       [(vip["id"], 5000.0)] + [(c["id"], 100.0 + i)
                                                 for i, c in enumerate(others)])
    chat.say("/order_status")
    chat.say(vip["email"])
    assert "verified" in chat.say(order["number"])
    assert "what happened" in chat.say("/complaint")
    reply = chat.say("The machine leaks water all over the counter, the third one this year")
    assert "queue" in reply and "TCK-" in reply and "reply by email" not in reply
    ticket = staff.get("/tickets", params={"customer_id": vip["id"]}).json()["items"][0]
    assert ticket["status"] == "escalated" and ticket["priority"] in ("high", "urgent")
    assert ticket["category"] == "complaint"


def test_a_signed_customer_token_verifies_at_session_start(stack, chat, shop, staff):
    token = staff.post("/identity/customer-tokens",
                       json={"customer_id": shop["customer"]["id"]}).json()["token"]
    asked = chat.say("/order_status", metadata={"customer_token": token})
    assert "Which order" in asked and "email address" not in asked
    assert chat.slots()["customer_verified"] is True
    answer = chat.say(shop["shipped"]["number"])
    assert "DHL" in answer
    forged = Chat(stack)
    asked = forged.say("/order_status", metadata={"customer_token": token[:-6] + "AAAAAA"})
    assert "email address" in asked
    assert forged.slots()["customer_verified"] is False


def test_order_status_suggests_what_is_often_bought_with_it(stack, chat, shop, staff):
    beans = new_product(staff, "Espresso beans 1 kg", "24.00")["sku"]
    buyer = new_customer(staff, "Sam Buyer")
    for _ in range(12):
        place_order(staff, buyer, shop["sku"], beans)
    stack.crm("models", "train", "associations", "--no-score")
    chat.say("/order_status")
    answer = verify(chat, shop, "shipped")
    assert "DHL" in answer and "often add: Espresso beans 1 kg" in answer


def test_invoice_link(chat, shop):
    chat.say("/invoice_request")
    reply = verify(chat, shop, "paid")
    url = reply[reply.index("http"):].split()[0]
    page = httpx.get(url.replace("http://localhost:8000", chat.stack.crm_url))
    assert page.status_code == 200 and shop["paid"]["number"] in page.text


def test_ticket_saved_while_the_crm_is_down_arrives_exactly_once(stack, chat, shop, staff):
    chat.say("/order_status")
    verify(chat, shop)
    chat.say("/report_problem")
    stack.stop("crm")
    try:
        reply = chat.say("The app crashes every time I open my order history page")
        assert "saved your request" in reply
    finally:
        stack.start_crm()
    deadline = time.monotonic() + 30
    found = []
    while time.monotonic() < deadline and not found:
        found = staff.get("/tickets", params={"customer_id": shop["customer"]["id"],
                                              "category": "report_problem"}).json()["items"]
        time.sleep(1)
    assert len(found) == 1
    time.sleep(3)  # further outbox rounds must not deliver it again
    again = staff.get("/tickets", params={"customer_id": shop["customer"]["id"],
                                          "category": "report_problem"}).json()["items"]
    assert [t["id"] for t in again] == [found[0]["id"]]


def test_paused_messages_reach_the_ticket_once_and_in_order_after_a_crm_outage(
        stack, chat, staff):
    chat.say("hi")
    assert "queue" in chat.say("/human_handoff")
    conv = staff.get("/conversations", params={"sender_id": chat.sender}).json()["items"][0]
    ticket = staff.get("/tickets", params={"conversation_id": conv["id"]}).json()["items"][0]
    stack.stop("events")
    stack.stop("crm")
    lines = ["hello, anyone?", "my parcel is two weeks late", "order ORD-000001", "thanks"]
    try:
        for line in lines:
            assert chat.say(line) == ""  # paused: the assistant stays silent
    finally:
        stack.start_crm()
        stack.start_events()
    deadline = time.monotonic() + 60
    bodies: list[str] = []
    while time.monotonic() < deadline:
        bodies = [m["body"] for m in staff.get(f"/tickets/{ticket['id']}/messages",
                                               params={"page_size": 200}).json()["items"]]
        if lines[-1] in bodies:
            break
        time.sleep(1)
    received = [b for b in bodies if b in lines]
    assert received == lines  # each exactly once, in the order sent
