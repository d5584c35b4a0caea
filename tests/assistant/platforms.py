"""A stand-in for the messaging platforms' APIs (Telegram Bot API, Slack Web API, Facebook's
Graph API under /graph) on a real local socket: it answers like the platform and records every
call, so tests can see what the assistant sent."""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

TELEGRAM = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>\w+)$")
BOT_USER = {"id": 777, "is_bot": True, "first_name": "Shop", "username": "shop_assistant_bot"}


class Platforms:
    def __init__(self):
        # (path, query, body) of every call, in order
        self.calls: list[tuple[str, dict, dict]] = []
        self._lock = threading.Lock()
        platforms = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep test output quiet
                pass

            def do_POST(self):  # noqa: N802  (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                kind = self.headers.get("Content-Type", "")
                body = (json.loads(raw or "{}") if "json" in kind else
                        {k: v[0] for k, v in parse_qs(raw).items()})
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                with platforms._lock:
                    platforms.calls.append((url.path, query, body))
                self._answer(platforms.answer(url.path, body))

            do_GET = do_POST

            def _answer(self, payload: dict):
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def answer(self, path: str, body: dict) -> dict:
        match = TELEGRAM.match(path)
        if match:
            method = match["method"]
            if method == "getMe":
                return {"ok": True, "result": BOT_USER}
            if method in ("sendMessage", "sendPhoto"):
                chat = int(body.get("chat_id", 0))
                return {"ok": True, "result": {"message_id": len(self.calls), "date": 0,
                                               "chat": {"id": chat, "type": "private"},
                                               "from": BOT_USER, "text": body.get("text")}}
            return {"ok": True, "result": True}
        if path.startswith("/api/"):  # Slack Web API
            return {"ok": True, "channel": body.get("channel"), "ts": "1700000000.000200"}
        if path == "/graph/me/messages":  # Facebook's Send API: a message or a sender action
            answer = {"recipient_id": body.get("recipient", {}).get("id")}
            if "message" in body:
                answer["message_id"] = f"m_{len(self.calls)}"
            return answer
        return {"ok": False}

    def sent(self, prefix: str) -> list[dict]:
        with self._lock:
            return [body for path, _query, body in self.calls if path.startswith(prefix)
                    or path.endswith(prefix)]

    def queries(self, prefix: str) -> list[dict]:
        with self._lock:
            return [query for path, query, _body in self.calls if path.startswith(prefix)]

    def close(self):
        self.server.shutdown()
