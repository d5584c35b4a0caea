from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from crm_backend.campaigns.audience import compile_audience
from crm_backend.campaigns.models import CampaignChannel
from crm_backend.core.db import utcnow
from crm_backend.customers.schemas import CustomerOut


class CampaignBase(BaseModel):
    description: str | None = Field(None, max_length=2000)
    audience: dict[str, Any] = Field(
        default_factory=dict, description="Filter tree; see campaigns/audience.py")
    offer_code: str | None = Field(None, max_length=50)
    public: bool = False
    ends_at: datetime | None = None
    budget: Decimal = Field(Decimal("0"), ge=0, max_digits=12, decimal_places=2)
    control_fraction: float = Field(0.1, ge=0, le=0.5)


class CampaignCreate(CampaignBase):
    name: str = Field(min_length=1, max_length=200)
    channel: CampaignChannel
    starts_at: datetime

    @model_validator(mode="after")
    def _check(self):
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        compile_audience(self.audience)
        return self


class CampaignUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, max_length=2000)
    audience: dict[str, Any] | None = None
    offer_code: str | None = Field(None, max_length=50)
    public: bool | None = None
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    budget: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)
    control_fraction: float | None = Field(None, ge=0, le=0.5)

    @model_validator(mode="after")
    def _check(self):
        if self.audience is not None:
            compile_audience(self.audience)
        return self


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    channel: CampaignChannel
    description: str | None
    audience: dict[str, Any]
    offer_code: str | None
    public: bool
    starts_at: datetime
    ends_at: datetime | None
    budget: Decimal
    control_fraction: float
    created_at: datetime
    updated_at: datetime
    version: int

    @computed_field
    @property
    def active(self) -> bool:
        now = utcnow()
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


class AudiencePreview(BaseModel):
    count: int
    sample: list[CustomerOut]


class EnrolResult(BaseModel):
    enrolled: int = Field(description="Contacts added by this call")
    already_enrolled: int
    treatment: int
    control: int


class ContactEvent(BaseModel):
    type: Literal["sent", "opened", "clicked", "converted"]
    at: datetime | None = None
    revenue: Decimal | None = Field(None, ge=0, max_digits=12, decimal_places=2)


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    customer_id: int
    is_control: bool
    sent_at: datetime | None
    opened_at: datetime | None
    clicked_at: datetime | None
    converted_at: datetime | None
    revenue: Decimal
