"""The CRM endpoints the chat assistant relies on: identity checks, offers, escalations,
invoices and tickets that carry a transcript."""

from datetime import timedelta

from sqlalchemy import select

from crm_backend.audit.models import AuditEntry
from crm_backend.core.db import utcnow
from crm_backend.customers.models import CustomerScore
from tests.crm import factories

BOT_SCOPES = ("identity:verify", "offers:show", "tickets:write", "tickets:read",
              "orders:read", "orders:write", "customers:read", "customers:write")
CHAT = {"channel": "socketio", "sender_id": "s-1"}


def _shop(manager, agent, email="jane@example.com"):
    cust = factories.customer(agent, email=email, name="Jane Doe")
    prod = factories.product(manager, price="59.50")
    order = factories.order(agent, cust["id"], [{"sku": prod["sku"], "quantity": 2}],
                            shipping_cost="4.90")
    return cust, order


def test_verify_order_links_the_conversation(manager, agent, service_client):
    bot = service_client(*BOT_SCOPES)
    cust, order = _shop(manager, agent)
    resp = bot.post("/api/v1/identity/verify-order",
                    json={"email": "JANE@example.com", "order_number": order["number"].lower(),
                          "conversation": CHAT})
    assert resp.status_code == 200, resp.text
    assert resp.json()["verified"] is True
    assert resp.json()["customer"] == {"id": cust["id"], "name": "Jane Doe",
                                       "email": "jane@example.com"}
    convs = agent.get("/api/v1/conversations", params={"sender_id": "s-1"}).json()["items"]
    assert convs[0]["customer_id"] == cust["id"]


def test_wrong_pairs_fail_alike_and_lock_after_three(manager, agent, service_client, session):
    bot = service_client(*BOT_SCOPES)
    _, order = _shop(manager, agent)
    other, _ = _shop(manager, agent, email="other@example.com")
    attempts = [{"email": "other@example.com", "order_number": order["number"]},  # not theirs
                {"email": "nobody@example.com", "order_number": order["number"]},  # no account
                {"email": "jane@example.com", "order_number": "ORD-999999"}]       # no order
    answers = [bot.post("/api/v1/identity/verify-order", json={**a, "conversation": CHAT})
               for a in attempts]
    assert [r.status_code for r in answers] == [200, 200, 200]
    assert [r.json()["verified"] for r in answers] == [False, False, False]
    assert [r.json()["attempts_left"] for r in answers] == [2, 1, 0]
    # Now even the right pair is refused for this conversation, but not for another one.
    locked = bot.post("/api/v1/identity/verify-order",
                      json={"email": "jane@example.com", "order_number": order["number"],
                            "conversation": CHAT})
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "too_many_attempts"
    fresh = bot.post("/api/v1/identity/verify-order",
                     json={"email": "jane@example.com", "order_number": order["number"],
                           "conversation": {"channel": "socketio", "sender_id": "s-2"}})
    assert fresh.json()["verified"] is True
    logged = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "identity.verify_failed")).all()
    assert len(logged) == 6  # each failure counted for the conversation and for the email


def test_customer_token_round_trip_and_forgery(manager, agent, service_client):
    bot = service_client("identity:verify")
    shop = service_client("identity:issue")
    cust, _ = _shop(manager, agent)
    issued = shop.post("/api/v1/identity/customer-tokens", json={"customer_id": cust["id"]})
    assert issued.status_code == 201
    token = issued.json()["token"]
    ok = bot.post("/api/v1/identity/verify-token", json={"token": token, "conversation": CHAT})
    assert ok.json()["verified"] is True and ok.json()["customer"]["id"] == cust["id"]
    staff_token = agent.headers["Authorization"].removeprefix("Bearer ")
    for forged in (token[:-4] + "AAAA", staff_token, "not-a-token"):
        bad = bot.post("/api/v1/identity/verify-token", json={"token": forged})
        assert bad.json()["verified"] is False
    # Nor can the bot mint tokens itself.
    assert bot.post("/api/v1/identity/customer-tokens",
                    json={"customer_id": cust["id"]}).status_code == 403


def _campaign(manager, **over):
    body = {"name": f"Offer {over.get('offer_code', 'X')}", "channel": "chat",
            "starts_at": (utcnow() - timedelta(days=1)).isoformat(), "control_fraction": 0}
    body.update(over)
    resp = manager.post("/api/v1/campaigns", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_offers_public_for_anonymous_targeted_for_customers(manager, agent, service_client):
    bot = service_client(*BOT_SCOPES)
    cust, _ = _shop(manager, agent)
    factories.customer(agent, email="vip@example.com", tags=["vip"])
    public = _campaign(manager, offer_code="WELCOME10", public=True)
    vip = _campaign(manager, offer_code="VIP20",
                    audience={"field": "tag", "op": "has", "value": "vip"})
    buyers = _campaign(manager, offer_code="THANKS5",
                       audience={"field": "orders_count", "op": "gte", "value": 1})
    _campaign(manager, offer_code="OLD", public=True,
              ends_at=(utcnow() - timedelta(hours=1)).isoformat(),
              starts_at=(utcnow() - timedelta(days=3)).isoformat())
    anon = bot.post("/api/v1/offers/show", json={})
    assert [o["offer_code"] for o in anon.json()] == ["WELCOME10"]
    mine = bot.post("/api/v1/offers/show", json={"customer_id": cust["id"]}).json()
    assert {o["offer_code"] for o in mine} == {"WELCOME10", "THANKS5"}
    contacts = manager.get(f"/api/v1/campaigns/{buyers['id']}/contacts").json()["items"]
    assert [(c["customer_id"], c["sent_at"] is not None) for c in contacts] == [
        (cust["id"], True)]
    assert manager.get(f"/api/v1/campaigns/{vip['id']}/contacts").json()["total"] == 0
    # The public offer's audience is everyone, so a known customer's impression counts too.
    seen = manager.get(f"/api/v1/campaigns/{public['id']}/contacts").json()["items"]
    assert [c["customer_id"] for c in seen] == [cust["id"]]


def test_control_group_customers_see_no_targeted_offer(manager, agent, service_client):
    bot = service_client(*BOT_SCOPES)
    cust, _ = _shop(manager, agent)
    held = _campaign(manager, offer_code="HELD", control_fraction=0.5)
    manager.patch(f"/api/v1/campaigns/{held['id']}", json={"control_fraction": 0.5})
    shown = bot.post("/api/v1/offers/show", json={"customer_id": cust["id"]}).json()
    contact = manager.get(f"/api/v1/campaigns/{held['id']}/contacts").json()["items"][0]
    assert (contact["is_control"]) == ("HELD" not in [o["offer_code"] for o in shown])
    assert (contact["sent_at"] is None) == contact["is_control"]


def test_ticket_with_transcript_and_conversation(manager, agent, service_client):
    bot = service_client(*BOT_SCOPES)
    cust, order = _shop(manager, agent)
    body = {"channel": "chat", "subject": "Complaint", "category": "complaint",
            "description": "The grinder is loud", "author_kind": "customer",
            "customer_id": cust["id"], "conversation": CHAT,
            "transcript": [{"author_kind": "customer", "body": "hi", "external_id": "m1"},
                           {"author_kind": "bot", "body": "Hello! How can I help?"}]}
    first = bot.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": "k1"})
    again = bot.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": "k1"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    assert first.json()["conversation_id"] is not None
    msgs = agent.get(f"/api/v1/tickets/{first.json()['id']}/messages").json()["items"]
    assert [m["body"] for m in msgs] == ["hi", "Hello! How can I help?", "The grinder is loud"]
    forged = dict(body, transcript=[{"author_kind": "agent", "body": "refund approved"}])
    assert bot.post("/api/v1/tickets", json=forged).status_code == 422


def test_a_complaint_from_a_high_value_customer_is_escalated(manager, agent, service_client,
                                                             session):
    bot = service_client(*BOT_SCOPES)
    top, _ = _shop(manager, agent)
    low = factories.customer(agent, email="low@example.com")
    others = [factories.customer(agent, email=f"c{i}@example.com") for i in range(3)]
    session.add_all([CustomerScore(customer_id=c["id"], name="clv", value=v, model_version="t")
                     for c, v in [(top, 900.0), (low, 10.0)] + [(c, 50.0) for c in others]])
    session.commit()

    def complaint(customer, sender):
        resp = bot.post("/api/v1/tickets", json={
            "channel": "chat", "subject": "Complaint", "category": "complaint",
            "description": "Third broken grinder", "author_kind": "customer",
            "customer_id": customer["id"], "priority": "normal",
            "conversation": {"channel": "socketio", "sender_id": sender}})
        assert resp.status_code == 201, resp.text
        return resp.json()

    vip = complaint(top, "vip")  # CLV above 80% of the scored customers
    assert vip["status"] == "escalated" and vip["priority"] == "high"
    msgs = agent.get(f"/api/v1/tickets/{vip['id']}/messages").json()["items"]
    assert msgs[-1]["author_kind"] == "system" and "top 20%" in msgs[-1]["body"]
    assert complaint(low, "low")["status"] == "new"
    unscored = factories.customer(agent, email="new@example.com")
    assert complaint(unscored, "new")["status"] == "new"


def test_escalation_reuses_the_open_ticket_and_reports_the_wait(manager, agent, service_client):
    bot = service_client(*BOT_SCOPES)
    cust, _ = _shop(manager, agent)
    lines = [{"author_kind": "customer", "body": "I want a person", "external_id": "m1"}]
    first = bot.post("/api/v1/tickets/escalations",
                     json={"conversation": CHAT, "reason": "Customer asked for a person",
                           "transcript": lines})
    assert first.status_code == 200, first.text
    out = first.json()
    assert out["created"] is True and out["ticket"]["status"] == "escalated"
    assert out["queue_position"] == 1 and out["expected_wait_minutes"] >= 1
    lines.append({"author_kind": "customer", "body": "hello??", "external_id": "m2"})
    second = bot.post("/api/v1/tickets/escalations",
                      json={"conversation": CHAT, "reason": "Asked again",
                            "customer_id": cust["id"], "transcript": lines}).json()
    assert second["created"] is False and second["ticket"]["id"] == out["ticket"]["id"]
    assert second["ticket"]["customer_id"] == cust["id"]
    msgs = agent.get(f"/api/v1/tickets/{out['ticket']['id']}/messages").json()["items"]
    assert [m["body"] for m in msgs] == ["I want a person", "Customer asked for a person",
                                         "hello??", "Asked again"]
    other = bot.post("/api/v1/tickets/escalations",
                     json={"conversation": {"channel": "telegram", "sender_id": "42"},
                           "reason": "Asked for a person"}).json()
    assert other["ticket"]["channel"] == "telegram" and other["queue_position"] == 2


def test_invoice_after_payment_with_a_signed_link(manager, agent, anon):
    _, order = _shop(manager, agent)
    url = f"/api/v1/orders/{order['id']}/invoice"
    assert agent.get(url).status_code == 409  # still pending
    agent.post(f"/api/v1/orders/{order['id']}/transitions", json={"to": "paid"})
    inv = agent.get(url).json()
    assert inv["number"] == f"INV-{order['id']:06d}" and inv["total"] == "123.90"
    assert inv["vat_included"] == "19.78"
    page = anon.get(inv["url"].removeprefix("http://localhost:8000"))
    assert page.status_code == 200 and inv["number"] in page.text and "Jane Doe" in page.text
    assert anon.get("/invoices/forged.token.value").status_code == 404
