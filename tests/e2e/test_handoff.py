"""The whole handoff in a real browser, with every process real: the CRM and its event
consumer, the action server, and Rasa with the trained model. A customer asks about an order
in the web chat and asks for a person; an agent sees the ticket appear live in the console,
claims it and replies; the customer reads the reply and answers; the agent reads the answer,
resolves, and the assistant comes back and asks for a satisfaction score.

Runs in the CRM environment (Playwright) after `make train`; screenshots go to test-artifacts/.
"""

import shutil
import uuid
from pathlib import Path

import pytest

from tests.assistant.stack import ADMIN, running_stack

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SECONDS = 1000  # Playwright counts milliseconds


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with running_stack(tmp_path_factory.mktemp("e2e")) as s:
        yield s


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not shutil.which(CHROMIUM):
        pytest.fail("needs Debian's chromium: apt-get install -y chromium")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


def test_customer_to_agent_and_back(stack, browser):
    from playwright.sync_api import expect

    ARTIFACTS.mkdir(exist_ok=True)
    staff = stack.staff()
    n = uuid.uuid4().hex[:6]
    customer = staff.post("/customers", json={
        "name": "Ada Lovelace", "email": f"ada.{n}@example.com",
        "address": {"line1": "1 Analytical Way", "city": "London", "postal_code": "10115",
                    "country": "GB"}}).json()
    product = staff.post("/products", json={"sku": f"E2E-{n}", "name": "Headlamp",
                                            "category": "outdoor", "price": "34.90"}).json()
    order = staff.post("/orders", json={"customer_id": customer["id"], "items": [
        {"sku": product["sku"], "quantity": 1}]}).json()
    staff.post(f"/orders/{order['id']}/transitions", json={"to": "paid"})

    chat = browser.new_page(viewport={"width": 390, "height": 780})
    chat.goto(f"{stack.crm_url}/chat")
    log = chat.locator("#log")

    def say(text: str) -> None:
        chat.fill("#text", text)
        chat.press("#text", "Enter")

    # The customer asks about an order and verifies.
    say("where is my order?")
    expect(log).to_contain_text("email address on your account", timeout=60 * SECONDS)
    say(customer["email"])
    expect(log).to_contain_text("number of one of your orders", timeout=30 * SECONDS)
    say(order["number"])
    expect(log).to_contain_text("being prepared for shipping", timeout=30 * SECONDS)

    # ... and asks for a person.
    say("I want to talk to a human")
    expect(log).to_contain_text("in the queue", timeout=30 * SECONDS)
    chat.screenshot(path=str(ARTIFACTS / "e2e-chat-waiting.png"))

    # An agent signs in; the escalated ticket is in the live queue.
    console = browser.new_page(viewport={"width": 1400, "height": 850})
    console.goto(f"{stack.crm_url}/console")
    console.fill("#login-email", ADMIN[0])
    console.fill("#login-password", ADMIN[1])
    console.click("#login-form button[type=submit]")
    ticket = staff.get("/tickets", params={"customer_id": customer["id"],
                                           "status": "escalated"}).json()["items"][0]
    item = console.locator(f'.qi[data-number="{ticket["number"]}"]')
    expect(item).to_be_visible(timeout=30 * SECONDS)
    item.click()
    expect(console.locator("#thread")).to_contain_text("talk to a human")
    console.click("#claim")
    expect(console.locator("#t-assignee")).not_to_be_empty(timeout=10 * SECONDS)

    # The reply reaches the customer's chat through Rasa; the customer answers.
    console.fill("#reply", "Hello Ada, this is Anna from support. How can I help?")
    console.click("#send")
    expect(log).to_contain_text("this is Anna from support", timeout=30 * SECONDS)
    say("My headlamp order should have shipped by now")
    # Paused, the assistant stays silent; the event consumer brings the message to the agent.
    expect(console.locator("#thread")).to_contain_text("should have shipped by now",
                                                       timeout=30 * SECONDS)
    console.screenshot(path=str(ARTIFACTS / "e2e-console.png"))

    # Resolving hands the chat back: the assistant greets and asks for a score.
    console.click("#resolve")
    expect(log).to_contain_text("I'm back", timeout=30 * SECONDS)
    expect(log).to_contain_text("How would you rate", timeout=30 * SECONDS)
    chat.locator(".replies button", has_text="5").last.click()
    expect(log).to_contain_text("Thank you for your feedback", timeout=30 * SECONDS)
    chat.screenshot(path=str(ARTIFACTS / "e2e-chat-after.png"))
    final = staff.get(f"/tickets/{ticket['id']}").json()
    assert final["status"] == "resolved" and final["csat_score"] == 5
    bodies = [m["body"] for m in staff.get(f"/tickets/{ticket['id']}/messages",
                                            params={"page_size": 200}).json()["items"]]
    assert bodies.count("My headlamp order should have shipped by now") == 1
