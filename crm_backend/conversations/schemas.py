from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from crm_backend.core.schemas import BodyId


class ConversationIn(BaseModel):
    channel: str = Field(min_length=1, max_length=30, pattern=r"^[a-z0-9_]+$",
                         examples=["socketio", "telegram"])
    sender_id: str = Field(min_length=1, max_length=200)
    customer_id: BodyId | None = None


class ConversationLink(BaseModel):
    customer_id: BodyId


class ConversationOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    channel: str
    sender_id: str
    customer_id: int | None
    identified_at: datetime | None
    last_message_at: datetime
    created_at: datetime


class ConversationMessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    conversation_id: int
    author_kind: str = Field(description="customer, bot or agent")
    body: str
    intent: str | None = Field(description="What the assistant understood (customer lines)")
    sent_at: datetime
