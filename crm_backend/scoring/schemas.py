from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from crm_backend.scoring.models import JobStatus, ModelName


class ModelVersionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    version: int
    active: bool
    trained_at: datetime
    activated_at: datetime | None
    training_seconds: float
    data_stats: dict[str, Any]
    params: dict[str, Any]
    metrics: dict[str, Any]


class RollbackIn(BaseModel):
    version: int | None = Field(None, ge=1, le=1_000_000,
                                description="Version to activate; default: the one before "
                                            "the active version")


class JobCreate(BaseModel):
    models: list[ModelName] = Field([], description="Models to train; empty means all")


class JobOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    models: list[str]
    status: JobStatus
    progress: float = Field(description="0 to 1")
    step: str | None
    error: str | None
    result: dict[str, Any]
    created_by: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SegmentSummary(BaseModel):
    segment: str
    description: str | None
    customers: int
    mean_clv: float | None
    total_clv: float | None
    mean_churn_risk: float | None


class AudienceCustomer(BaseModel):
    customer_id: int
    name: str
    email: str
    campaign_response: float | None
    campaign_uplift: float | None


class AudiencePreview(BaseModel):
    campaign_id: int
    ranked_by: str
    eligible: int = Field(description="Customers matching the campaign's audience")
    top_n: int
    expected_responders: float = Field(description="Sum of the response probabilities of "
                                                   "the top N")
    expected_incremental_responders: float
    threshold: float | None = Field(description="Score of the N-th customer")
    audience_filter: dict[str, Any] = Field(
        description="The campaign's audience narrowed to the top N by this score, ready to "
                    "store on the campaign")
    customers: list[AudienceCustomer]


class TriageIn(BaseModel):
    text: str = Field(min_length=1, max_length=100_000)


class TriageOut(BaseModel):
    model_version: str | None
    category: str | None
    priority: str | None
    sentiment: str | None
    confidence: dict[str, float]


class BoughtTogether(BaseModel):
    product_id: int
    sku: str
    name: str
    confidence: float
    lift: float
    support: float


class BoughtTogetherOut(BaseModel):
    product_id: int
    model_version: str | None
    items: list[BoughtTogether]
