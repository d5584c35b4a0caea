"""The agent console in a real browser (Debian's chromium, driven by Playwright): sign in, see
an escalated chat appear live, claim it, reply, watch the customer's answer arrive, add an
internal note, resolve. Rasa is the recording stand-in from rasa_fake.py. Screenshots go to
test-artifacts/."""

import time

import pytest

from crm_backend.customers.models import CustomerScore
from tests.crm import factories

pytestmark = pytest.mark.slow


def _wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_agent_takes_over_a_chat_live(live_server, rasa, browser, artifacts, agent, manager,
                                      session, service_client):
    from playwright.sync_api import expect

    email = agent.get("/api/v1/auth/me").json()["email"]
    bot = service_client("tickets:write", "tickets:read")
    customer = factories.customer(agent, name="Grace Hopper")
    product = factories.product(manager)
    order = factories.order(agent, customer["id"], [{"sku": product["sku"], "quantity": 2}])
    session.add_all([
        CustomerScore(customer_id=customer["id"], name="churn_risk", value=0.27,
                      model_version="test"),
        CustomerScore(customer_id=customer["id"], name="segment", label="loyal",
                      model_version="test")])
    session.commit()

    page = browser.new_page(viewport={"width": 1400, "height": 850})
    page.goto(f"{live_server}/console")
    page.fill("#login-email", email)
    page.fill("#login-password", "correct horse battery")
    page.click("#login-form button[type=submit]")
    expect(page.locator("#live")).to_have_text("live", timeout=10_000)

    # The assistant hands a chat over; the ticket appears without a reload.
    ticket = bot.post("/api/v1/tickets/escalations", json={
        "conversation": {"channel": "socketio", "sender_id": "browser-session-1"},
        "reason": "Customer asked for a person", "customer_id": customer["id"],
        "transcript": [{"author_kind": "customer", "body": "My parcel never arrived",
                        "external_id": "u1"},
                       {"author_kind": "bot", "body": "Let me get a colleague.",
                        "external_id": "b1"}]}).json()["ticket"]
    item = page.locator(f'.qi[data-number="{ticket["number"]}"]')
    expect(item).to_be_visible(timeout=10_000)
    page.screenshot(path=str(artifacts / "console-queue.png"))

    item.click()
    expect(page.locator("#thread")).to_contain_text("My parcel never arrived")
    # The customer sidebar: profile, orders, scores.
    expect(page.locator("#c-name")).to_have_text("Grace Hopper")
    expect(page.locator("#c-orders")).to_contain_text(order["number"])
    expect(page.locator("#c-scores")).to_contain_text("churn risk")
    expect(page.locator("#c-scores")).to_contain_text("loyal")
    page.click("#claim")
    expect(page.locator("#t-assignee")).to_have_text("held by you")

    # r focuses the reply box; Ctrl+Enter sends; Rasa gets a bot event for the customer.
    page.locator("body").press("r")
    page.keyboard.type("Hello, I am looking at your parcel now.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#thread .m.agent").last).to_contain_text("looking at your parcel")
    _wait_for(lambda: {"event": "bot", "text": "Hello, I am looking at your parcel now.",
        "metadata": {"source": "agent"}}
              in [r.body for r in rasa.requests])

    # The customer answers (ingested from the chat by the CRM); it shows up live.
    bot.post(f"/api/v1/tickets/{ticket['id']}/messages",
             json={"author_kind": "customer", "body": "Thanks! It is ORD-000042.",
                   "external_id": "u2"})
    expect(page.locator("#thread .m.customer").last).to_contain_text("ORD-000042",
                                                                      timeout=10_000)

    # n writes an internal note: styled apart, never sent to Rasa.
    page.locator("#reply").blur()
    page.locator("body").press("n")
    page.keyboard.type("Carrier lost it; refund approved.")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#thread .m.internal")).to_contain_text("refund approved")
    assert not any(r.body and r.body.get("text", "").startswith("Carrier") for r in
                   rasa.requests)
    page.screenshot(path=str(artifacts / "console-conversation.png"))

    # e resolves: the chat goes back to the assistant and the ticket leaves the queue.
    page.locator("#reply").blur()
    page.locator("body").press("e")
    expect(page.locator("#t-status")).to_have_text("resolved", timeout=10_000)
    expect(item).to_have_count(0)
    _wait_for(lambda: len(rasa.requests) >= 3)
    paths = [r.path for r in rasa.requests]
    assert paths[-2:] == ["/conversations/browser-session-1/tracker/events",
                          "/conversations/browser-session-1/trigger_intent"]
    page.screenshot(path=str(artifacts / "console-resolved.png"))
