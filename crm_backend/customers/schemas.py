from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from crm_backend.core.schemas import Address

Tag = str
PHONE_PATTERN = r"^\+?[0-9 ()./-]{5,40}$"


def _clean_tags(tags: list[str] | None) -> list[str] | None:
    if tags is None:
        return None
    cleaned = sorted({t.strip().lower() for t in tags if t.strip()})
    for t in cleaned:
        if len(t) > 50:
            raise ValueError(f"tag {t[:20]!r}... is longer than 50 characters")
    return cleaned


class CustomerBase(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(None, pattern=PHONE_PATTERN)
    address: Address | None = None
    marketing_consent: bool = False
    tags: list[Tag] = []
    custom_attributes: dict[str, Any] = {}

    _tags = field_validator("tags")(_clean_tags)


class CustomerCreate(CustomerBase):
    email: EmailStr


class CustomerUpdate(BaseModel):
    name: str | None = Field(None, min_length=1, max_length=200)
    email: EmailStr | None = None
    phone: str | None = Field(None, pattern=PHONE_PATTERN)
    address: Address | None = None
    marketing_consent: bool | None = None
    tags: list[Tag] | None = None
    custom_attributes: dict[str, Any] | None = None

    _tags = field_validator("tags")(_clean_tags)


class ScoreOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    name: str
    value: float | None
    label: str | None
    model_version: str
    scored_at: datetime


class CustomerOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    phone: str | None
    address: Address | None
    marketing_consent: bool
    marketing_consent_at: datetime | None
    tags: list[str]
    custom_attributes: dict[str, Any]
    erased_at: datetime | None
    segment: str | None = Field(description="RFM segment, from the latest batch scoring")
    scores: dict[str, float | None] = Field(
        description="Latest scores by name, e.g. churn_risk, clv, campaign_response")
    created_at: datetime
    updated_at: datetime
    version: int
