"""Settings for the CRM, read from the environment (prefix CRM_) and an optional .env file."""

from datetime import time
from decimal import Decimal
from functools import lru_cache
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "dev-only-secret-change-me-in-production"


class BusinessHours(BaseSettings):
    """When SLA clocks run. Times are local to `timezone`."""

    model_config = SettingsConfigDict(env_prefix="CRM_BUSINESS_HOURS_")

    timezone: str = "Europe/Berlin"
    start: time = time(9, 0)
    end: time = time(18, 0)
    # ISO weekdays, Monday = 1.
    weekdays: list[int] = [1, 2, 3, 4, 5]


class CannedResponse(BaseModel):
    title: str = Field(min_length=1, max_length=60)
    body: str = Field(min_length=1, max_length=2000)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_", env_file=".env", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        "sqlite:///var/crm.db",
        validation_alias=AliasChoices("CRM_DATABASE_URL", "DATABASE_URL"),
    )
    secret_key: str = DEV_SECRET_KEY
    access_token_minutes: int = 8 * 60
    # bcrypt work factor; tests lower it to keep the suite fast.
    password_hash_rounds: int = 12
    max_body_bytes: int = 1_000_000
    max_import_bytes: int = 50_000_000
    page_size_default: int = 25
    idempotency_ttl_hours: int = 24
    return_window_days: int = 30
    business_hours: BusinessHours = Field(default_factory=BusinessHours)
    # Hours of business time allowed for (first response, resolution) per priority.
    sla_hours: dict[str, tuple[float, float]] = {
        "urgent": (1, 4),
        "high": (2, 8),
        "normal": (4, 24),
        "low": (8, 48),
    }
    cors_origins: list[str] = []
    # Where customers reach this server, for links the assistant sends them (invoices).
    public_url: str = "http://localhost:8000"
    # Prices include VAT at this rate; invoices show the VAT share.
    vat_rate: Decimal = Decimal("0.19")
    invoice_link_minutes: int = 7 * 24 * 60
    # Business minutes an agent needs per escalated chat, for the wait the assistant announces.
    handoff_minutes_per_ticket: float = 5
    # A complaint from a customer whose CLV reaches this percentile of all scored customers
    # goes straight to the agents' escalation queue (and a chat to a person).
    high_value_percentile: float = 0.8
    # Scoring (crm_backend/scoring): churn horizon and holdout period in days; minimum support
    # and confidence of product association rules; retrain-and-score interval of the running
    # app in hours (0 = never; `crm models train` and the API start training by hand).
    scoring_horizon_days: int = 90
    rules_min_support: float = 0.002
    rules_min_confidence: float = 0.1
    scoring_interval_hours: float = 0
    scoring_threads: int = 1
    # The Rasa server: the CRM posts agent replies and hand-backs to its HTTP API
    # (`rasa run --enable-api --auth-token ...`); the web chat page connects to its socket.io
    # channel at `rasa_public_url` (default: the same URL) from the customer's browser.
    rasa_url: str = "http://localhost:5005"
    rasa_public_url: str | None = None
    rasa_token: str | None = None
    rasa_timeout_seconds: float = 5
    # How often each agent console's live stream looks for changed tickets and new messages.
    events_poll_seconds: float = 1.0
    # Canned responses offered in the agent console; {customer_name}, {agent_name} and
    # {ticket_number} are filled in by the console.
    canned_responses: list[CannedResponse] = Field(default_factory=lambda: [
        CannedResponse(title="Greeting", body="Hello {customer_name}, this is {agent_name} "
                       "from customer support. I have your request in front of me."),
        CannedResponse(title="Looking into it", body="Thank you for your patience. I am "
                       "checking this for you right now and will be back in a moment."),
        CannedResponse(title="Need order number", body="Could you tell me the order number "
                       "(it looks like ORD-000123)? It is in your confirmation email."),
        CannedResponse(title="Refund started", body="I have started the refund. It reaches "
                       "your account within 3 to 5 business days."),
        CannedResponse(title="Anything else?", body="Is there anything else I can do for "
                       "you today?"),
        CannedResponse(title="Closing", body="Thank you for contacting us, {customer_name}. "
                       "Your ticket {ticket_number} is resolved; the assistant takes over "
                       "again now."),
    ])

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> "Settings":
        if self.env == "production" and (
            self.secret_key == DEV_SECRET_KEY or len(self.secret_key) < 32
        ):
            raise ValueError(
                "CRM_SECRET_KEY must be set to a random value of at least 32 characters "
                "when CRM_ENV=production (generate one with: openssl rand -hex 32)"
            )
        return self

    @property
    def rasa_browser_url(self) -> str:
        """Where a customer's browser reaches Rasa's socket.io channel."""
        return (self.rasa_public_url or self.rasa_url).rstrip("/")


@lru_cache
def get_settings() -> Settings:
    return Settings()
