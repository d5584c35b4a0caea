from pydantic import BaseModel, ConfigDict, Field

from crm_backend.auth.models import Role
from crm_backend.tickets.schemas import MessageOut, TicketOut


class ReplyIn(BaseModel):
    body: str = Field(min_length=1, max_length=10_000)
    internal: bool = Field(False, description="An internal note: stored, never sent to the "
                                              "customer")


class Delivery(BaseModel):
    """What happened on the customer's channel. `delivered` is null when there was nothing to
    send (an internal note, or a ticket without a chat conversation)."""

    delivered: bool | None
    channel: str | None = Field(None, description="The conversation's channel, e.g. socketio")
    error: str | None = None


class ReplyOut(BaseModel):
    message: MessageOut
    delivery: Delivery


class QueueTicket(TicketOut):
    customer_name: str | None = None
    assignee_name: str | None = None


class QueueMessage(MessageOut):
    author_name: str | None = Field(None, description="The agent's name, for agent replies")


class TicketActionOut(BaseModel):
    ticket: QueueTicket
    handback: Delivery = Field(description="Whether the chat was handed back to the assistant")


class AgentOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    full_name: str
    email: str
    role: Role


class CannedResponseOut(BaseModel):
    title: str
    body: str
