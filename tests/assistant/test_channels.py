"""Messaging channels end to end with real-format webhook payloads: the platform's request
comes in on Rasa's webhook route, and what the assistant sends back is recorded by the local
stand-in for the platform's API (platforms.py)."""

import hashlib
import hmac
import json
import time
import uuid

import httpx
import pytest

from tests.assistant.conftest import SHIPPED, place_order
from tests.assistant.stack import CHANNEL_SECRETS, RASA_TOKEN

pytestmark = pytest.mark.slow


def test_telegram_message_in_and_reply_out(stack):
    chat_id = int(uuid.uuid4().int % 10**9)
    update = {"update_id": 1001, "message": {
        "message_id": 17, "date": int(time.time()), "text": "hello",
        "chat": {"id": chat_id, "type": "private", "first_name": "Ada"},
        "from": {"id": chat_id, "is_bot": False, "first_name": "Ada"}}}
    resp = httpx.post(f"{stack.rasa_url}/webhooks/telegram/webhook", json=update, timeout=60)
    assert resp.status_code == 200 and resp.text == "success"
    sent = [b for b in stack.platforms.sent("/sendMessage") if b.get("chat_id") == str(chat_id)]
    assert sent and "shop's assistant" in sent[0]["text"]
    # The webhook was registered once, at start-up, with the configured URL.
    hooks = stack.platforms.sent("/setWebhook")
    assert [h["url"] for h in hooks] == [CHANNEL_SECRETS["TELEGRAM_WEBHOOK_URL"]]


def test_telegram_agent_reply_reaches_the_customer(stack):
    chat_id = int(uuid.uuid4().int % 10**9)
    update = {"update_id": 1002, "message": {
        "message_id": 18, "date": int(time.time()), "text": "hi",
        "chat": {"id": chat_id, "type": "private"}, "from": {"id": chat_id, "is_bot": False,
                                                             "first_name": "Bo"}}}
    httpx.post(f"{stack.rasa_url}/webhooks/telegram/webhook", json=update, timeout=60)
    # What the CRM does for an agent's reply (crm_backend/conversations/rasa.py).
    resp = httpx.post(f"{stack.rasa_url}/conversations/{chat_id}/tracker/events",
                      params={"output_channel": "latest", "execute_side_effects": "true",
                              "token": RASA_TOKEN},
                      json={"event": "bot", "text": "Hello Bo, Anna here."}, timeout=60)
    assert resp.status_code == 200, resp.text
    sent = [b["text"] for b in stack.platforms.sent("/sendMessage")
            if b.get("chat_id") == str(chat_id)]
    assert "Hello Bo, Anna here." in sent


def _slack_post(stack, payload: dict, secret: str):
    body = json.dumps(payload)
    timestamp = str(int(time.time()))
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(),
                                 hashlib.sha256).hexdigest()
    return httpx.post(f"{stack.rasa_url}/webhooks/slack/webhook", content=body, timeout=60,
                      headers={"Content-Type": "application/json",
                               "X-Slack-Request-Timestamp": timestamp,
                               "X-Slack-Signature": signature})


def test_slack_message_in_and_reply_out(stack):
    user = f"U{uuid.uuid4().hex[:8].upper()}"
    event = {"token": "verification", "team_id": "T1", "api_app_id": "A1",
             "type": "event_callback", "event_id": f"Ev{user}", "event_time": int(time.time()),
             "event": {"type": "message", "channel": "D0123", "user": user, "text": "hello",
                       "ts": f"{time.time():.6f}", "channel_type": "im"}}
    forged = _slack_post(stack, event, "not-the-secret")
    assert forged.status_code in (400, 401)
    assert not stack.platforms.sent("chat.postMessage")
    resp = _slack_post(stack, event, CHANNEL_SECRETS["SLACK_SIGNING_SECRET"])
    assert resp.status_code == 200
    # Rasa answers Slack at once and handles the message in the background.
    deadline = time.monotonic() + 60
    while not (posted := stack.platforms.sent("chat.postMessage")):
        assert time.monotonic() < deadline, "nothing was posted to Slack"
        time.sleep(0.5)
    assert posted and posted[-1]["channel"] == "D0123"
    assert "shop's assistant" in posted[-1]["text"]


def _facebook_post(stack, messaging: dict, secret: str, algorithm: str = "sha256"):
    """A page webhook as Facebook sends it, signed with `secret`: HMAC-SHA256 of the body in
    X-Hub-Signature-256, or HMAC-SHA1 in X-Hub-Signature (older apps)."""
    body = json.dumps({"object": "page", "entry": [
        {"id": "P1", "time": int(time.time() * 1000), "messaging": [messaging]}]})
    digest = hmac.new(secret.encode(), body.encode(), getattr(hashlib, algorithm)).hexdigest()
    header = "X-Hub-Signature-256" if algorithm == "sha256" else "X-Hub-Signature"
    return httpx.post(f"{stack.rasa_url}/webhooks/facebook/webhook", content=body, timeout=60,
                      headers={"Content-Type": "application/json",
                               header: f"{algorithm}={digest}"})


def _facebook_event(sender: str, **event) -> dict:
    return {"sender": {"id": sender}, "recipient": {"id": "P1"},
            "timestamp": int(time.time() * 1000), **event}


def _sent_to(stack, sender: str) -> list[dict]:
    return [b for b in stack.platforms.sent("/graph/me/messages")
            if b["recipient"]["id"] == sender]


def _user_events(stack, sender: str) -> list[dict]:
    tracker = httpx.get(f"{stack.rasa_url}/conversations/{sender}/tracker",
                        params={"token": RASA_TOKEN}, timeout=30).json()
    return [e for e in tracker["events"] if e["event"] == "user"]


def test_facebook_message_in_and_reply_out(stack):
    sender = str(uuid.uuid4().int % 10**16)  # page-scoped ids are digits
    hello = _facebook_event(sender, message={"mid": f"m_{sender}", "text": "hello"})
    forged = _facebook_post(stack, hello, "not-the-secret")
    assert forged.text == "not validated"  # answered 200, but the message is dropped
    unsigned = httpx.post(f"{stack.rasa_url}/webhooks/facebook/webhook", json={
        "object": "page", "entry": [{"id": "P1", "time": 1, "messaging": [hello]}]})
    assert unsigned.text == "not validated"
    assert not _sent_to(stack, sender) and not _user_events(stack, sender)

    resp = _facebook_post(stack, hello, CHANNEL_SECRETS["FACEBOOK_SECRET"])
    assert resp.status_code == 200 and resp.text == "success"
    calls = _sent_to(stack, sender)
    # Rasa marks the message seen and shows typing while the assistant answers.
    assert [c.get("sender_action") for c in calls[:2]] == ["mark_seen", "typing_on"]
    assert calls[-1].get("sender_action") == "typing_off"
    replies = [c for c in calls if "message" in c]
    assert replies and replies[0]["messaging_type"] == "RESPONSE"
    assert "shop's assistant" in replies[0]["message"]["text"]
    assert {q.get("access_token") for q in stack.platforms.queries("/graph/")} == {
        CHANNEL_SECRETS["FACEBOOK_PAGE_ACCESS_TOKEN"]}
    [user] = _user_events(stack, sender)
    assert user["text"] == "hello" and user["input_channel"] == "facebook"

    # An agent's reply, as the CRM sends it, reaches the customer on Messenger.
    resp = httpx.post(f"{stack.rasa_url}/conversations/{sender}/tracker/events",
                      params={"output_channel": "latest", "execute_side_effects": "true",
                              "token": RASA_TOKEN},
                      json={"event": "bot", "text": "Hello, Anna here."}, timeout=60)
    assert resp.status_code == 200, resp.text
    assert _sent_to(stack, sender)[-1]["message"] == {"text": "Hello, Anna here."}


def test_facebook_buttons_postbacks_and_quick_replies(stack):
    sender = str(uuid.uuid4().int % 10**16)
    secret = CHANNEL_SECRETS["FACEBOOK_SECRET"]
    # A tapped button arrives as a postback carrying the button's payload (signed the older
    # way here: SHA-1 in X-Hub-Signature).
    _facebook_post(stack, _facebook_event(sender, postback={
        "title": "Something else", "payload": "/out_of_scope", "mid": f"m_{sender}_1"}), secret,
        algorithm="sha1")
    [reply] = [c["message"] for c in _sent_to(stack, sender) if "message" in c]
    template = reply["attachment"]["payload"]
    assert template["template_type"] == "button"
    assert {"type": "postback", "title": "Where is my order?",
            "payload": "/order_status"} in template["buttons"]
    # A quick reply is a message whose payload, not its text, is what the customer chose.
    _facebook_post(stack, _facebook_event(sender, message={
        "mid": f"m_{sender}_2", "text": "Who am I talking to?",
        "quick_reply": {"payload": "/bot_challenge"}}), secret)
    last = [c["message"] for c in _sent_to(stack, sender) if "message" in c][-1]
    assert "automated assistant" in last["text"]
    users = _user_events(stack, sender)
    assert [(u["text"], u["parse_data"]["intent"]["name"]) for u in users] == [
        ("/out_of_scope", "out_of_scope"), ("/bot_challenge", "bot_challenge")]


def test_facebook_long_button_lists_become_quick_replies(stack, shop, staff):
    order = place_order(staff, shop["customer"], shop["sku"],
                        steps=({"to": "paid"}, SHIPPED, {"to": "delivered"}))
    sender = str(uuid.uuid4().int % 10**16)
    for i, text in enumerate(("/return_refund", shop["customer"]["email"], order["number"])):
        _facebook_post(stack, _facebook_event(sender, message={"mid": f"m_{sender}_{i}",
                                                               "text": text}),
                       CHANNEL_SECRETS["FACEBOOK_SECRET"])
    asked = [c["message"] for c in _sent_to(stack, sender) if "message" in c][-1]
    # Four reasons: more than a button template holds.
    assert asked["text"] == "Why would you like to return it?"
    assert [q["payload"] for q in asked["quick_replies"]] == [
        "It arrived damaged or faulty", "I received the wrong item",
        "It doesn't fit or is not as expected", "I changed my mind"]
    assert all(len(q["title"]) <= 20 for q in asked["quick_replies"])


def test_facebook_verification_handshake(stack):
    url = f"{stack.rasa_url}/webhooks/facebook/webhook"
    challenge = httpx.get(url, params={"hub.verify_token": CHANNEL_SECRETS["FACEBOOK_VERIFY"],
                                       "hub.challenge": "42", "hub.mode": "subscribe"})
    assert challenge.text == "42"
    wrong = httpx.get(url, params={"hub.verify_token": "guess", "hub.challenge": "42"})
    assert wrong.text != "42"


def test_facebook_empty_api_url_means_the_graph_api():
    from bot.connectors.facebook import FacebookInput

    keys = {"verify": "v", "secret": "s", "page-access-token": "t"}
    default = FacebookInput.from_credentials({**keys, "api_url": ""}).get_output_channel()
    assert default.messenger_client.graph_url.startswith("https://graph.facebook.com/v")
    local = FacebookInput.from_credentials({**keys, "api_url": "http://127.0.0.1:9/graph/"})
    assert local.get_output_channel().messenger_client.graph_url == "http://127.0.0.1:9/graph"
