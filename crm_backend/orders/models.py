from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_backend.core import numbers
from crm_backend.core.db import Base, Timestamped, Versioned, utcnow

NUMBER_PREFIX = "ORD-"


class OrderStatus(StrEnum):
    pending = "pending"
    paid = "paid"
    shipped = "shipped"
    delivered = "delivered"
    return_requested = "return_requested"
    returned = "returned"
    refunded = "refunded"
    cancelled = "cancelled"


class SalesChannel(StrEnum):
    web = "web"
    mobile = "mobile"
    marketplace = "marketplace"
    phone = "phone"
    chat = "chat"


class Order(Timestamped, Versioned, Base):
    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_customer_id_placed_at", "customer_id", "placed_at"),
        Index("ix_orders_placed_at", "placed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"))
    status: Mapped[OrderStatus] = mapped_column(String(20), default=OrderStatus.pending,
                                                index=True)
    channel: Mapped[SalesChannel] = mapped_column(String(20), default=SalesChannel.web)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    subtotal: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    shipping_cost: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    shipping_address: Mapped[dict | None]
    carrier: Mapped[str | None] = mapped_column(String(50))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    expected_delivery: Mapped[date | None]
    external_ref: Mapped[str | None] = mapped_column(String(100))
    return_reason: Mapped[str | None] = mapped_column(String(500))
    placed_at: Mapped[datetime] = mapped_column(default=utcnow)
    paid_at: Mapped[datetime | None]
    shipped_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    return_requested_at: Mapped[datetime | None]
    returned_at: Mapped[datetime | None]
    refunded_at: Mapped[datetime | None]

    items: Mapped[list["OrderItem"]] = relationship(
        back_populates="order", cascade="all, delete-orphan", lazy="selectin",
        order_by="OrderItem.id",
    )

    @property
    def number(self) -> str:
        return format_number(self.id)


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"),
                                          index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    quantity: Mapped[int]
    unit_price: Mapped[Decimal] = mapped_column(Numeric(12, 2))

    order: Mapped[Order] = relationship(back_populates="items")
    product = relationship("Product", lazy="joined")

    @property
    def sku(self) -> str:
        return self.product.sku

    @property
    def name(self) -> str:
        return self.product.name

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity


def format_number(record_id: int) -> str:
    return numbers.format_number(NUMBER_PREFIX, record_id)


def parse_number(text: str) -> int | None:
    return numbers.parse_number(NUMBER_PREFIX, text)
