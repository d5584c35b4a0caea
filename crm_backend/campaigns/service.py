from datetime import datetime

from sqlalchemy import BigInteger, and_, cast, exists, func, insert, literal, select
from sqlalchemy.orm import Session

from crm_backend.campaigns.audience import audience_condition
from crm_backend.campaigns.models import Campaign, CampaignChannel, CampaignContact
from crm_backend.core.db import utcnow
from crm_backend.core.errors import Conflict, NotFound, Unprocessable
from crm_backend.customers.models import Customer

CONSENT_CHANNELS = {CampaignChannel.email, CampaignChannel.sms}
# Control assignment: a fixed multiplicative hash of (campaign, customer) into 10007 buckets,
# computed in SQL so enrolment stays set-based; the same pair always lands the same way.
HASH_BUCKETS = 10007
PRIOR_STEPS = {"sent": [], "opened": ["sent"], "clicked": ["sent", "opened"], "converted": []}


def get(*, session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"No campaign with id {campaign_id}.")
    return campaign


def _ensure_name_free(session: Session, name: str, except_id: int | None = None) -> None:
    other = session.scalar(select(Campaign).where(Campaign.name == name))
    if other is not None and other.id != except_id:
        raise Conflict(f"A campaign named {name!r} already exists.", campaign_id=other.id)


def create(*, session: Session, data: dict) -> Campaign:
    _ensure_name_free(session, data["name"])
    campaign = Campaign(**data)
    session.add(campaign)
    session.flush()
    return campaign


def update(*, session: Session, campaign: Campaign, changes: dict) -> Campaign:
    if "name" in changes:
        _ensure_name_free(session, changes["name"], campaign.id)
    for key, value in changes.items():
        setattr(campaign, key, value)
    if campaign.ends_at is not None and campaign.ends_at <= campaign.starts_at:
        raise Unprocessable("ends_at must be after starts_at")
    session.flush()
    return campaign


def audience_filter(campaign: Campaign):
    return audience_condition(campaign.audience,
                              needs_consent=CampaignChannel(campaign.channel) in CONSENT_CHANNELS)


def preview(*, session: Session, campaign: Campaign, sample: int = 10) -> dict:
    condition = audience_filter(campaign)
    count = session.scalar(select(func.count()).select_from(Customer).where(condition))
    rows = session.scalars(select(Customer).where(condition).order_by(Customer.id).limit(sample))
    return {"count": count, "sample": list(rows)}


def enrol(*, session: Session, campaign: Campaign) -> dict:
    """Add every matching customer not yet enrolled, as treatment or control."""
    bucket = (cast(Customer.id, BigInteger) * literal(2654435761, BigInteger)
              + campaign.id * 97) % HASH_BUCKETS
    is_control = bucket < int(campaign.control_fraction * HASH_BUCKETS)
    already = exists().where(CampaignContact.campaign_id == campaign.id,
                             CampaignContact.customer_id == Customer.id)
    new = select(literal(campaign.id), Customer.id, is_control, literal(0)).where(
        and_(audience_filter(campaign), ~already))
    before = _split(session, campaign.id)
    session.execute(insert(CampaignContact).from_select(
        ["campaign_id", "customer_id", "is_control", "revenue"], new))
    after = _split(session, campaign.id)
    total_before = sum(before.values())
    return {"enrolled": sum(after.values()) - total_before, "already_enrolled": total_before,
            "treatment": after.get(False, 0), "control": after.get(True, 0)}


def _split(session: Session, campaign_id: int) -> dict[bool, int]:
    return dict(session.execute(
        select(CampaignContact.is_control, func.count())
        .where(CampaignContact.campaign_id == campaign_id)
        .group_by(CampaignContact.is_control)).all())


def record_event(*, session: Session, campaign: Campaign, customer_id: int, kind: str,
                 at: datetime | None, revenue) -> CampaignContact:
    contact = session.scalar(select(CampaignContact).where(
        CampaignContact.campaign_id == campaign.id, CampaignContact.customer_id == customer_id))
    if contact is None:
        raise NotFound(f"Customer {customer_id} is not in campaign {campaign.id}.")
    if contact.is_control and kind != "converted":
        raise Conflict("Control-group customers are not contacted; only conversions are "
                       "recorded for them.", is_control=True)
    at = at or utcnow()
    # Opening implies delivery and clicking implies opening: fill in what the channel missed.
    steps = ([] if contact.is_control else PRIOR_STEPS[kind]) + [kind]
    for step in steps:
        if getattr(contact, f"{step}_at") is None:
            setattr(contact, f"{step}_at", at)
    if kind == "converted" and revenue is not None and not contact.revenue:
        contact.revenue = revenue
    session.flush()
    return contact
