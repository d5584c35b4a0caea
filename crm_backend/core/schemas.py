"""Schemas shared across domains."""

from pydantic import BaseModel, ConfigDict, Field


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line1: str = Field(min_length=1, max_length=200)
    line2: str | None = Field(None, max_length=200)
    city: str = Field(min_length=1, max_length=100)
    postal_code: str = Field(min_length=1, max_length=20)
    region: str | None = Field(None, max_length=100)
    country: str = Field(min_length=2, max_length=2, pattern="^[A-Z]{2}$",
                         description="ISO 3166-1 alpha-2 code, e.g. DE")
