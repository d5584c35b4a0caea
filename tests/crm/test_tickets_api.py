import threading
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from crm_backend.audit.models import AuditEntry
from crm_backend.core.db import utcnow
from crm_backend.tickets.models import Ticket, TicketMessage
from tests.crm import factories


def _ticket(client, **over):
    body = {"channel": "chat", "subject": "Parcel missing", "description": "Where is it?",
            "category": "delivery_problem"}
    body.update(over)
    resp = client.post("/api/v1/tickets", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_create_sets_number_sla_and_first_message(agent):
    cust = factories.customer(agent)
    t = _ticket(agent, customer_id=cust["id"], priority="urgent")
    assert t["number"] == f"TCK-{t['id']:06d}" and t["status"] == "new"
    assert t["first_response_due_at"] < t["resolution_due_at"]
    msgs = agent.get(f"/api/v1/tickets/{t['id']}/messages").json()
    assert [m["body"] for m in msgs["items"]] == ["Where is it?"]
    assert msgs["items"][0]["author_kind"] == "customer"


def test_order_must_belong_to_the_customer(manager, agent):
    a, b = factories.customer(agent), factories.customer(agent)
    prod = factories.product(manager)
    order = factories.order(agent, a["id"], [{"sku": prod["sku"], "quantity": 1}])
    bad = agent.post("/api/v1/tickets", json={"channel": "chat", "subject": "x",
                                              "description": "y", "customer_id": b["id"],
                                              "order_id": order["id"]})
    assert bad.status_code == 422
    ok = _ticket(agent, order_id=order["id"])
    assert ok["customer_id"] == a["id"]


def test_idempotent_create(service_client, session):
    bot = service_client("tickets:write", "tickets:read")
    body = {"channel": "telegram", "subject": "Help", "description": "transcript...",
            "author_kind": "bot", "escalate": True}
    first = bot.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": "conv-7-handoff"})
    again = bot.post("/api/v1/tickets", json=body, headers={"Idempotency-Key": "conv-7-handoff"})
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"] and first.json()["status"] == "escalated"
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_status_flow_and_illegal_transition(agent):
    t = _ticket(agent)
    url = f"/api/v1/tickets/{t['id']}"
    assert agent.patch(url, json={"status": "resolved"}).json()["resolved_at"]
    reopened = agent.patch(url, json={"status": "open"}).json()
    assert reopened["resolved_at"] is None
    assert agent.patch(url, json={"status": "closed"}).json()["closed_at"]
    resp = agent.patch(url, json={"status": "open"})
    assert resp.status_code == 409


def test_illegal_transition_lists_allowed(agent):
    t = _ticket(agent)
    agent.patch(f"/api/v1/tickets/{t['id']}", json={"status": "resolved"})
    resp = agent.patch(f"/api/v1/tickets/{t['id']}", json={"status": "pending"})
    assert resp.status_code == 409
    assert resp.json()["error"]["details"]["allowed"] == ["open", "closed"]


def test_priority_change_recomputes_sla(agent):
    t = _ticket(agent, priority="low")
    raised = agent.patch(f"/api/v1/tickets/{t['id']}", json={"priority": "urgent"}).json()
    assert raised["first_response_due_at"] < t["first_response_due_at"]


def test_agent_reply_sets_first_response_and_opens(agent):
    t = _ticket(agent)
    note = agent.post(f"/api/v1/tickets/{t['id']}/messages",
                      json={"author_kind": "agent", "body": "checking", "internal": True})
    assert note.status_code == 201
    assert agent.get(f"/api/v1/tickets/{t['id']}").json()["first_responded_at"] is None
    agent.post(f"/api/v1/tickets/{t['id']}/messages",
               json={"author_kind": "agent", "body": "It arrives tomorrow."})
    after = agent.get(f"/api/v1/tickets/{t['id']}").json()
    assert after["first_responded_at"] and after["status"] == "open"


def test_internal_notes_are_hidden_from_services_and_agent_kind_needs_staff(agent,
                                                                            service_client):
    t = _ticket(agent)
    agent.post(f"/api/v1/tickets/{t['id']}/messages",
               json={"author_kind": "agent", "body": "VIP, be kind", "internal": True})
    bot = service_client("tickets:read", "tickets:write")
    bodies = [m["body"] for m in bot.get(f"/api/v1/tickets/{t['id']}/messages").json()["items"]]
    assert "VIP, be kind" not in bodies
    staff = [m["body"] for m in agent.get(f"/api/v1/tickets/{t['id']}/messages").json()["items"]]
    assert "VIP, be kind" in staff
    assert bot.post(f"/api/v1/tickets/{t['id']}/messages",
                    json={"author_kind": "agent", "body": "fake"}).status_code == 403


def test_external_id_makes_ingestion_idempotent(agent, service_client, session):
    t = _ticket(agent)
    bot = service_client("tickets:write")
    body = {"author_kind": "customer", "body": "hello?", "external_id": "evt-42"}
    first = bot.post(f"/api/v1/tickets/{t['id']}/messages", json=body)
    again = bot.post(f"/api/v1/tickets/{t['id']}/messages", json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    count = session.scalar(select(func.count()).select_from(TicketMessage)
                           .where(TicketMessage.external_id == "evt-42"))
    assert count == 1


def test_claim_exactly_one_winner(app, agent, session):
    from crm_backend.auth import service as auth

    t = _ticket(agent)
    clients = []
    for n in range(4):
        auth.create_user(session=session, email=f"claimer{n}@staff.example", full_name="C",
                         role="agent", password="a long password")
        session.commit()
        c = TestClient(app)
        token = c.post("/api/v1/auth/token", data={"username": f"claimer{n}@staff.example",
                                                   "password": "a long password"})
        c.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        clients.append(c)
    barrier, results = threading.Barrier(len(clients)), []

    def claim(c):
        barrier.wait()
        results.append(c.post(f"/api/v1/tickets/{t['id']}/claim").status_code)

    threads = [threading.Thread(target=claim, args=(c,)) for c in clients]
    [th.start() for th in threads]
    [th.join() for th in threads]
    assert sorted(results) == [200, 409, 409, 409]
    holder = agent.get(f"/api/v1/tickets/{t['id']}").json()["assignee_id"]
    assert holder is not None
    claims = session.scalar(select(func.count()).select_from(AuditEntry)
                            .where(AuditEntry.action == "claim"))
    assert claims == 1


def test_assignee_must_be_staff_who_takes_tickets(agent, analyst):
    t = _ticket(agent)
    analyst_id = analyst.get("/api/v1/auth/me").json()["id"]
    resp = agent.patch(f"/api/v1/tickets/{t['id']}", json={"assignee_id": analyst_id})
    assert resp.status_code == 422


def test_csat_only_after_resolution(agent):
    t = _ticket(agent)
    assert agent.post(f"/api/v1/tickets/{t['id']}/csat", json={"score": 5}).status_code == 409
    agent.patch(f"/api/v1/tickets/{t['id']}", json={"status": "resolved"})
    assert agent.post(f"/api/v1/tickets/{t['id']}/csat", json={"score": 6}).status_code == 422
    done = agent.post(f"/api/v1/tickets/{t['id']}/csat", json={"score": 4, "comment": "ok"})
    assert done.json()["csat_score"] == 4


def test_queue_sorting_and_overdue_filter(agent, session):
    low = _ticket(agent, priority="low")
    urgent = _ticket(agent, priority="urgent")
    normal = _ticket(agent, priority="normal")
    queue = agent.get("/api/v1/tickets").json()["items"]
    assert [t["id"] for t in queue] == [urgent["id"], normal["id"], low["id"]]
    row = session.get(Ticket, low["id"])
    row.first_response_due_at = utcnow() - timedelta(minutes=5)
    session.commit()
    overdue = agent.get("/api/v1/tickets", params={"overdue": True}).json()["items"]
    assert [t["id"] for t in overdue] == [low["id"]] and overdue[0]["overdue"] is True
    assert agent.get("/api/v1/tickets", params={"number": urgent["number"]}).json()["total"] == 1
    assert agent.get("/api/v1/tickets", params=[("status", "new"), ("priority", "urgent")]
                     ).json()["total"] == 1


def test_analyst_cannot_write_tickets(analyst):
    resp = analyst.post("/api/v1/tickets", json={"channel": "chat", "subject": "x",
                                                 "description": "y"})
    assert resp.status_code == 403
