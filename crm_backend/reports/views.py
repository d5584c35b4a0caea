from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from sqlalchemy import select

from crm_backend.auth.deps import SessionDep, require
from crm_backend.auth.permissions import Permission
from crm_backend.campaigns import service as campaigns
from crm_backend.campaigns.models import Campaign
from crm_backend.core.pagination import Page, Pages, paginate
from crm_backend.reports import service
from crm_backend.reports.schemas import CampaignReport, SalesReport, TicketReport

router = APIRouter(prefix="/reports", tags=["reports"], dependencies=[
    require(Permission.reports_read)])


@router.get("/sales", response_model=SalesReport)
def sales(session: SessionDep, granularity: Literal["day", "week", "month"] = "day",
          group_by: Literal["none", "channel", "category"] = "none",
          date_from: datetime | None = None, date_to: datetime | None = None):
    """Orders and revenue per period (weeks start on Monday), without cancelled or refunded
    orders. By category, revenue is the item value (shipping is not in any category)."""
    return service.sales(session=session, granularity=granularity, group_by=group_by,
                         date_from=date_from, date_to=date_to)


@router.get("/tickets", response_model=TicketReport)
def tickets(session: SessionDep, date_from: datetime | None = None,
            date_to: datetime | None = None):
    """Tickets created in the range: volume, response and resolution times (wall-clock
    hours), SLA results and CSAT."""
    return service.tickets(session=session, date_from=date_from, date_to=date_to)


@router.get("/campaigns", response_model=Page[CampaignReport])
def campaign_reports(session: SessionDep, params: Pages(
        {"starts_at": Campaign.starts_at, "name": Campaign.name}, ["-starts_at"])):
    """Per campaign: funnel rates, revenue, lift against the control group (with a
    two-proportion z-test p-value) and ROI. ROI uses the incremental revenue over the control
    group when there is one, else all attributed revenue; cost is the budget."""
    page = paginate(session, select(Campaign), params, tiebreaker=Campaign.id)
    page["items"] = service.campaign_stats(session=session, campaigns=page["items"])
    return page


@router.get("/campaigns/{campaign_id}", response_model=CampaignReport)
def campaign_report(campaign_id: int, session: SessionDep):
    campaign = campaigns.get(session=session, campaign_id=campaign_id)
    return service.campaign_stats(session=session, campaigns=[campaign])[0]
