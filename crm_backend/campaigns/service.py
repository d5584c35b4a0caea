import hashlib
from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    cast,
    exists,
    func,
    insert,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from crm_backend.campaigns.audience import audience_condition
from crm_backend.campaigns.models import Campaign, CampaignChannel, CampaignContact
from crm_backend.core.db import utcnow
from crm_backend.core.errors import Conflict, NotFound, Unprocessable
from crm_backend.customers.models import Customer

CONSENT_CHANNELS = {CampaignChannel.email, CampaignChannel.sms}
# Control assignment hashes (campaign, customer) in SQL, so enrolment stays one INSERT ... SELECT.
# Arithmetic modulo the prime 2^31 - 1 keeps every product within 64-bit integers, so SQLite and
# PostgreSQL compute exactly the same buckets.
HASH_PRIME = 2_147_483_647
# Opening implies delivery and clicking implies opening: fill in what the channel missed.
IMPLIED_STEPS = {"sent": [], "opened": ["sent"], "clicked": ["sent", "opened"], "converted": []}
SAMPLE_SIZE = 10


def get(*, session: Session, campaign_id: int) -> Campaign:
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"No campaign with id {campaign_id}.", campaign_id=campaign_id)
    return campaign


def _ensure_name_free(session: Session, name: str, except_id: int | None = None) -> None:
    other = session.scalar(select(Campaign).where(Campaign.name == name))
    if other is not None and other.id != except_id:
        raise Conflict(f"A campaign named {name!r} already exists.", campaign_id=other.id)


def _has_contacts(session: Session, campaign_id: int) -> bool:
    return bool(session.scalar(select(exists().where(
        CampaignContact.campaign_id == campaign_id))))


def create(*, session: Session, data: dict) -> Campaign:
    _ensure_name_free(session, data["name"])
    campaign = Campaign(**data)
    session.add(campaign)
    session.flush()
    return campaign


def update(*, session: Session, campaign: Campaign, changes: dict) -> Campaign:
    if "name" in changes:
        _ensure_name_free(session, changes["name"], campaign.id)
    if changes.get("channel", campaign.channel) != campaign.channel and _has_contacts(
            session, campaign.id):
        raise Conflict("The channel cannot change once customers are enrolled: they were "
                       "chosen under the current channel's consent rule.")
    for key, value in changes.items():
        setattr(campaign, key, value)
    if campaign.ends_at is not None and campaign.ends_at <= campaign.starts_at:
        raise Unprocessable("ends_at must be after starts_at")
    session.flush()
    return campaign


def audience_filter(campaign: Campaign) -> ColumnElement[bool]:
    return audience_condition(campaign.audience,
                              needs_consent=CampaignChannel(campaign.channel) in CONSENT_CHANNELS)


def preview(*, session: Session, campaign: Campaign) -> dict:
    condition = audience_filter(campaign)
    count = session.scalar(select(func.count()).select_from(Customer).where(condition))
    sample = session.scalars(select(Customer).where(condition).order_by(Customer.id)
                             .limit(SAMPLE_SIZE))
    return {"count": count, "sample": list(sample)}


def _hash_keys(campaign_id: int) -> tuple[int, int, int]:
    """Constants drawn per campaign, so different campaigns hold back unrelated customers."""
    digest = hashlib.sha256(f"campaign-control:{campaign_id}".encode()).digest()
    a, b, c = (int.from_bytes(digest[i:i + 8], "big") for i in (0, 8, 16))
    return 1 + a % (HASH_PRIME - 1), b % HASH_PRIME, c % HASH_PRIME


def control_bucket(campaign_id: int, customer_id):
    """The pair's place in [0, HASH_PRIME): for an int, or a SQL BigInteger expression."""
    a, b, c = _hash_keys(campaign_id)
    x = (customer_id % HASH_PRIME * a + b) % HASH_PRIME
    # Squaring breaks the evenly spaced pattern that consecutive ids would follow otherwise.
    return (x * x + c) % HASH_PRIME


def control_threshold(control_fraction: float) -> int:
    """Buckets below this are control."""
    return round(control_fraction * HASH_PRIME)


def enrol(*, session: Session, campaign: Campaign, customer_id: int | None = None) -> dict:
    """Add every matching customer not yet enrolled (or just `customer_id`, if it matches), as
    treatment or control."""
    is_control = (control_bucket(campaign.id, cast(Customer.id, BigInteger))
                  < control_threshold(campaign.control_fraction))
    enrolled = exists().where(CampaignContact.campaign_id == campaign.id,
                              CampaignContact.customer_id == Customer.id)
    newcomers = (select(literal(campaign.id), Customer.id, is_control)
                 .where(audience_filter(campaign), ~enrolled))
    if customer_id is not None:
        newcomers = newcomers.where(Customer.id == customer_id)
    before = _split(session, campaign.id)
    session.execute(insert(CampaignContact).from_select(
        ["campaign_id", "customer_id", "is_control"], newcomers))
    after = _split(session, campaign.id)
    already = sum(before.values())
    return {"enrolled": sum(after.values()) - already, "already_enrolled": already,
            "treatment": after.get(False, 0), "control": after.get(True, 0)}


def _split(session: Session, campaign_id: int) -> dict[bool, int]:
    return {bool(k): n for k, n in session.execute(
        select(CampaignContact.is_control, func.count())
        .where(CampaignContact.campaign_id == campaign_id)
        .group_by(CampaignContact.is_control))}


def record_event(*, session: Session, campaign: Campaign, customer_id: int, kind: str,
                 at: datetime | None, revenue: Decimal | None) -> CampaignContact:
    """Each event keeps its first time (and a conversion its first revenue); repeats change
    nothing."""
    contact = session.scalar(select(CampaignContact).where(
        CampaignContact.campaign_id == campaign.id, CampaignContact.customer_id == customer_id))
    if contact is None:
        raise NotFound(f"Customer {customer_id} is not in campaign {campaign.id}.",
                       campaign_id=campaign.id, customer_id=customer_id)
    if contact.is_control and kind != "converted":
        raise Conflict("Control-group customers are not contacted; only their conversions are "
                       "recorded.", is_control=True)
    at = at or utcnow()
    if kind == "converted" and contact.converted_at is None and revenue is not None:
        contact.revenue = revenue
    for step in IMPLIED_STEPS[kind] + [kind]:
        if getattr(contact, f"{step}_at") is None:
            setattr(contact, f"{step}_at", at)
    session.flush()
    return contact


OFFER_CHANNELS = (CampaignChannel.chat, CampaignChannel.web)


def _active_offers():
    now = utcnow()
    return (select(Campaign)
            .where(Campaign.channel.in_(OFFER_CHANNELS), Campaign.starts_at <= now,
                   or_(Campaign.ends_at.is_(None), Campaign.ends_at > now))
            .order_by(Campaign.ends_at.is_(None), Campaign.ends_at, Campaign.id))


def show_offers(*, session: Session, customer_id: int | None) -> list[Campaign]:
    """The chat and web offers to show now. Anonymous visitors see public offers only. A known
    customer also sees the campaigns whose audience they match, unless the hash puts them in
    the control group; each offer shown to them is recorded as sent (the impression)."""
    campaigns = list(session.scalars(_active_offers()))
    if customer_id is None:
        return [c for c in campaigns if c.public]
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"No customer with id {customer_id}.", customer_id=customer_id)
    shown = []
    for campaign in campaigns:
        enrol(session=session, campaign=campaign, customer_id=customer_id)
        contact = session.scalar(select(CampaignContact).where(
            CampaignContact.campaign_id == campaign.id,
            CampaignContact.customer_id == customer_id))
        if contact is not None and not contact.is_control:
            record_event(session=session, campaign=campaign, customer_id=customer_id,
                         kind="sent", at=None, revenue=None)
            shown.append(campaign)
        elif contact is None and campaign.public:
            shown.append(campaign)
    return shown
