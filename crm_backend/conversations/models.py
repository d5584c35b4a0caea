from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.db import Base, Timestamped, utcnow


class Conversation(Timestamped, Base):
    """A channel identity (channel + sender id) and, once verified, the customer behind it."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "sender_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(30))
    sender_id: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    identified_at: Mapped[datetime | None]
    last_message_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConversationMessage(Base):
    """One message of a conversation, as the assistant's event broker reported it: the
    customer's interaction history, whether or not a person was involved."""

    __tablename__ = "conversation_messages"
    # The broker delivers at least once; this key makes storing each event idempotent.
    __table_args__ = (UniqueConstraint("conversation_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    author_kind: Mapped[str] = mapped_column(String(20))  # customer / bot / agent
    body: Mapped[str] = mapped_column(Text)
    intent: Mapped[str | None] = mapped_column(String(100))
    external_id: Mapped[str] = mapped_column(String(100))
    sent_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BrokerCursor(Base):
    """How far the CRM has read a polled event source (the SQL event broker's table). It
    moves in the same transaction as the messages it covers."""

    __tablename__ = "broker_cursors"

    source: Mapped[str] = mapped_column(String(200), primary_key=True)
    position: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
