"""The customer chat page, the agent console page and their static files."""

import json
import os
import re
from pathlib import Path

from crm_backend.core import config

ROOT = Path(__file__).resolve().parents[2]
VENDORED = ROOT / "crm_backend" / "web" / "static" / "vendor" / "socket.io.min.js"


def _page_config(html: str) -> dict:
    match = re.search(r'<script id="chat-config" type="application/json">(.*?)</script>', html,
                      re.S)
    assert match, "the chat page carries its configuration"
    return json.loads(match.group(1))


def test_chat_page_speaks_rasas_socketio_channel(anon):
    resp = anon.get("/chat")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert '<meta name="viewport"' in html  # phone-sized screens
    for needle in ('id="log"', 'id="typing"', 'id="composer"', "/static/vendor/socket.io.min.js",
                   "/static/chat.js"):
        assert needle in html
    assert "//cdn" not in html and "https://" not in html  # nothing from outside
    cfg = _page_config(html)
    assert cfg == {"rasaOrigin": "http://localhost:5005", "socketPath": "/socket.io",
                   "userEvent": "user_uttered", "botEvent": "bot_uttered",
                   "metadataKey": "customData"}


def test_chat_page_takes_rasas_public_url_from_settings(anon):
    os.environ["CRM_RASA_PUBLIC_URL"] = "https://shop.example.com/assistant/"
    config.get_settings.cache_clear()
    try:
        cfg = _page_config(anon.get("/chat").text)
    finally:
        os.environ.pop("CRM_RASA_PUBLIC_URL")
        config.get_settings.cache_clear()
    assert cfg["rasaOrigin"] == "https://shop.example.com"
    assert cfg["socketPath"] == "/assistant/socket.io"


def test_chat_script_sends_the_customer_token_and_keeps_the_session(anon):
    js = anon.get("/static/chat.js")
    assert js.status_code == 200
    for needle in ("session_request", "session_confirm", "customer_token", "localStorage",
                   "quick_replies", "outbox"):
        assert needle in js.text


def test_demo_page_explains_authenticated_mode(anon):
    html = anon.get("/chat/demo").text
    assert "/api/v1/identity/customer-tokens" in html and "/chat?token=" in html
    assert "<iframe" in html


def test_console_page_and_its_assets(anon):
    resp = anon.get("/console")
    assert resp.status_code == 200
    html = resp.text
    for needle in ('id="login-form"', 'id="queue"', 'id="thread"', 'id="reply"', 'id="internal"',
                   'id="canned"', 'id="claim"', 'id="resolve"', 'id="close"', 'id="side"',
                   "/static/console.js", "/static/console.css"):
        assert needle in html
    # The shortcuts are documented on the page.
    for key in ("r", "n", "e"):
        assert f"<kbd>{key}</kbd>" in html
    assert "//cdn" not in html and "https://" not in html
    for asset in ("/static/console.js", "/static/console.css", "/static/chat.css"):
        assert anon.get(asset).status_code == 200
    assert "/tickets/events" in anon.get("/static/console.js").text


def test_vendored_socketio_client_is_the_locked_4x_version(anon):
    lock = json.loads((ROOT / "web" / "package-lock.json").read_text())
    locked = lock["packages"]["node_modules/socket.io-client"]["version"]
    assert locked.startswith("4."), "python-socketio 5.x (Rasa 3.6) speaks to socket.io-client 4.x"
    banner = re.search(r"Socket\.IO v(\S+)", VENDORED.read_text()[:200])
    assert banner and banner.group(1) == locked, "run `make vendor-js`"
    resp = anon.get("/static/vendor/socket.io.min.js")
    assert resp.status_code == 200 and "javascript" in resp.headers["content-type"]
