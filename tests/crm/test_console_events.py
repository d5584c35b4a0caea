"""The live stream (GET /api/v1/tickets/events) over a real HTTP connection: the app runs in
uvicorn on 127.0.0.1 and the test reads the stream with httpx, as the console does with fetch."""

import json
import queue
import threading
import time

import httpx
import pytest


class Stream:
    """Reads server-sent events in a thread; `next(kind)` waits for the next one of a kind."""

    def __init__(self, base: str, headers: dict):
        self.events: queue.Queue = queue.Queue()
        self.client = httpx.Client(base_url=base, timeout=httpx.Timeout(10, read=30))
        self.response = self.client.send(
            self.client.build_request("GET", "/api/v1/tickets/events", headers=headers),
            stream=True)
        self.status = self.response.status_code
        self.content_type = self.response.headers.get("content-type", "")
        if self.status == 200:
            threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        event = {}
        try:
            for line in self.response.iter_lines():
                if not line:
                    if "event" in event:
                        self.events.put(event)
                    event = {}
                elif not line.startswith(":") and ":" in line:
                    field, _, value = line.partition(":")
                    event[field] = value.lstrip(" ")
        except httpx.HTTPError:
            pass

    def next(self, kind: str, timeout: float = 10, where=lambda data: True) -> dict:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                break
            if event["event"] == kind and where(json.loads(event["data"])):
                return {"id": event.get("id"), **json.loads(event["data"])}
        raise AssertionError(f"no {kind} event within {timeout} s")

    def close(self):
        self.response.close()
        self.client.close()


@pytest.fixture
def open_stream(live_server):
    streams = []

    def make(headers):
        stream = Stream(live_server, headers)
        streams.append(stream)
        return stream

    yield make
    for s in streams:
        s.close()


def test_stream_needs_a_token(open_stream):
    stream = open_stream({})
    assert stream.status == 401


def test_ticket_changes_and_messages_arrive_live(agent, open_stream):
    stream = open_stream({"Authorization": agent.headers["Authorization"]})
    assert stream.status == 200 and stream.content_type.startswith("text/event-stream")
    ready = stream.next("ready")
    assert ready["resumed"] is False

    created = agent.post("/api/v1/tickets", json={"channel": "chat", "subject": "Broken lamp",
                                                  "description": "It flickers",
                                                  "escalate": True}).json()
    ticket = stream.next("ticket", where=lambda t: t["id"] == created["id"])
    assert ticket["status"] == "escalated" and ticket["number"] == created["number"]
    first = stream.next("message", where=lambda m: m["ticket_id"] == created["id"])
    assert first["body"] == "It flickers"

    assert agent.post(f"/api/v1/tickets/{created['id']}/claim").status_code == 200
    claimed = stream.next("ticket", where=lambda t: t["assignee_id"] is not None)
    assert claimed["assignee_name"] == "Agent"

    agent.post(f"/api/v1/tickets/{created['id']}/reply", json={"body": "Note", "internal": True})
    note = stream.next("message", where=lambda m: m["ticket_id"] == created["id"])
    assert note["internal"] is True and note["author_name"] == "Agent"


def test_api_keys_do_not_see_internal_notes(agent, service_client, open_stream):
    bot = service_client("tickets:read")
    stream = open_stream({"X-API-Key": bot.headers["X-API-Key"]})
    stream.next("ready")
    t = agent.post("/api/v1/tickets", json={"channel": "chat", "subject": "s",
                                            "description": "public"}).json()
    agent.post(f"/api/v1/tickets/{t['id']}/reply", json={"body": "secret", "internal": True})
    agent.post(f"/api/v1/tickets/{t['id']}/messages",
               json={"author_kind": "customer", "body": "after"})
    bodies = [stream.next("message")["body"] for _ in range(2)]
    assert bodies == ["public", "after"]


def test_reconnecting_with_last_event_id_replays_what_was_missed(agent, open_stream):
    auth = {"Authorization": agent.headers["Authorization"]}
    first = open_stream(auth)
    ready = first.next("ready")
    first.close()  # the network drops
    t = agent.post("/api/v1/tickets", json={"channel": "chat", "subject": "While away",
                                            "description": "hello?"}).json()
    second = open_stream({**auth, "Last-Event-ID": ready["id"]})
    assert second.next("ready")["resumed"] is True
    assert second.next("ticket", where=lambda x: x["id"] == t["id"])["subject"] == "While away"

