from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    computed_field,
    model_validator,
)

from crm_backend.campaigns.audience import normalize
from crm_backend.campaigns.models import CampaignChannel
from crm_backend.core.db import utcnow
from crm_backend.core.schemas import BodyId
from crm_backend.customers.schemas import CustomerOut

Audience = Annotated[dict[str, Any], AfterValidator(normalize), Field(
    description='Filter tree, e.g. {"all": [{"field": "tag", "op": "has", "value": "vip"}, '
                '{"field": "orders_count", "op": "gte", "value": 2}]}; {} is everyone. '
                "The language is described in crm_backend/campaigns/audience.py.")]
Money = Annotated[Decimal, Field(ge=0, max_digits=12, decimal_places=2)]
ControlFraction = Annotated[float, Field(ge=0, le=0.5, description=(
    "Share of the audience held back, untreated, to measure lift"))]


class CampaignCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    channel: CampaignChannel
    description: str | None = Field(None, max_length=2000)
    audience: Audience = {}
    offer_code: str | None = Field(None, max_length=50)
    public: bool = False
    starts_at: AwareDatetime
    ends_at: AwareDatetime | None = None
    budget: Money = Decimal("0")
    control_fraction: ControlFraction = 0.1

    @model_validator(mode="after")
    def _ends_after_start(self):
        if self.ends_at is not None and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class CampaignUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    channel: CampaignChannel | None = None
    description: str | None = Field(None, max_length=2000)
    audience: Audience | None = None
    offer_code: str | None = Field(None, max_length=50)
    public: bool | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    budget: Money | None = None
    control_fraction: ControlFraction | None = None

    @model_validator(mode="after")
    def _required_stay_set(self):
        cleared = sorted(f for f in self.model_fields_set - {"description", "offer_code",
                                                             "ends_at"}
                         if getattr(self, f) is None)
        if cleared:
            raise ValueError(f"{', '.join(cleared)} cannot be null")
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
    sample: list[CustomerOut] = Field(description="The first 10 matching customers, by id")


class EnrolResult(BaseModel):
    enrolled: int = Field(description="Contacts added by this call")
    already_enrolled: int = Field(description="Contacts that were in the campaign before")
    treatment: int = Field(description="Treatment contacts in the campaign now")
    control: int = Field(description="Control contacts in the campaign now")


class ContactEvent(BaseModel):
    type: Literal["sent", "opened", "clicked", "converted"]
    at: AwareDatetime | None = Field(None, description="When it happened; default now")
    revenue: Money | None = Field(None, description="Only with `converted`")

    @model_validator(mode="after")
    def _revenue_only_on_conversion(self):
        if self.revenue is not None and self.type != "converted":
            raise ValueError("revenue can only be recorded with a 'converted' event")
        return self


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


class OfferRequest(BaseModel):
    customer_id: BodyId | None = Field(
        None, description="The verified customer; leave out for an anonymous visitor, who "
                          "sees public offers only")


class OfferOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    campaign_id: int = Field(validation_alias="id")
    name: str
    description: str | None
    offer_code: str | None
    ends_at: datetime | None
