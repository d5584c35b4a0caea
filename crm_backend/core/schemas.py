"""Schemas shared across domains."""

from typing import Annotated

from fastapi import Path, Query
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


# Record ids are 32-bit on every backend; larger numbers are refused as invalid input
# instead of overflowing the database driver.
MAX_ID = 2_147_483_647
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
QueryId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]
