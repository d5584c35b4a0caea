from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy import or_, select

from crm_backend.auth.deps import SessionDep, require
from crm_backend.auth.permissions import Permission
from crm_backend.campaigns import service
from crm_backend.campaigns.models import Campaign, CampaignChannel, CampaignContact
from crm_backend.campaigns.schemas import (
    AudiencePreview,
    CampaignCreate,
    CampaignOut,
    CampaignUpdate,
    ContactEvent,
    ContactOut,
    EnrolResult,
    OfferOut,
    OfferRequest,
)
from crm_backend.core.concurrency import IfMatch, check_if_match, set_etag
from crm_backend.core.db import utcnow
from crm_backend.core.pagination import Page, Pages, paginate
from crm_backend.core.schemas import PathId

router = APIRouter(prefix="/campaigns", tags=["campaigns"])
READ = require(Permission.campaigns_read)
WRITE = require(Permission.campaigns_write)


@router.get("", response_model=Page[CampaignOut], dependencies=[READ])
def list_campaigns(
    session: SessionDep,
    params: Pages({"name": Campaign.name, "starts_at": Campaign.starts_at,
                   "created_at": Campaign.created_at}, ["-starts_at"]),
    channel: CampaignChannel | None = None,
    public: bool | None = None,
    active: Annotated[bool | None, Query(description="Running now")] = None,
):
    stmt = select(Campaign)
    if active is not None:
        now = utcnow()
        running = (Campaign.starts_at <= now) & or_(Campaign.ends_at.is_(None),
                                                    Campaign.ends_at > now)
        stmt = stmt.where(running if active else ~running)
    return paginate(session, stmt, params, tiebreaker=Campaign.id,
                    filters={Campaign.channel: channel, Campaign.public: public})


@router.post("", response_model=CampaignOut, status_code=201, dependencies=[WRITE])
def create_campaign(body: CampaignCreate, session: SessionDep, response: Response):
    campaign = service.create(session=session, data=body.model_dump())
    session.commit()
    set_etag(response, campaign)
    return campaign


@router.get("/{campaign_id}", response_model=CampaignOut, dependencies=[READ])
def get_campaign(campaign_id: PathId, session: SessionDep, response: Response):
    campaign = service.get(session=session, campaign_id=campaign_id)
    set_etag(response, campaign)
    return campaign


@router.patch("/{campaign_id}", response_model=CampaignOut, dependencies=[WRITE])
def update_campaign(campaign_id: PathId, body: CampaignUpdate, session: SessionDep,
                    response: Response, if_match: IfMatch = None):
    campaign = service.get(session=session, campaign_id=campaign_id)
    check_if_match(campaign, if_match)
    service.update(session=session, campaign=campaign,
                   changes=body.model_dump(exclude_unset=True))
    session.commit()
    set_etag(response, campaign)
    return campaign


@router.get("/{campaign_id}/audience/preview", response_model=AudiencePreview,
            dependencies=[READ])
def preview_audience(campaign_id: PathId, session: SessionDep):
    return service.preview(session=session,
                           campaign=service.get(session=session, campaign_id=campaign_id))


@router.post("/{campaign_id}/enrol", response_model=EnrolResult, dependencies=[WRITE])
def enrol(campaign_id: PathId, session: SessionDep):
    """Add the matching customers not yet enrolled; running it again adds only newcomers."""
    result = service.enrol(session=session,
                           campaign=service.get(session=session, campaign_id=campaign_id))
    session.commit()
    return result


@router.get("/{campaign_id}/contacts", response_model=Page[ContactOut], dependencies=[READ])
def list_contacts(campaign_id: PathId, session: SessionDep,
                  params: Pages({"customer_id": CampaignContact.customer_id,
                                 "revenue": CampaignContact.revenue}, ["customer_id"]),
                  is_control: bool | None = None, converted: bool | None = None):
    service.get(session=session, campaign_id=campaign_id)
    stmt = select(CampaignContact).where(CampaignContact.campaign_id == campaign_id)
    if converted is not None:
        stmt = stmt.where(CampaignContact.converted_at.is_not(None) if converted
                          else CampaignContact.converted_at.is_(None))
    return paginate(session, stmt, params, tiebreaker=CampaignContact.id,
                    filters={CampaignContact.is_control: is_control})


@router.post("/{campaign_id}/contacts/{customer_id}/events", response_model=ContactOut,
             dependencies=[WRITE])
def record_event(campaign_id: PathId, customer_id: PathId, body: ContactEvent, session: SessionDep):
    """Record what a contact did. Each event keeps its first time; repeats change nothing."""
    contact = service.record_event(
        session=session, campaign=service.get(session=session, campaign_id=campaign_id),
        customer_id=customer_id, kind=body.type, at=body.at, revenue=body.revenue)
    session.commit()
    return contact


offers_router = APIRouter(prefix="/offers", tags=["campaigns"])


@offers_router.post("/show", response_model=list[OfferOut],
                    dependencies=[require(Permission.offers_show)])
def show_offers(body: OfferRequest, session: SessionDep):
    """Pick the chat offers for a visitor and record each one shown as an impression."""
    offers = service.show_offers(session=session, customer_id=body.customer_id)
    session.commit()
    return offers
