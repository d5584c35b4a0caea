from sqlalchemy import select

from crm_backend.audit.models import AuditEntry
from crm_backend.conversations.models import Conversation
from crm_backend.orders.models import Order
from crm_backend.tickets.models import Ticket, TicketMessage
from tests.crm import factories


def _customer_with_history(manager, agent, service_client):
    cust = factories.customer(agent, name="Grace Hopper", email="grace@example.com",
                              phone="+1 555 0100", tags=["vip"],
                              custom_attributes={"nickname": "Amazing Grace"})
    agent.patch(f"/api/v1/customers/{cust['id']}", json={"phone": "+1 555 0199"})
    prod = factories.product(manager)
    order = factories.order(agent, cust["id"], [{"sku": prod["sku"], "quantity": 2}])
    ticket = agent.post("/api/v1/tickets", json={
        "customer_id": cust["id"], "order_id": order["id"], "channel": "chat",
        "subject": "Grace's parcel", "description": "I am Grace, call me on +1 555 0199",
        "category": "delivery_problem"}).json()
    agent.post(f"/api/v1/tickets/{ticket['id']}/messages",
               json={"author_kind": "agent", "body": "On it, Grace."})
    bot = service_client("conversations:write")
    bot.post("/api/v1/conversations", json={"channel": "telegram", "sender_id": "tg-4242",
                                            "customer_id": cust["id"]})
    return cust, order, ticket


def test_export_contains_everything_and_is_audited(manager, agent, service_client, session):
    cust, order, ticket = _customer_with_history(manager, agent, service_client)
    resp = manager.get(f"/api/v1/customers/{cust['id']}/gdpr-export")
    assert resp.status_code == 200
    data = resp.json()
    assert data["customer"]["email"] == "grace@example.com" and data["customer"]["tags"] == ["vip"]
    assert [o["number"] for o in data["orders"]] == [order["number"]]
    assert len(data["orders"][0]["items"]) == 1
    assert [len(t["messages"]) for t in data["tickets"]] == [2]
    assert data["conversations"][0]["sender_id"] == "tg-4242"
    assert {e["entity_type"] for e in data["audit_log"]} >= {"customers", "orders", "tickets"}
    exports = session.scalars(select(AuditEntry).where(AuditEntry.action == "gdpr.export")).all()
    assert [(e.entity_id, e.actor.split(":")[0]) for e in exports] == [(str(cust["id"]), "user")]


def test_erase_anonymises_and_keeps_aggregates(manager, agent, service_client, session):
    cust, order, ticket = _customer_with_history(manager, agent, service_client)
    resp = manager.post(f"/api/v1/customers/{cust['id']}/erase")
    assert resp.status_code == 200, resp.text
    assert resp.json()["orders_kept"] == 1 and resp.json()["audit_entries_scrubbed"] > 3
    after = agent.get(f"/api/v1/customers/{cust['id']}").json()
    assert after["name"] == "Erased customer" and after["email"].endswith("@erased.invalid")
    assert after["phone"] is None and after["tags"] == [] and after["custom_attributes"] == {}
    assert after["erased_at"] and after["marketing_consent"] is False
    kept = session.get(Order, order["id"])
    assert str(kept.total) == order["total"] and kept.shipping_address is None
    t = session.get(Ticket, ticket["id"])
    assert t.subject == "delivery_problem" and t.category == "delivery_problem"
    bodies = session.scalars(select(TicketMessage.body).order_by(TicketMessage.id)).all()
    assert bodies == ["[erased]", "On it, Grace."]
    conv = session.scalar(select(Conversation))
    assert conv.sender_id.startswith("erased-") and conv.customer_id == cust["id"]
    # No trace of the personal data is left in the audit log.
    dump = " ".join(str((e.before, e.after)) for e in session.scalars(select(AuditEntry)))
    for secret in ("grace@example.com", "Grace Hopper", "555 0199", "5550199", "Amazing Grace",
                   "tg-4242", "call me"):
        assert secret not in dump, secret
    erase = session.scalar(select(AuditEntry).where(AuditEntry.action == "gdpr.erase"))
    assert erase.after["orders_kept"] == 1
    # Reports still count the order; the customer can no longer be edited or erased again.
    assert manager.post(f"/api/v1/customers/{cust['id']}/erase").status_code == 409
    assert agent.patch(f"/api/v1/customers/{cust['id']}", json={"name": "X"}).status_code == 409
    assert agent.get("/api/v1/orders", params={"customer_id": cust["id"]}).json()["total"] == 1


def test_gdpr_needs_its_permission(agent, analyst):
    cust = factories.customer(agent)
    assert agent.get(f"/api/v1/customers/{cust['id']}/gdpr-export").status_code == 403
    assert analyst.post(f"/api/v1/customers/{cust['id']}/erase").status_code == 403
