from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_backend.core.db import Base, Timestamped, Versioned, utcnow


class Customer(Timestamped, Versioned, Base):
    __tablename__ = "customers"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    # Stored lower-cased, so uniqueness and look-ups ignore case.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    phone: Mapped[str | None] = mapped_column(String(40), index=True)
    address: Mapped[dict | None]
    marketing_consent: Mapped[bool] = mapped_column(default=False)
    marketing_consent_at: Mapped[datetime | None]
    custom_attributes: Mapped[dict] = mapped_column(default=dict)
    erased_at: Mapped[datetime | None]

    tag_rows: Mapped[list["CustomerTag"]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", lazy="selectin",
        order_by="CustomerTag.tag",
    )

    score_rows: Mapped[list["CustomerScore"]] = relationship(
        lazy="selectin", viewonly=True, order_by="CustomerScore.name")

    @property
    def tags(self) -> list[str]:
        return [t.tag for t in self.tag_rows]

    @property
    def segment(self) -> str | None:
        return next((s.label for s in self.score_rows if s.name == "segment"), None)

    @property
    def scores(self) -> dict[str, float | None]:
        return {s.name: s.value for s in self.score_rows if s.name != "segment"}


class CustomerTag(Base):
    """Tags live in their own table so audiences and lists can filter on them in SQL."""

    __tablename__ = "customer_tags"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(50), primary_key=True, index=True)

    customer: Mapped[Customer] = relationship(back_populates="tag_rows")


class CustomerScore(Base):
    """The latest value of one score or segment for one customer, with the model that made it."""

    __tablename__ = "customer_scores"
    __table_args__ = (Index("ix_customer_scores_name_value", "name", "value"),)

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[float | None]
    label: Mapped[str | None] = mapped_column(String(50))
    model_version: Mapped[str] = mapped_column(String(50))
    scored_at: Mapped[datetime] = mapped_column(default=utcnow)
