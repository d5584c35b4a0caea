from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from crm_backend.core.config import get_settings
from crm_backend.core.schemas import Address, BodyId
from crm_backend.orders.flows import allowed_next, return_deadline
from crm_backend.orders.models import OrderStatus, SalesChannel

Money = Decimal


class OrderItemIn(BaseModel):
    sku: str | None = None
    product_id: BodyId | None = None
    quantity: int = Field(ge=1, le=10_000)

    @model_validator(mode="after")
    def _one_reference(self):
        if (self.sku is None) == (self.product_id is None):
            raise ValueError("give exactly one of sku or product_id")
        return self


class OrderCreate(BaseModel):
    customer_id: BodyId
    items: list[OrderItemIn] = Field(min_length=1, max_length=500)
    channel: SalesChannel = SalesChannel.web
    currency: str = Field("EUR", pattern="^[A-Z]{3}$")
    shipping_address: Address | None = Field(
        None, description="Defaults to the customer's address")
    shipping_cost: Decimal = Field(Decimal("0"), ge=0, max_digits=12, decimal_places=2)
    external_ref: str | None = Field(None, max_length=100)


class OrderUpdate(BaseModel):
    shipping_address: Address | None = None
    carrier: str | None = Field(None, max_length=50)
    tracking_number: str | None = Field(None, max_length=100)
    expected_delivery: date | None = None


class Transition(BaseModel):
    to: OrderStatus
    carrier: str | None = Field(None, max_length=50)
    tracking_number: str | None = Field(None, max_length=100)
    expected_delivery: date | None = None
    reason: str | None = Field(None, max_length=500)


class OrderItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: BodyId
    sku: str
    name: str
    quantity: int
    unit_price: Money
    line_total: Money


class OrderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: str
    customer_id: BodyId
    status: OrderStatus
    channel: SalesChannel
    currency: str
    items: list[OrderItemOut]
    subtotal: Money
    shipping_cost: Money
    total: Money
    shipping_address: Address | None
    carrier: str | None
    tracking_number: str | None
    expected_delivery: date | None
    external_ref: str | None
    return_reason: str | None
    placed_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    delivered_at: datetime | None
    cancelled_at: datetime | None
    return_requested_at: datetime | None
    returned_at: datetime | None
    refunded_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int

    @computed_field
    @property
    def allowed_transitions(self) -> list[OrderStatus]:
        return allowed_next(self.status)

    @computed_field
    @property
    def return_deadline(self) -> datetime | None:
        """Last moment a return may be requested; set once the order is delivered."""
        if self.status != OrderStatus.delivered:
            return None
        return return_deadline(self.delivered_at, get_settings().return_window_days)


class InvoiceOut(BaseModel):
    number: str = Field(examples=["INV-000123"])
    order_number: str
    issued_at: datetime
    customer_name: str
    billing_address: Address | None
    currency: str
    lines: list[OrderItemOut]
    subtotal: Money
    shipping_cost: Money
    total: Money
    vat_rate: Decimal
    vat_included: Money
    url: str = Field(description="A signed link to the printable invoice, for the customer; "
                                 "it needs no sign-in and expires")
    url_expires_at: datetime
