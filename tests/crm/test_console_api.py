"""The console's API: replies delivered to the chat through Rasa, the hand-back on resolve,
the queue. Rasa is a real HTTP server on 127.0.0.1 (tests/crm/rasa_fake.py) that records what
the CRM sent it."""

import pytest

from tests.crm import factories
from tests.crm.settings_env import set_env

SENDER = "sess 7/ab"  # needs escaping in the URL path
EVENTS_PATH = "/conversations/sess%207%2Fab/tracker/events"
TRIGGER_PATH = "/conversations/sess%207%2Fab/trigger_intent"


@pytest.fixture
def chat_ticket(service_client):
    bot = service_client("tickets:write", "tickets:read")
    resp = bot.post("/api/v1/tickets/escalations", json={
        "conversation": {"channel": "socketio", "sender_id": SENDER},
        "reason": "Customer asked for a person",
        "transcript": [{"author_kind": "customer", "body": "I want a human",
                        "external_id": "m1"}]})
    assert resp.status_code == 200, resp.text
    return resp.json()["ticket"]


def _plain_ticket(client):
    resp = client.post("/api/v1/tickets", json={"channel": "email", "subject": "Invoice",
                                                "description": "Please resend it"})
    assert resp.status_code == 201, resp.text
    return resp.json()


def _thread(client, ticket_id):
    return client.get(f"/api/v1/tickets/{ticket_id}/messages?page_size=200").json()["items"]


def test_reply_is_stored_and_sent_to_the_customers_chat(agent, chat_ticket, rasa):
    resp = agent.post(f"/api/v1/tickets/{chat_ticket['id']}/reply",
                      json={"body": "Hello, I am Anna. Let me look."})
    assert resp.status_code == 201, resp.text
    out = resp.json()
    assert out["delivery"] == {"delivered": True, "channel": "socketio", "error": None}
    assert out["message"]["author_kind"] == "agent" and not out["message"]["internal"]
    [sent] = rasa.requests
    assert sent.path == EVENTS_PATH
    assert sent.query == {"output_channel": ["latest"], "execute_side_effects": ["true"],
                          "token": ["rasa-secret"]}
    assert sent.body == {"event": "bot", "text": "Hello, I am Anna. Let me look.",
        "metadata": {"source": "agent"}}
    thread = _thread(agent, chat_ticket["id"])
    assert thread[-1]["body"] == "Hello, I am Anna. Let me look."
    ticket = agent.get(f"/api/v1/tickets/{chat_ticket['id']}").json()
    assert ticket["first_responded_at"] is not None


def test_internal_note_never_reaches_rasa(agent, chat_ticket, rasa):
    resp = agent.post(f"/api/v1/tickets/{chat_ticket['id']}/reply",
                      json={"body": "VIP, be generous", "internal": True})
    assert resp.status_code == 201
    assert resp.json()["delivery"]["delivered"] is None
    assert resp.json()["message"]["internal"] is True
    assert rasa.requests == []
    again = agent.post(f"/api/v1/tickets/{chat_ticket['id']}/messages/"
                       f"{resp.json()['message']['id']}/deliver")
    assert again.status_code == 422 and rasa.requests == []


def test_reply_on_a_ticket_without_chat_is_only_stored(agent, rasa):
    ticket = _plain_ticket(agent)
    resp = agent.post(f"/api/v1/tickets/{ticket['id']}/reply", json={"body": "Resent."})
    assert resp.status_code == 201 and resp.json()["delivery"]["delivered"] is None
    assert rasa.requests == []


def test_reply_is_kept_when_rasa_is_unreachable_and_can_be_sent_again(agent, chat_ticket,
                                                                       rasa, rasa_down):
    resp = agent.post(f"/api/v1/tickets/{chat_ticket['id']}/reply", json={"body": "Still here"})
    assert resp.status_code == 202, resp.text
    delivery = resp.json()["delivery"]
    assert delivery["delivered"] is False and "not reachable" in delivery["error"]
    assert _thread(agent, chat_ticket["id"])[-1]["body"] == "Still here"

    set_env(CRM_RASA_URL=rasa.url)  # Rasa is back
    message_id = resp.json()["message"]["id"]
    again = agent.post(f"/api/v1/tickets/{chat_ticket['id']}/messages/{message_id}/deliver")
    assert again.status_code == 200 and again.json()["delivery"]["delivered"] is True
    assert [r.body for r in rasa.requests] == [{"event": "bot", "text": "Still here",
        "metadata": {"source": "agent"}}]


def test_rasa_refusing_the_event_counts_as_not_delivered(agent, chat_ticket, rasa):
    rasa.status = 401  # e.g. a wrong CRM_RASA_TOKEN
    resp = agent.post(f"/api/v1/tickets/{chat_ticket['id']}/reply", json={"body": "Hi"})
    assert resp.status_code == 202
    assert "401" in resp.json()["delivery"]["error"]


def test_resolve_resumes_the_chat_and_triggers_the_csat_intent(agent, chat_ticket, rasa):
    resp = agent.post(f"/api/v1/tickets/{chat_ticket['id']}/resolve")
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["ticket"]["status"] == "resolved" and out["handback"]["delivered"] is True
    assert rasa.paths() == [EVENTS_PATH, TRIGGER_PATH]
    resume, trigger = rasa.requests
    assert resume.body == [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
    assert resume.query["execute_side_effects"] == ["true"]
    assert trigger.body == {"name": "EXTERNAL_handoff_resolved",
                            "entities": {"ticket_number": chat_ticket["number"]}}
    assert trigger.query == {"output_channel": ["latest"], "token": ["rasa-secret"]}

    # Closing the resolved ticket later does not greet the customer a second time.
    closed = agent.post(f"/api/v1/tickets/{chat_ticket['id']}/close")
    assert closed.status_code == 200 and closed.json()["handback"]["delivered"] is None
    assert len(rasa.requests) == 2
    # And a closed ticket cannot be resolved.
    assert agent.post(f"/api/v1/tickets/{chat_ticket['id']}/resolve").status_code == 409


def test_resolve_is_kept_when_rasa_is_down_and_handback_can_be_retried(
        agent, chat_ticket, rasa, rasa_down):
    resp = agent.post(f"/api/v1/tickets/{chat_ticket['id']}/resolve")
    assert resp.status_code == 202, resp.text
    assert resp.json()["ticket"]["status"] == "resolved"
    assert resp.json()["handback"]["delivered"] is False
    assert agent.get(f"/api/v1/tickets/{chat_ticket['id']}").json()["status"] == "resolved"

    set_env(CRM_RASA_URL=rasa.url)
    again = agent.post(f"/api/v1/tickets/{chat_ticket['id']}/handback")
    assert again.status_code == 200 and again.json()["handback"]["delivered"] is True
    assert rasa.paths() == [EVENTS_PATH, TRIGGER_PATH]


def test_closing_an_active_chat_ticket_hands_it_back(agent, chat_ticket, rasa):
    resp = agent.post(f"/api/v1/tickets/{chat_ticket['id']}/close")
    assert resp.status_code == 200 and resp.json()["ticket"]["status"] == "closed"
    assert rasa.paths() == [EVENTS_PATH, TRIGGER_PATH]


def test_handback_needs_a_finished_ticket(agent, chat_ticket, rasa):
    assert agent.post(f"/api/v1/tickets/{chat_ticket['id']}/handback").status_code == 422
    assert rasa.requests == []


def test_replies_and_resolution_are_for_staff(service_client, analyst, chat_ticket, rasa):
    bot = service_client("tickets:write", "tickets:read")
    url = f"/api/v1/tickets/{chat_ticket['id']}"
    assert bot.post(f"{url}/reply", json={"body": "x"}).status_code == 403
    assert bot.post(f"{url}/resolve").status_code == 403
    assert analyst.post(f"{url}/reply", json={"body": "x"}).status_code == 403
    assert analyst.post(f"{url}/resolve").status_code == 403
    assert rasa.requests == []


def test_reply_on_a_closed_ticket_is_409(agent, rasa):
    ticket = _plain_ticket(agent)
    agent.post(f"/api/v1/tickets/{ticket['id']}/close")
    assert agent.post(f"/api/v1/tickets/{ticket['id']}/reply",
                      json={"body": "x"}).status_code == 409


def test_queue_is_sorted_by_priority_then_sla_and_names_people(agent, manager):
    cust = factories.customer(agent, name="Ada Lovelace")

    def make(priority, **over):
        body = {"channel": "chat", "subject": priority, "description": "d",
                "priority": priority, **over}
        resp = agent.post("/api/v1/tickets", json=body)
        assert resp.status_code == 201
        return resp.json()

    low = make("low")
    urgent = make("urgent", customer_id=cust["id"])
    normal1, normal2 = make("normal"), make("normal")
    done = make("high")
    agent.patch(f"/api/v1/tickets/{done['id']}", json={"status": "resolved"})
    pending = make("high")
    agent.patch(f"/api/v1/tickets/{pending['id']}", json={"status": "pending"})
    assert agent.post(f"/api/v1/tickets/{normal2['id']}/claim").status_code == 200

    queue = agent.get("/api/v1/console/queue").json()
    assert [t["id"] for t in queue] == [urgent["id"], normal1["id"], normal2["id"], low["id"]]
    assert queue[0]["customer_name"] == "Ada Lovelace"
    assert queue[2]["assignee_name"] == "Agent"
    mine = agent.get("/api/v1/console/queue?mine=true").json()
    assert [t["id"] for t in mine] == [normal2["id"]]


def test_claim_conflict_names_the_holder(agent, manager):
    ticket = _plain_ticket(agent)
    assert manager.post(f"/api/v1/tickets/{ticket['id']}/claim").status_code == 200
    lost = agent.post(f"/api/v1/tickets/{ticket['id']}/claim")
    assert lost.status_code == 409
    holder = lost.json()["error"]["details"]["assignee_id"]
    agents = {a["id"]: a["full_name"] for a in agent.get("/api/v1/console/agents").json()}
    assert agents[holder] == "Manager"


def test_canned_responses_come_from_settings(agent, analyst):
    canned = agent.get("/api/v1/console/canned-responses").json()
    assert canned and {"title", "body"} <= set(canned[0])
    assert any("{customer_name}" in c["body"] for c in canned)
    assert analyst.get("/api/v1/console/canned-responses").status_code == 200
