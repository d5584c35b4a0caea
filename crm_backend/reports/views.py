from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime
from sqlalchemy import select

from crm_backend.auth.deps import SessionDep, require
from crm_backend.auth.permissions import Permission
from crm_backend.campaigns import service as campaigns
from crm_backend.campaigns.models import Campaign
from crm_backend.core.pagination import Page, Pages, paginate
from crm_backend.core.schemas import PathId
from crm_backend.reports import service
from crm_backend.reports.schemas import CampaignReport, SalesReport, TicketReport

router = APIRouter(prefix="/reports", tags=["reports"])
READ = require(Permission.reports_read)

DateFrom = Annotated[AwareDatetime | date | None, Query(
    description="From this date-time (with time zone), or from the start of this UTC day")]
DateTo = Annotated[AwareDatetime | date | None, Query(
    description="Before this date-time (with time zone), or up to the end of this UTC day")]


@router.get("/sales", response_model=SalesReport, dependencies=[READ])
def sales(session: SessionDep, granularity: Literal["day", "week", "month"] = "day",
          group_by: Literal["none", "channel", "category"] = "none",
          date_from: DateFrom = None, date_to: DateTo = None):
    """Orders and revenue per period (UTC; weeks start on Monday) by when they were placed,
    without cancelled or refunded orders. By category, revenue is the value of the category's
    items (shipping is in no category) and an order counts in each category it contains."""
    return service.sales(session=session, granularity=granularity, group_by=group_by,
                         date_from=date_from, date_to=date_to)


@router.get("/tickets", response_model=TicketReport, dependencies=[READ])
def tickets(session: SessionDep, date_from: DateFrom = None, date_to: DateTo = None):
    """Tickets created in the range: volume, first response and resolution times (wall-clock
    hours), SLA results and CSAT."""
    return service.tickets(session=session, date_from=date_from, date_to=date_to)


@router.get("/campaigns", response_model=Page[CampaignReport], dependencies=[READ])
def campaign_reports(session: SessionDep, params: Pages(
        {"starts_at": Campaign.starts_at, "name": Campaign.name}, ["-starts_at"])):
    """Per campaign: funnel counts and rates, revenue, ROI on the budget, and lift against the
    control group with a two-proportion z-test p-value."""
    page = paginate(session, select(Campaign), params, tiebreaker=Campaign.id)
    # One aggregate query for the whole page.
    page["items"] = service.campaign_stats(session=session, campaigns=page["items"])
    return page


@router.get("/campaigns/{campaign_id}", response_model=CampaignReport, dependencies=[READ])
def campaign_report(campaign_id: PathId, session: SessionDep):
    campaign = campaigns.get(session=session, campaign_id=campaign_id)
    return service.campaign_stats(session=session, campaigns=[campaign])[0]
