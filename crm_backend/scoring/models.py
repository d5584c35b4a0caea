"""The model registry and training jobs.

Every trained model is one `ModelVersion` row: its version, when and how long it trained, what
data it saw, its parameters and held-out metrics, and the fitted object itself (`artifact`, a
pickle written only by this package's own training code). One version per model name is
active; scoring and serving use that one, and staff can roll back to an earlier one.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.db import Base, utcnow


class ModelName(StrEnum):
    churn = "churn"
    clv = "clv"
    segments = "segments"
    clusters = "clusters"
    response = "response"
    triage = "triage"
    associations = "associations"


class ModelVersion(Base):
    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(50), index=True)
    version: Mapped[int]
    active: Mapped[bool] = mapped_column(default=False)
    trained_at: Mapped[datetime] = mapped_column(default=utcnow)
    training_seconds: Mapped[float]
    data_stats: Mapped[dict] = mapped_column(default=dict)
    params: Mapped[dict] = mapped_column(default=dict)
    metrics: Mapped[dict] = mapped_column(default=dict)
    artifact: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    activated_at: Mapped[datetime | None]

    @property
    def tag(self) -> str:
        """What customer_scores.model_version holds, e.g. `churn:3`."""
        return f"{self.name}:{self.version}"


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"


class TrainingJob(Base):
    """One run of training (and batch scoring), started from the API, the CLI or the schedule."""

    __tablename__ = "training_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    models: Mapped[list] = mapped_column(default=list)
    status: Mapped[JobStatus] = mapped_column(String(20), default=JobStatus.queued)
    progress: Mapped[float] = mapped_column(default=0.0)
    step: Mapped[str | None] = mapped_column(String(200))
    error: Mapped[str | None] = mapped_column(String(2000))
    result: Mapped[dict] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(String(100), default="system")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
