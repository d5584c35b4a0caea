"""Conversation events from the assistant's event broker, stored in the CRM.

Every customer and bot message becomes a conversation message (the customer's interaction
history). While a person handles the conversation (a ticket of it is escalated, open or
pending), the customer's messages also join that ticket's thread: the assistant is paused
then, so this is the only way they reach the agent.

Delivery is at least once and ingestion is idempotent: each message has a key (Rasa's message
id, or the bot event's time and text), stored under a unique constraint, so a redelivered event
changes nothing. Events are applied in the broker's order.
"""

import hashlib
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.auth.deps import Principal
from crm_backend.conversations import service as conversations
from crm_backend.conversations.models import Conversation, ConversationMessage
from crm_backend.tickets import service as tickets
from crm_backend.tickets.models import AuthorKind, Ticket, TicketStatus

WITH_A_PERSON = (TicketStatus.escalated, TicketStatus.open, TicketStatus.pending)
BROKER = Principal("service", 0, "event broker")


def _key(event: dict) -> str:
    if event.get("event") == "user" and event.get("message_id"):
        return str(event["message_id"])[:100]
    raw = f"{event.get('event')}|{event.get('timestamp')}|{event.get('text')}"
    return "h:" + hashlib.sha256(raw.encode()).hexdigest()[:40]


def _conversation(session: Session, event: dict) -> Conversation | None:
    sender = str(event.get("sender_id") or "")[:200]
    channel = event.get("input_channel")
    if event.get("event") == "user" and channel:
        return conversations.touch(session=session, channel=str(channel)[:30],
                                   sender_id=sender)[0]
    # Bot events carry no channel: they belong to the conversation the customer started.
    return session.scalar(select(Conversation).where(Conversation.sender_id == sender)
                          .order_by(Conversation.last_message_at.desc()).limit(1))


def ingest(session: Session, event: dict) -> bool:
    """Store one broker event; returns True when something new was stored."""
    kind, text = event.get("event"), event.get("text")
    if kind not in ("user", "bot") or not text or not event.get("sender_id"):
        return False
    conversation = _conversation(session, event)
    if conversation is None:
        return False
    metadata = event.get("metadata") or {}
    author = ("customer" if kind == "user" else
              "agent" if metadata.get("source") == "agent" else "bot")
    sent_at = datetime.fromtimestamp(float(event.get("timestamp") or 0), UTC)
    key = _key(event)
    message = ConversationMessage(
        conversation_id=conversation.id, author_kind=author, body=str(text)[:100_000],
        intent=((event.get("parse_data") or {}).get("intent") or {}).get("name"),
        external_id=key, sent_at=sent_at)
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:
        return False  # delivered before
    conversation.last_message_at = max(conversation.last_message_at, sent_at)
    if author == "customer":
        ticket = session.scalar(
            select(Ticket).where(Ticket.conversation_id == conversation.id,
                                 Ticket.status.in_(WITH_A_PERSON))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc()).limit(1))
        if ticket is not None:
            tickets.add_message(session=session, ticket=ticket, principal=BROKER, data={
                "author_kind": AuthorKind.customer, "body": message.body,
                "external_id": key})
    session.flush()
    return True
