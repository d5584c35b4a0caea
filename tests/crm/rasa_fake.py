"""A tiny stand-in for the Rasa server's HTTP API: a real socket on 127.0.0.1 that records every
request it gets and answers with a configurable status."""

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    body: dict | None


@dataclass
class FakeRasa:
    url: str
    requests: list[Recorded] = field(default_factory=list)
    status: int = 200

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


def start() -> tuple[FakeRasa, ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    fake = FakeRasa(url=f"http://127.0.0.1:{server.server_address[1]}")
    server.fake = fake
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return fake, server


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 (http.server's naming)
        fake: FakeRasa = self.server.fake
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        parts = urlsplit(self.path)
        fake.requests.append(Recorded("POST", parts.path, parse_qs(parts.query),
                                      json.loads(raw) if raw else None))
        payload = json.dumps({"sender_id": "x", "events": []}).encode()
        self.send_response(fake.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


def closed_port_url() -> str:
    """A URL on which nothing listens (the port was just free)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"
