"""The customer web chat in a real browser (Debian's chromium, Playwright) against a stand-in
for Rasa's socket.io channel on python-socketio 5.8.0 (tests/crm/socketio_fake.py): the
conversation survives a reload, quick replies send their payload, a customer token rides in
every message's metadata, and messages typed during a network drop arrive once afterwards."""

import time

import pytest

from tests.crm import socketio_fake
from tests.crm.settings_env import set_env

pytestmark = pytest.mark.slow
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI3In0.c2ln"  # only its shape matters to the page


@pytest.fixture
def rasa_socket():
    fake, url, server, thread = socketio_fake.start()
    old = set_env(CRM_RASA_PUBLIC_URL=url)
    yield fake
    set_env(**old)
    server.should_exit = True
    thread.join(timeout=10)


def _wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_web_chat(live_server, rasa_socket, browser, artifacts):
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 390, "height": 760})  # a phone
    page = context.new_page()
    page.goto(f"{live_server}/chat?token={TOKEN}")
    expect(page.locator("#status")).to_have_text("Online", timeout=10_000)
    assert "token" not in page.url  # kept for the tab, not in the address bar
    session_id = page.evaluate("window.supportChat.sessionId")
    assert rasa_socket.session_requests == [session_id]

    # A message, the typing indicator, the answer with a timestamp.
    page.fill("#text", "hello")
    page.press("#text", "Enter")
    expect(page.locator("#typing")).to_be_visible()
    expect(page.locator(".msg.bot").last).to_contain_text("echo: hello")
    expect(page.locator("#typing")).to_be_hidden()
    assert page.locator(".msg.bot time").last.inner_text().strip()
    assert rasa_socket.received[0] == {"message": "hello", "session_id": session_id,
                                       "customData": {"customer_token": TOKEN}}

    # Quick replies send their payload and show their title.
    page.fill("#text", "menu")
    page.press("#text", "Enter")
    button = page.locator(".replies button", has_text="Order status")
    expect(button).to_be_visible()
    button.click()
    expect(page.locator(".msg.user").last).to_contain_text("Order status")
    expect(page.locator(".msg.bot").last).to_contain_text("echo: /order_status")
    expect(button).to_be_disabled()
    page.screenshot(path=str(artifacts / "chat-phone.png"))

    # A reload continues the same conversation and shows what was said.
    page.reload()
    expect(page.locator("#status")).to_have_text("Online", timeout=10_000)
    assert page.evaluate("window.supportChat.sessionId") == session_id
    assert rasa_socket.session_requests[-1] == session_id
    expect(page.locator(".msg.bot", has_text="echo: hello")).to_have_count(1)

    # An agent's reply pushed to the session's room arrives.
    rasa_socket.push(session_id, "Hi, this is Anna from support.")
    expect(page.locator(".msg.bot").last).to_contain_text("Anna from support")

    # The network drops: the message waits, then goes out exactly once.
    context.set_offline(True)
    page.evaluate("window.supportChat.socket.io.engine.close()")
    expect(page.locator("#status")).not_to_have_text("Online", timeout=10_000)
    page.fill("#text", "are you still there?")
    page.press("#text", "Enter")
    expect(page.locator(".msg.user").last).to_contain_text("waiting for connection")
    assert len(page.evaluate("window.supportChat.outbox")) == 1
    context.set_offline(False)
    expect(page.locator("#status")).to_have_text("Online", timeout=20_000)
    expect(page.locator(".msg.bot").last).to_contain_text("echo: are you still there?")
    _wait_for(lambda: page.evaluate("window.supportChat.outbox") == [])
    assert rasa_socket.messages().count("are you still there?") == 1
    page.screenshot(path=str(artifacts / "chat-after-reconnect.png"))


def test_another_customer_on_the_same_browser_gets_a_new_chat(live_server, rasa_socket,
                                                              browser):
    from playwright.sync_api import expect

    other = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiI4In0.c2ln"  # customer 8, not 7
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}/chat?token={TOKEN}")
    expect(page.locator("#status")).to_have_text("Online", timeout=10_000)
    first = page.evaluate("window.supportChat.sessionId")
    page.fill("#text", "my secret order")
    page.press("#text", "Enter")
    expect(page.locator(".msg.bot")).to_have_count(1)

    page.goto(f"{live_server}/chat?token={other}")
    expect(page.locator("#status")).to_have_text("Online", timeout=10_000)
    assert page.evaluate("window.supportChat.sessionId") != first
    expect(page.locator(".msg")).to_have_count(0)
