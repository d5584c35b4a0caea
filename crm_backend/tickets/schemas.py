from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, computed_field

from crm_backend.core.db import utcnow
from crm_backend.core.schemas import BodyId
from crm_backend.identity.schemas import ChannelIdentity
from crm_backend.tickets.flows import allowed_next
from crm_backend.tickets.models import AuthorKind, Priority, TicketChannel, TicketStatus

CATEGORY_PATTERN = r"^[a-z][a-z0-9_]{0,49}$"


class TranscriptLine(BaseModel):
    author_kind: AuthorKind = Field(description="customer, bot or system")
    body: str = Field(min_length=1, max_length=10_000)
    sent_at: datetime | None = None
    external_id: str | None = Field(
        None, max_length=100, description="Id of the message in its channel, so a line already "
                                          "stored is not stored again")


Transcript = Field([], max_length=500, description="The conversation so far, oldest first; "
                                                    "stored as the ticket's first messages")


class TicketCreate(BaseModel):
    customer_id: BodyId | None = None
    order_id: BodyId | None = None
    conversation_id: BodyId | None = None
    conversation: ChannelIdentity | None = Field(
        None, description="The chat this ticket comes from, instead of conversation_id")
    transcript: list[TranscriptLine] = Transcript
    channel: TicketChannel
    subject: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=100_000,
                             description="Stored as the ticket's first message")
    author_kind: AuthorKind = Field(
        AuthorKind.customer, description="Who wrote the description, e.g. bot for a transcript")
    category: str = Field("general", pattern=CATEGORY_PATTERN,
                          description='"general" lets the triage model choose one')
    priority: Priority | None = Field(
        None, description="Leave out (null) to let the CRM's triage model set it")
    escalate: bool = Field(False, description="Open the ticket as escalated to a human")


class EscalationIn(BaseModel):
    conversation: ChannelIdentity
    customer_id: BodyId | None = Field(None, description="Only once the CRM verified them")
    order_id: BodyId | None = None
    subject: str = Field("Customer asked for a person", min_length=1, max_length=300)
    reason: str = Field(min_length=1, max_length=2000,
                        description="Why the assistant hands over, shown to the agent")
    category: str = Field("human_handoff", pattern=CATEGORY_PATTERN)
    transcript: list[TranscriptLine] = Transcript


class TicketUpdate(BaseModel):
    subject: str | None = Field(None, min_length=1, max_length=300)
    category: str | None = Field(None, pattern=CATEGORY_PATTERN)
    priority: Priority | None = None
    status: TicketStatus | None = None
    assignee_id: BodyId | None = None


class MessageCreate(BaseModel):
    author_kind: AuthorKind
    body: str = Field(min_length=1, max_length=100_000)
    internal: bool = Field(False, description="Internal note: never shown to the customer")
    external_id: str | None = Field(
        None, max_length=100,
        description="Id of the message in its channel; a repeat is stored only once")


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    ticket_id: BodyId
    author_kind: AuthorKind
    author_user_id: int | None
    body: str
    internal: bool
    external_id: str | None
    created_at: datetime


class CsatIn(BaseModel):
    score: int = Field(ge=1, le=5)
    comment: str | None = Field(None, max_length=2000)


class TicketOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    customer_id: int | None
    order_id: int | None
    conversation_id: int | None
    channel: TicketChannel
    subject: str
    category: str
    priority: Priority
    status: TicketStatus
    assignee_id: int | None
    first_response_due_at: datetime | None
    resolution_due_at: datetime | None
    first_responded_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    csat_score: int | None
    csat_comment: str | None
    sentiment: str | None
    escalation_score: float | None = Field(
        description="0-100 from priority, customer value, churn risk and sentiment; the "
                    "`escalation` sort adds SLA breaches")
    created_at: datetime
    updated_at: datetime
    version: int

    @computed_field
    @property
    def allowed_transitions(self) -> list[TicketStatus]:
        return allowed_next(self.status)

    @computed_field
    @property
    def overdue(self) -> bool:
        """An SLA deadline has passed unmet while the ticket is still being worked on."""
        if self.status in (TicketStatus.resolved, TicketStatus.closed):
            return False
        now = utcnow()
        late_reply = (self.first_responded_at is None and self.first_response_due_at is not None
                      and self.first_response_due_at < now)
        late_fix = self.resolution_due_at is not None and self.resolution_due_at < now
        return late_reply or late_fix


class EscalationOut(BaseModel):
    ticket: TicketOut
    created: bool = Field(description="False when the conversation's open ticket was escalated")
    queue_position: int = Field(description="Escalated tickets waiting for an agent, this one "
                                            "included")
    expected_wait_minutes: int
