from datetime import date
from decimal import Decimal

from pydantic import BaseModel, Field


class SalesRow(BaseModel):
    period: date = Field(description="First day of the day, week (a Monday) or month, UTC")
    group: str | None = Field(description="Channel or category; null without group_by")
    orders: int
    revenue: Decimal
    average_order_value: Decimal


class SalesReport(BaseModel):
    granularity: str
    group_by: str
    rows: list[SalesRow]


class Durations(BaseModel):
    count: int
    median_hours: float | None
    mean_hours: float | None


class SlaCounts(BaseModel):
    met: int
    breached: int = Field(description="Done after the due time")
    open_overdue: int = Field(description="Not done, ticket still open, due time passed")
    breach_rate: float | None = Field(
        description="(breached + open_overdue) / (met + breached + open_overdue)")


class Csat(BaseModel):
    responses: int
    mean: float | None
    distribution: dict[str, int] = Field(description="Responses per score, '1' to '5'")


class TicketReport(BaseModel):
    total: int
    by_status: dict[str, int]
    by_priority: dict[str, int]
    by_category: dict[str, int]
    by_channel: dict[str, int]
    first_response: Durations = Field(description="Wall-clock hours from creation")
    resolution: Durations = Field(description="Wall-clock hours from creation")
    sla_first_response: SlaCounts
    sla_resolution: SlaCounts
    csat: Csat


class CampaignReport(BaseModel):
    campaign_id: int
    name: str
    channel: str
    treatment: int = Field(description="Treatment contacts (the audience that was targeted)")
    control: int = Field(description="Control contacts (held back)")
    sent: int
    opened: int
    clicked: int
    converted: int = Field(description="Treatment contacts who converted")
    open_rate: float | None = Field(description="opened / sent")
    click_rate: float | None = Field(description="clicked / sent")
    conversion_rate: float | None = Field(description="converted / treatment")
    control_converted: int
    control_conversion_rate: float | None = Field(description="control_converted / control")
    absolute_lift: float | None = Field(description="conversion_rate - control_conversion_rate")
    relative_lift: float | None = Field(description="absolute_lift / control_conversion_rate")
    p_value: float | None = Field(
        description="Two-sided two-proportion z-test of treatment against control conversion")
    revenue: Decimal = Field(description="Revenue of treatment conversions")
    control_revenue: Decimal
    incremental_revenue: Decimal | None = Field(
        description="revenue - control revenue per control contact x treatment")
    cost: Decimal = Field(description="The campaign budget")
    roi: float | None = Field(description="(revenue - cost) / cost; null when cost is 0")
    incremental_roi: float | None = Field(
        description="(incremental_revenue - cost) / cost; null when cost is 0 or no control")
