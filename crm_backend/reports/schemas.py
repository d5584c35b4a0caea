from decimal import Decimal

from pydantic import BaseModel


class SalesRow(BaseModel):
    period: str
    group: str | None
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
    breached: int
    open_overdue: int
    breach_rate: float | None


class Csat(BaseModel):
    responses: int
    mean: float | None
    distribution: dict[str, int]


class TicketReport(BaseModel):
    total: int
    by_status: dict[str, int]
    by_priority: dict[str, int]
    by_category: dict[str, int]
    by_channel: dict[str, int]
    first_response: Durations
    resolution: Durations
    sla_first_response: SlaCounts
    sla_resolution: SlaCounts
    csat: Csat


class CampaignReport(BaseModel):
    campaign_id: int
    name: str
    channel: str
    treatment: int
    control: int
    sent: int
    opened: int
    clicked: int
    converted: int
    open_rate: float | None
    click_rate: float | None
    conversion_rate: float | None
    control_converted: int
    control_conversion_rate: float | None
    absolute_lift: float | None
    relative_lift: float | None
    p_value: float | None
    revenue: Decimal
    control_revenue: Decimal
    incremental_revenue: Decimal | None
    cost: Decimal
    roi: float | None
