from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_backend.core import numbers
from crm_backend.core.db import Base, Timestamped, Versioned, utcnow

NUMBER_PREFIX = "TCK-"


class TicketStatus(StrEnum):
    new = "new"
    open = "open"
    pending = "pending"
    escalated = "escalated"
    resolved = "resolved"
    closed = "closed"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class TicketChannel(StrEnum):
    web = "web"
    chat = "chat"
    email = "email"
    phone = "phone"
    telegram = "telegram"
    slack = "slack"
    facebook = "facebook"


class AuthorKind(StrEnum):
    customer = "customer"
    bot = "bot"
    agent = "agent"
    system = "system"


class Ticket(Timestamped, Versioned, Base):
    __tablename__ = "tickets"
    # updated_at: the agent consoles' live stream looks for tickets changed since its cursor.
    __table_args__ = (Index("ix_tickets_status_priority", "status", "priority"),
                      Index("ix_tickets_updated_at", "updated_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id"),
                                                        index=True)
    channel: Mapped[TicketChannel] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(50), default="general", index=True)
    priority: Mapped[Priority] = mapped_column(String(10), default=Priority.normal)
    status: Mapped[TicketStatus] = mapped_column(String(20), default=TicketStatus.new)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    first_response_due_at: Mapped[datetime | None]
    resolution_due_at: Mapped[datetime | None]
    first_responded_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    csat_score: Mapped[int | None]
    csat_comment: Mapped[str | None] = mapped_column(String(2000))
    # Set by triage (scoring.triage): the text's sentiment, and how much the ticket matters
    # (customer value, churn risk, sentiment, priority); higher first.
    sentiment: Mapped[str | None] = mapped_column(String(10))
    escalation_score: Mapped[float | None]

    messages: Mapped[list["TicketMessage"]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", order_by="TicketMessage.id",
        lazy="raise_on_sql",
    )

    @property
    def number(self) -> str:
        return format_number(self.id)


class TicketMessage(Base):
    __tablename__ = "ticket_messages"
    # external_id makes ingestion from channels idempotent: the same event is stored once.
    __table_args__ = (UniqueConstraint("ticket_id", "external_id"),
                      Index("ix_ticket_messages_created_at", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                           index=True)
    author_kind: Mapped[AuthorKind] = mapped_column(String(10))
    author_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(default=False)
    external_id: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")


def format_number(record_id: int) -> str:
    return numbers.format_number(NUMBER_PREFIX, record_id)


def parse_number(text: str) -> int | None:
    return numbers.parse_number(NUMBER_PREFIX, text)
