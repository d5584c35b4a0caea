from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from crm_backend.core.db import Base, Timestamped, Versioned


class CampaignChannel(StrEnum):
    email = "email"
    sms = "sms"
    web = "web"
    chat = "chat"


class Campaign(Timestamped, Versioned, Base):
    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[CampaignChannel] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(String(2000))
    # Audience definition; see campaigns.audience for the filter language.
    audience: Mapped[dict] = mapped_column(default=dict)
    offer_code: Mapped[str | None] = mapped_column(String(50))
    # Public offers may be shown to anyone, including customers the bot has not identified.
    public: Mapped[bool] = mapped_column(default=False)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime | None]
    budget: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    # Share of the audience held back, untreated, so lift can be measured.
    control_fraction: Mapped[float] = mapped_column(default=0.1)


class CampaignContact(Base):
    """One customer in a campaign's audience, treated or held back, and what they did."""

    __tablename__ = "campaign_contacts"
    __table_args__ = (UniqueConstraint("campaign_id", "customer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    is_control: Mapped[bool] = mapped_column(default=False)
    sent_at: Mapped[datetime | None]
    opened_at: Mapped[datetime | None]
    clicked_at: Mapped[datetime | None]
    converted_at: Mapped[datetime | None]
    revenue: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
