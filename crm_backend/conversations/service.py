from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crm_backend.conversations.models import Conversation
from crm_backend.core.db import utcnow
from crm_backend.core.errors import NotFound, Unprocessable
from crm_backend.customers.models import Customer


def get(*, session: Session, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(f"No conversation with id {conversation_id}.")
    return conversation


def _find(session: Session, channel: str, sender_id: str) -> Conversation | None:
    return session.scalar(select(Conversation).where(Conversation.channel == channel,
                                                     Conversation.sender_id == sender_id))


def link(*, session: Session, conversation: Conversation, customer_id: int) -> Conversation:
    if session.get(Customer, customer_id) is None:
        raise Unprocessable(f"No customer with id {customer_id}.")
    if conversation.customer_id != customer_id:
        conversation.customer_id = customer_id
        conversation.identified_at = utcnow()
    session.flush()
    return conversation


def touch(*, session: Session, channel: str, sender_id: str,
          customer_id: int | None = None) -> tuple[Conversation, bool]:
    """Find or create the conversation of a channel identity; returns (row, created)."""
    conversation, created = _find(session, channel, sender_id), False
    if conversation is None:
        try:
            with session.begin_nested():
                conversation = Conversation(channel=channel, sender_id=sender_id)
                session.add(conversation)
            created = True
        except IntegrityError:  # created concurrently by another request
            conversation = _find(session, channel, sender_id)
    conversation.last_message_at = utcnow()
    if customer_id is not None:
        link(session=session, conversation=conversation, customer_id=customer_id)
    session.flush()
    return conversation, created
