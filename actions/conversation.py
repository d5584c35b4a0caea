"""What the actions read off the conversation: who is chatting, and what was said."""

import hashlib

from rasa_sdk import Tracker

TRANSCRIPT_LINES = 100


def channel_identity(tracker: Tracker) -> dict:
    return {"channel": tracker.get_latest_input_channel() or "rest",
            "sender_id": tracker.sender_id[:200]}


def transcript(tracker: Tracker) -> list[dict]:
    """The conversation so far as the CRM stores it, newest TRANSCRIPT_LINES lines. Customer
    lines carry their channel message id, so the CRM stores each only once."""
    lines = []
    for event in tracker.events:
        kind, text = event.get("event"), event.get("text")
        if not text:
            continue
        if kind == "user":
            line = {"author_kind": "customer", "body": text[:10_000]}
            if event.get("message_id"):
                line["external_id"] = str(event["message_id"])[:100]
            lines.append(line)
        elif kind == "bot":
            lines.append({"author_kind": "bot", "body": text[:10_000]})
    return lines[-TRANSCRIPT_LINES:]


def request_key(tracker: Tracker, what: str) -> str:
    """An idempotency key for one request of one conversation: the same while the action is
    retried for the same customer message, different for the next message."""
    latest = tracker.latest_message or {}
    anchor = latest.get("message_id") or str(len(tracker.events))
    raw = f"{tracker.sender_id}|{what}|{anchor}"
    return "bot-" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def customer_id(tracker: Tracker) -> int | None:
    """The verified customer, or None. Only actions set these slots, after the CRM said yes."""
    if not tracker.get_slot("customer_verified"):
        return None
    value = tracker.get_slot("customer_id")
    return int(value) if value is not None else None
