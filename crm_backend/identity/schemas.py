from datetime import datetime

from pydantic import BaseModel, EmailStr, Field

from crm_backend.core.schemas import BodyId


class ChannelIdentity(BaseModel):
    """Who is chatting, as the channel knows them (e.g. socketio + session id)."""

    channel: str = Field(min_length=1, max_length=30)
    sender_id: str = Field(min_length=1, max_length=200)


class OrderVerification(BaseModel):
    email: EmailStr
    order_number: str = Field(min_length=1, max_length=30, examples=["ORD-000123"])
    conversation: ChannelIdentity | None = Field(
        None, description="Links the conversation to the customer when verified; failed "
                          "attempts are counted per conversation")


class TokenVerification(BaseModel):
    token: str = Field(min_length=1, max_length=2000)
    conversation: ChannelIdentity | None = None


class VerifiedCustomer(BaseModel):
    id: int
    name: str
    email: str


class VerificationResult(BaseModel):
    verified: bool
    customer: VerifiedCustomer | None = None
    attempts_left: int = Field(description="Failed attempts this conversation may still make "
                                           "before it is locked for a while")


class CustomerTokenRequest(BaseModel):
    customer_id: BodyId
    minutes: int = Field(60, ge=1, le=24 * 60)


class CustomerToken(BaseModel):
    token: str
    expires_at: datetime
